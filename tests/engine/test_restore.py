"""Restore against the sandbox: only what the tool took down, with the reasons it refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mltakedown.book.ports import InputRow, Result
from mltakedown.codes import Code
from mltakedown.engine import run
from mltakedown.engine.journal import read_journal, state_dir
from mltakedown.sandbox.seed import TRICKY

from .exec_support import (
    MemoryBook,
    close_book,
    input_row,
    make_book,
    plan_and_execute,
    plan_for,
    sandbox_client,
    yes,
)

T = TRICKY


def _mark_restore(book: MemoryBook) -> None:
    book.rows = [
        InputRow(r.row_number, {**r.values, "action": "恢复"}, r.formulas, r.outputs) for r in book.rows
    ]


async def test_paused_listings_come_back_once_and_only_ours(tmp_path: Path) -> None:
    ours, never_touched = T["active_mlm"], T["paused_by_seller"]
    book = make_book(tmp_path, [(ours, "PAUSE"), (T["active_mlb"], "PAUSE")])
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        book.rows.append(input_row(4, never_touched, "PAUSE"))
        _mark_restore(book)
        counts: list[dict[str, int]] = []

        def confirm(shown: dict[str, int]) -> bool:
            counts.append(shown)
            return True

        report = await run.restore(book, h.api, confirm=confirm, calls=h.calls)
        assert counts == [{"activate": 2, "restore_not_ours": 1}]
        assert h.world.items[ours]["status"] == "active"
        assert h.world.items[never_touched]["status"] == "paused"
        assert not h.world.writes_for(never_touched)
        writes = len(h.world.writes)
        again = await run.restore(book, h.api, confirm=yes, calls=h.calls)
        assert len(h.world.writes) == writes  # nothing is restored twice
    assert report.code_counts == {Code.RESTORED.value: 2, Code.RESTORE_NOT_OURS.value: 1}
    assert again.code_counts == report.code_counts
    assert book.outcomes[2].values["status_after"] == "active"
    assert book.outcomes[4].result is Result.BLOCKED


async def test_moderated_and_stock_less_listings_are_refused_with_the_reason(tmp_path: Path) -> None:
    moderated, empty = T["active_mla"], T["active_mlc"]
    book = make_book(tmp_path, [(moderated, "PAUSE"), (empty, "PAUSE")])
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        # Meanwhile Mercado Libre moderates one listing, and the other sells out.
        h.world.items[moderated]["sub_status"] = ["moderation_penalty"]
        h.world.items[moderated]["tags"].append("moderation_penalty")
        h.world.items[empty]["available_quantity"] = 0
        writes = len(h.world.writes)
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        assert len(h.world.writes) == writes
    assert book.outcomes[2].code == Code.RESTORE_MODERATED.value
    assert moderated in book.outcomes[2].message
    assert book.outcomes[3].code == Code.RESTORE_NO_STOCK.value
    assert "add stock" in book.outcomes[3].message


async def test_a_variation_gets_its_snapshot_stock_back(tmp_path: Path) -> None:
    item_id = T["multi_variation"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        before = {v["id"]: v["available_quantity"] for v in h.world.items[item_id]["variations"]}
        target = next(iter(before))
        plan = await plan_for(h.api, book, variations={2: target})
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert h.world.items[item_id]["variations"][0]["available_quantity"] == 0
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        after = {v["id"]: v["available_quantity"] for v in h.world.items[item_id]["variations"]}
    assert after == before
    assert book.outcomes[2].code == Code.RESTORED.value


async def test_the_ad_group_goes_back_to_what_it_was(tmp_path: Path) -> None:
    item_id = T["active_ad_item"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        group = next(g for g in h.world.ad_groups.values() if item_id in g["item_ids"])
        plan = await plan_for(h.api, book, ads={item_id: {"id": group["id"], "status": "active"}})
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert group["status"] == "paused"
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        assert h.world.ad_groups[group["id"]]["status"] == "active"
        assert h.world.items[item_id]["status"] == "active"
    assert book.outcomes[2].code == Code.RESTORED.value


async def test_a_closed_listing_is_relisted_with_a_new_id_on_the_row(tmp_path: Path) -> None:
    item_id = T["active_mco"]
    book = close_book(tmp_path, item_id)
    async with sandbox_client() as h:
        price = h.world.items[item_id]["price"]
        await plan_and_execute(h, book)
        assert h.world.items[item_id]["status"] == "closed"
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        new_id = str(book.outcomes[2].values["new_item_id"])
        assert new_id and new_id != item_id
        relisted = h.world.items[new_id]
        assert relisted["parent_item_id"] == item_id and relisted["price"] == price
        assert relisted["status"] == "active"
        relists = [w for w in h.world.writes if w.path.endswith("/relist")]
        await run.restore(book, h.api, confirm=yes, calls=h.calls)  # a second restore relists nothing
        assert [w for w in h.world.writes if w.path.endswith("/relist")] == relists
    assert book.outcomes[2].code == Code.RELISTED.value
    assert item_id in book.outcomes[2].message and new_id in book.outcomes[2].message
    outcomes = [
        e for e in read_journal(state_dir(book.path) / "journal.jsonl").entries if e.get("new_item_id")
    ]
    assert outcomes and outcomes[0]["item_id"] == item_id and outcomes[0]["new_item_id"] == new_id


async def test_a_listing_closed_more_than_60_days_ago_is_not_relisted(tmp_path: Path) -> None:
    item_id = T["active_mlb"]
    book = close_book(tmp_path, item_id)
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        _mark_restore(book)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=61)
        await run.restore(book, h.api, confirm=yes, calls=h.calls, now=later)
        assert not [w for w in h.world.writes if w.path.endswith("/relist")]
    assert book.outcomes[2].code == Code.RELIST_WINDOW_PASSED.value


async def test_two_rows_naming_one_item_restore_it_once(tmp_path: Path) -> None:
    item_id = T["active_mlm"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        book.rows.append(input_row(3, item_id.lower(), "RESTORE"))
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        assert len(h.ok_writes(item_id)) == 2  # the pause and one activation
    assert book.outcomes[2].code == Code.RESTORED.value
    assert book.outcomes[3].code == Code.DUPLICATE_ROW.value and "row 2" in book.outcomes[3].message
