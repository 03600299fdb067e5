"""The confirmation of a run states that run's facts, from its journal, whatever the cells show now.

Every later run rewrites the rows it touches (Restore rewrites the rows it restores), so a
report of an earlier run must not take the status before/after, the times or the request IDs of
a later run from the cells. A row the cells show as done with no write of the reported run
behind it is never reported as done.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from mltakedown import codes
from mltakedown.book import layout as L
from mltakedown.book.ports import Result
from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.codes import Code
from mltakedown.engine import ops, run
from mltakedown.engine.calls import CallLog
from mltakedown.engine.journal import JOURNAL_NAME, Journal, state_dir, write_id
from mltakedown.engine.model import Op
from mltakedown.meli import ClientConfig, MeliClient, RateLimiter
from mltakedown.report.collect import _sub_status, collect_run
from mltakedown.report.confirmation import build_confirmations, localised_message
from mltakedown.report.model import ReportRow, RunRecord
from mltakedown.report.output import make_report
from mltakedown.report.record import verify_record
from mltakedown.sandbox import World
from mltakedown.sandbox.seed import TOKEN_A, TRICKY

from .report_sandbox import plan_and_execute, sandbox_book, set_actions

T = TRICKY
REFERENCE = "TRO-2026-0777"
ROWS = [
    (T["active_mlm"], "PAUSE", REFERENCE),
    (T["under_review_held"], "PAUSE", REFERENCE),
    (T["active_mco"], "PAUSE", REFERENCE),
]


def _journal(path: Path) -> list[dict[str, Any]]:
    text = (state_dir(path) / JOURNAL_NAME).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _runs(path: Path, stage: str) -> list[str]:
    return [e["run_id"] for e in _journal(path) if e["type"] == "run_start" and e["stage"] == stage]


async def _restore(url: str, path: Path) -> None:
    calls = CallLog()
    config = ClientConfig(api_url=url, rate=50.0)
    async with MeliClient(config, tokens=TOKEN_A, on_call=calls, rate=RateLimiter(math.inf)) as api:
        await run.restore(XlsxWorkbook.open(path), api, confirm=lambda counts: True, calls=calls)


def _item_outcome(path: Path, run_id: str, item_id: str) -> dict[str, Any]:
    """The outcome of the run's listing write (not its ad write) on ``item_id``."""
    entries = _journal(path)
    [intent] = [
        e
        for e in entries
        if e["type"] == "intent"
        and e["run_id"] == run_id
        and e["item_id"] == item_id
        and e["op"] not in ("pause_ad", "restore_ad")
    ]
    [outcome] = [e for e in entries if e["type"] == "outcome" and e["write_id"] == intent["write_id"]]
    return outcome


