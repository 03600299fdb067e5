"""Stage entry points without the network: Check, cell formatting, the client factory."""

from __future__ import annotations

from pathlib import Path

from mltakedown.book.memory import MemoryWorkbook
from mltakedown.book.ports import BookSettings, InputRow, Result
from mltakedown.codes import Code
from mltakedown.engine.model import LiveRow, Op, PlannedRow, PlannedWrite
from mltakedown.engine.ops import check, live_values, planned_action, read_live

from .engine_fakes import FakeApi, item


def book_of(folder: Path, rows: list[InputRow]) -> MemoryWorkbook:
    """An in-memory workbook of seller 1001 in ``folder``."""
    return MemoryWorkbook(folder / "b.xlsx", rows, BookSettings(seller_id=1001))


def test_check_stage_writes_one_outcome_per_row(tmp_path: Path) -> None:
    book = book_of(
        tmp_path,
        [
            InputRow(5, {"identifier": "MLM1234567890", "action": "PAUSE", "reason": "TRO"}),
            InputRow(6, {"identifier": "", "action": "PAUSE"}),
        ],
    )
    report = check(book)
    # One write of both rows, in sheet order.
    assert book.stages == ["check"] and list(book.outcomes) == [5, 6]
    assert book.outcomes[6].result is Result.BLOCKED
    assert report.stage == "check" and report.requests == 0 and report.blocked == 1
    assert book.saves


async def test_check_blocked_and_ignored_rows_are_not_read(tmp_path: Path) -> None:
    api = FakeApi().add(item("MLM1234567890"))
    rows = [
        InputRow(5, {"identifier": "MLM1234567890", "action": "PAUSE", "reason": "TRO"}),
        InputRow(6, {"identifier": "MLM1234567890", "action": "IGNORE"}),
        InputRow(7, {"identifier": "", "action": "PAUSE", "reason": "TRO"}),
    ]
    read = await read_live(rows, BookSettings(seller_id=1001), api)
    assert set(read.live) == {5}
    assert read.live[5].codes == [Code.FOUND]


async def test_account_mismatch_sends_nothing_after_users_me(tmp_path: Path) -> None:
    api = FakeApi(user_id=2002).add(item("MLM1234567890"))
    rows = [InputRow(5, {"identifier": "MLM1234567890", "action": "PAUSE", "reason": "TRO"})]
    read = await read_live(rows, BookSettings(seller_id=1001), api)
    assert api.calls == {"me": 1}
    assert read.live[5].codes == [Code.ACCOUNT_MISMATCH] and not read.account_ok


def test_live_values_show_meanings_and_variation_stock() -> None:
    live = LiveRow(
        row_number=5,
        item_id="MLM1",
        status="paused",
        sub_status=["paused_by_seller"],
        is_full=True,
        variation_id=7,
        variation_quantity=3,
        available_quantity=10,
        ad_status="active",
        ad_group_id="AG1",
        related_item_ids=["MLM2"],
    )
    values = live_values(live, "en")
    assert values["sub_status"] == "paused_by_seller: paused (paused by the seller)"
    assert values["available_qty"] == 3 and values["variation_id"] == "7"
    assert values["full"] == "FULL" and values["ad_status"] == "active (AG1)"
    assert values["catalog"] == "classic ↔ MLM2"


def test_planned_action_cell() -> None:
    row = PlannedRow(
        row_number=5,
        action="PAUSE",
        writes=[
            PlannedWrite(op=Op.PAUSE, item_id="MLM1"),
            PlannedWrite(op=Op.PAUSE_AD, item_id="MLM1", ad_group_id="AG1"),
        ],
    )
    assert planned_action(row) == "pause + pause_ad AG1"
    assert planned_action(PlannedRow(row_number=6, action="RESTORE")) == "restore"
    assert planned_action(PlannedRow(row_number=7, action="PAUSE")) == "—"
