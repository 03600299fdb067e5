"""Stage entry points without the network: Check, cell formatting, the client factory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mltakedown.book.ports import BookSettings, InputRow, LogEntry, Outcome, Result, SnapshotRow
from mltakedown.codes import Code
from mltakedown.engine.model import LiveRow, Op, PlannedRow, PlannedWrite
from mltakedown.engine.ops import check, live_values, planned_action, read_live

from .engine_fakes import FakeApi, item


@dataclass
class Book:
    folder: Path
    rows: list[InputRow]
    settings: BookSettings = field(default_factory=lambda: BookSettings(seller_id=1001))
    outcomes: list[Outcome] = field(default_factory=list)
    saved: bool = False

    @property
    def path(self) -> Path:
        return self.folder / "b.xlsx"

    @property
    def language(self) -> str:
        return "en"

    def read_rows(self) -> list[InputRow]:
        return self.rows

    def read_settings(self) -> BookSettings:
        return self.settings

    def write_outcomes(self, outcomes: Sequence[Outcome], *, stage: str) -> None:
        self.outcomes.extend(outcomes)

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        pass

    def write_snapshots(self, snapshots: Sequence[SnapshotRow]) -> None:
        pass

    def save(self) -> None:
        self.saved = True


def test_check_stage_writes_one_outcome_per_row(tmp_path: Path) -> None:
    book = Book(
        tmp_path,
        [
            InputRow(5, {"identifier": "MLM1234567890", "action": "PAUSE", "reason": "TRO"}),
            InputRow(6, {"identifier": "", "action": "PAUSE"}),
        ],
    )
    report = check(book)
    assert [o.row_number for o in book.outcomes] == [5, 6]
    assert book.outcomes[1].result is Result.BLOCKED
    assert report.stage == "check" and report.requests == 0 and report.blocked == 1
    assert book.saved


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