async def test_execute_report_after_restore_states_the_execute_runs_facts(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = sandbox_book(tmp_path / "book.xlsx", ROWS, lang="en", reason="IP complaint")
    await plan_and_execute(served[0], path)
    set_actions(path, {0: "RESTORE"})
    await _restore(served[0], path)
    [execute_id], [restore_id] = _runs(path, "execute"), _runs(path, "restore")
    paused = _item_outcome(path, execute_id, T["active_mlm"])
    restored = _item_outcome(path, restore_id, T["active_mlm"])

    # The execute run: the pause, from active to paused, at the pause's time, with its request IDs.
    record = collect_run(path, execute_id)
    row = next(r for r in record.rows if r.item_id == T["active_mlm"])
    assert row.was_written and row.action == "PAUSE"
    assert (row.status_before, row.status_after, row.verified_status) == ("active", "paused", "paused")
    assert row.done_at_utc is not None and row.done_at_utc.isoformat().startswith(paused["at"][:19])
    assert paused["request_id"] in row.request_ids
    assert restored["request_id"] not in row.request_ids
    execute_ids = {e.get("request_id") for e in _journal(path) if e.get("run_id") == execute_id}
    assert set(row.request_ids) <= execute_ids
    assert row.code == "X300" and row.result is Result.OK

    # The restore run: from paused back to active, with the restore's request ID only.
    record = collect_run(path, restore_id)
    row = next(r for r in record.rows if r.item_id == T["active_mlm"])
    assert row.was_written and row.action == "RESTORE"
    assert (row.status_before, row.status_after) == ("paused", "active")
    assert restored["request_id"] in row.request_ids and paused["request_id"] not in row.request_ids
    # The restore covered the RESTORE row only: the listing Execute paused and Restore left
    # alone is neither "restored" nor "not done" in the restore's confirmation.
    assert [r.item_id for r in record.rows] == [T["active_mlm"]]
    [document] = build_confirmations(record, "en")
    assert T["active_mco"] not in "\n".join(document.texts())

    [document] = build_confirmations(collect_run(path, execute_id), "en")
    text = "\n".join(document.texts())
    assert restored["request_id"] not in text


def _set_cells(path: Path, offset: int, values: dict[str, object]) -> None:
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    keys = L.header_keys()
    col = {keys[L.normalise_header(c.value)]: c.column for c in ws[L.HEADER_ROW] if c.value}
    for key, value in values.items():
        ws.cell(L.FIRST_DATA_ROW + offset, col[key], value)
    wb.save(path)


async def test_a_blocked_row_the_cells_show_as_done_is_not_confirmed(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = sandbox_book(tmp_path / "book.xlsx", ROWS, lang="en", reason="IP complaint")
    await plan_and_execute(served[0], path)
    # The cells of the blocked row now say OK (a later run's write-back, or a hand edit).
    _set_cells(
        path,
        1,
        {"result": "OK", "code": "X300", "status_after": "paused", "request_id": "forged-request-id"},
    )
    record = collect_run(path)
    row = next(r for r in record.rows if r.item_id == T["under_review_held"])
    assert not row.was_written and row.result is not Result.OK
    [document] = build_confirmations(record, "en")
    done = document.sections[2]
    assert all(T["under_review_held"] not in entry.heading for entry in done.entries)
    assert "forged-request-id" not in "\n".join(document.texts())


def test_sub_status_cell_gives_each_raw_value_once() -> None:
    assert _sub_status("held: under review by Mercado Libre (held for manual review)") == ["held"]
    assert _sub_status("held, warning: under review; warning") == ["held", "warning"]
    assert _sub_status("active") == []
    assert _sub_status("out_of_stock, held") == ["out_of_stock", "held"]


async def test_rerun_after_a_crash_reports_reconciled_and_earlier_writes_from_the_journal(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    """A killed run left one write applied but unanswered and one complete; the re-run's report
    lists both as done with the journal's facts, and verify-record finds nothing wrong."""
    path = sandbox_book(tmp_path / "book.xlsx", ROWS, lang="en", reason="IP complaint")
    calls = CallLog()
    config = ClientConfig(api_url=served[0], rate=50.0)
    async with MeliClient(config, tokens=TOKEN_A, on_call=calls, rate=RateLimiter(math.inf)) as api:
        plan, _report = await ops.plan(XlsxWorkbook.open(path), api)
        row_of = {r.live.item_id: r.row_number for r in plan.rows if r.live is not None}
        killed = "20260101T000000Z-killed"
        with Journal(state_dir(path) / JOURNAL_NAME) as journal:
            journal.append("run_start", run_id=killed, stage="execute", plan_id=plan.plan_id)
            for item_id, answered in ((T["active_mlm"], False), (T["active_mco"], True)):
                wid = write_id(plan.plan_id, row_of[item_id], item_id, Op.PAUSE.value, "")
                journal.append(
                    "intent",
                    write_id=wid,
                    run_id=killed,
                    row=row_of[item_id],
                    item_id=item_id,
                    op="pause",
                    status_before="active",
                    body={"status": "paused"},
                )
                await api.set_item_status(item_id, "paused")  # the killed run's write reached ML
                if answered:
                    journal.append(
                        "outcome",
                        write_id=wid,
                        run_id=killed,
                        ok=True,
                        code="X300",
                        item_id=item_id,
                        status_before="active",
                        status_after="paused",
                        request_id="rq-killed-run",
                    )
        await run.execute(XlsxWorkbook.open(path), api, confirm=lambda counts: True, calls=calls)
    [_killed, rerun] = _runs(path, "execute")
    record = collect_run(path)
    assert record.run_id == rerun
    by_item = {r.item_id: r for r in record.rows}
    reconciled, earlier = by_item[T["active_mlm"]], by_item[T["active_mco"]]
    assert reconciled.was_written and reconciled.code == "X308"
    sent_at = next(
        e["at"] for e in _journal(path) if e["type"] == "intent" and e["item_id"] == T["active_mlm"]
    )
    assert reconciled.done_at_utc is not None
    assert reconciled.done_at_utc.isoformat().startswith(sent_at[:23])  # when the killed run sent it
    assert (reconciled.status_before, reconciled.status_after) == ("active", "paused")
    assert earlier.was_written and earlier.request_ids[:1] == ["rq-killed-run"]
    assert not by_item[T["under_review_held"]].was_written
    assert verify_record(path) == []


def test_messages_follow_the_documents_language() -> None:
    """A workbook in English, a confirmation in Spanish: the catalogue sentence is the Spanish
    one, the detail (item IDs) stays."""
    english = codes.describe(Code.SKU_AMBIGUOUS, "en", "MLM1, MLM2")[0]
    spanish = codes.texts(Code.SKU_AMBIGUOUS, "es").message
    row = ReportRow(row=5, result=Result.BLOCKED, code=Code.SKU_AMBIGUOUS.value, message=english)
    assert localised_message(row, "es") == f"{spanish}: MLM1, MLM2"
    record = RunRecord(run_id="r", rows=[row])
    [document] = build_confirmations(record, "es")
    assert f"{spanish}: MLM1, MLM2" in list(document.texts())
    assert english not in list(document.texts())
    # A code the catalogue does not know keeps the text as recorded.
    odd = ReportRow(row=6, result=Result.FAILED, code="Z999", message="as recorded")
    assert localised_message(odd, "zh") == "as recorded"


async def test_the_default_run_is_the_latest_not_the_one_the_report_sheet_shows(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    """Execute → Report → Restore → Report (the ribbon's button, or ``report FILE``): the second
    report describes the Restore."""
    path = sandbox_book(tmp_path / "book.xlsx", ROWS, lang="en", reason="IP complaint")
    await plan_and_execute(served[0], path)
    [execute_id] = _runs(path, "execute")
    assert make_report(path, languages=["en"]).run.run_id == execute_id
    set_actions(path, {0: "RESTORE"})
    await _restore(served[0], path)
    [restore_id] = _runs(path, "restore")
    record = collect_run(path)
    assert record.run_id == restore_id and record.stage == "restore"
    assert make_report(path, languages=["en"]).run.run_id == restore_id
    assert verify_record(path) == []


def test_a_failed_row_whose_listing_changed_says_so_in_the_not_done_section() -> None:
    """The listing was paused, its ad was not: the row is listed as not done, with the status the
    listing was left in."""
    row = ReportRow(
        row=5,
        item_id="MLM1",
        action="PAUSE",
        result=Result.FAILED,
        code="X307",
        status_before="active",
        status_after="paused",
        reference="TRO-1",
    )
    [document] = build_confirmations(RunRecord(run_id="r", rows=[row]), "en")
    done, not_done = document.sections[2], document.sections[3]
    assert done.entries == []
    [entry] = not_done.entries
    labels = {field.label: field.value for field in entry.fields}
    assert labels["Status after"] == "paused"


async def test_a_row_that_names_another_listing_since_is_described_by_the_written_one(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    """After the run, the row's cells were overwritten with another listing (rows moved): the
    confirmation names the listing the run paused with its own title, never the other's."""
    path = sandbox_book(tmp_path / "book.xlsx", ROWS, lang="en", reason="IP complaint")
    await plan_and_execute(served[0], path)
    _set_cells(path, 0, {"item_id": "MLM9999999999", "title": "Someone else's listing"})
    record = collect_run(path)
    row = next(r for r in record.rows if r.row == L.FIRST_DATA_ROW)
    assert row.item_id == T["active_mlm"] and row.was_written
    assert row.title and row.title != "Someone else's listing"
    assert T["active_mlm"].removeprefix("MLM") in row.permalink
