"""What the report takes from the journal and the snapshots rather than from the workbook's cells.

Plan → Execute against the sandbox (loopback HTTP), then the user edits the workbook: the report
of that Execute run still names what the run did, the seller's nickname recorded at
``run_start``, and the appeal evidence Plan saved.
"""

from __future__ import annotations

import json
from pathlib import Path

from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.engine.journal import JOURNAL_NAME, state_dir
from mltakedown.engine.snapshots import EVIDENCE_DIR, SnapshotStore, load_snapshot
from mltakedown.report.appeal import build_appeal_packs
from mltakedown.report.collect import collect_run
from mltakedown.report.output import write_documents
from mltakedown.sandbox import World
from mltakedown.sandbox.seed import SELLER_A, TRICKY

from .report_pdftools import pdf_text
from .report_sandbox import plan_and_execute, sandbox_book, set_actions

T = TRICKY
REFERENCE = "TRO-2026-0990"
ROWS = [
    (T["active_mlm"], "PAUSE", REFERENCE),
    (T["under_review_held"], "PAUSE", REFERENCE),
    (T["active_mco"], "PAUSE", REFERENCE),
]
"""Rows 1 and 3 are paused; row 2 is blocked (platform-controlled)."""


def _book(tmp_path: Path) -> Path:
    return sandbox_book(tmp_path / "book.xlsx", ROWS, lang="en", reason="IP complaint")


async def test_report_takes_the_action_the_run_took_not_the_edited_cell(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = _book(tmp_path)
    await plan_and_execute(served[0], path)
    # The user marks the paused listing and the blocked one for RESTORE afterwards.
    set_actions(path, {0: "RESTORE", 1: "RESTORE"})

    record = collect_run(path)
    by_item = {row.item_id: row for row in record.rows}
    paused = by_item[T["active_mlm"]]
    assert paused.was_written and paused.action == "PAUSE"
    assert by_item[T["active_mco"]].action == "PAUSE"
    # No write of this run on the blocked row: the cell is all there is.
    assert by_item[T["under_review_held"]].action == "RESTORE"

    files = write_documents(record, tmp_path / "docs", ["en"], workbook=path)
    letter = next(p for p in files.confirmations if REFERENCE in p.name)
    text = pdf_text(letter)
    assert text.count("Paused") == 2
    assert text.count("Restored") == 1  # only the blocked row, whose cell is the only source


async def test_run_start_records_the_account_and_the_report_names_the_seller(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = _book(tmp_path)
    ran = await plan_and_execute(served[0], path)
    assert ran.nickname

    journal = state_dir(path) / JOURNAL_NAME
    starts = [e for e in map(json.loads, journal.read_text().splitlines()) if e["type"] == "run_start"]
    assert len(starts) == 1
    start = starts[0]
    assert start["seller_id"] == SELLER_A and start["nickname"] == ran.nickname
    # A token given directly names no login: the workbook's alias is recorded; no pace to record.
    assert start["account_alias"] == XlsxWorkbook.open(path).read_settings().account_alias
    assert start["rate"] is None

    record = collect_run(path)
    assert record.nickname == ran.nickname and record.seller_id == SELLER_A


async def test_plan_saves_the_appeal_evidence_the_pack_uses(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = _book(tmp_path)
    ran = await plan_and_execute(served[0], path)

    evidence = SnapshotStore(state_dir(path), "reader", area=EVIDENCE_DIR)
    store = SnapshotStore(state_dir(path), "reader")
    held = evidence.find(T["under_review_held"])
    assert held is not None and held.parent.name == ran.plan_run_id
    # Evidence is kept apart: what Restore reads (snapshots/) holds only pre-write states.
    assert store.find(T["under_review_held"]) is None
    snapshot = load_snapshot(held)
    assert snapshot.run_id == ran.plan_run_id and snapshot.key["status"] != "active"
    # Plan snapshots only the blocked listing; the paused one was snapshotted by Execute.
    paused = store.find(T["active_mlm"])
    assert paused is not None and paused.parent.name != ran.plan_run_id

    packs = build_appeal_packs(collect_run(path), "en", workbook=path)
    pack = next(p for p in packs if p.row.item_id == T["under_review_held"])
    assert pack.snapshot is not None and pack.snapshot.path == held and not pack.snapshot_problem
