"""verify-record: a cut-off last line, a snapshot moved to another run's place, and an appeal
pack whose original evidence is gone."""

from __future__ import annotations

import shutil
from pathlib import Path

from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.engine.journal import Journal, state_dir
from mltakedown.report.record import ProblemKind, verify_record

from .report_fixtures import RUN_ID
from .report_recorded import journal_path


def test_a_last_line_cut_in_the_middle_is_reported(recorded: Path) -> None:
    data = journal_path(recorded).read_bytes()
    journal_path(recorded).write_bytes(data[:-20])  # the run_end line loses its end
    problems = verify_record(recorded)
    assert ProblemKind.JOURNAL_TRUNCATED in [p.kind for p in problems]


def test_a_snapshot_moved_to_another_runs_folder_is_reported(recorded: Path) -> None:
    snapshots = state_dir(recorded) / "snapshots"
    source = snapshots / RUN_ID / "MLM1234567801.json"
    other = snapshots / "20261201T000000Z-000000"
    other.mkdir()
    for path in (source, source.with_name(source.name + ".sha256")):
        shutil.move(path, other / path.name)
    problems = [p for p in verify_record(recorded) if p.kind is ProblemKind.SNAPSHOT_ALTERED]
    assert any("20261201T000000Z-000000" in p.where and RUN_ID in p.detail for p in problems)


def test_an_appeal_copy_whose_original_is_gone_is_reported(recorded: Path) -> None:
    snapshots = state_dir(recorded) / "snapshots"
    source = snapshots / RUN_ID / "MLM1234567801.json"
    pack = state_dir(recorded) / "reports" / RUN_ID / "appeals" / "MLM1234567801"
    pack.mkdir(parents=True)
    for path in (source, source.with_name(source.name + ".sha256")):
        shutil.copy2(path, pack / path.name)
    assert verify_record(recorded) == []
    for path in (source, source.with_name(source.name + ".sha256")):
        path.unlink()
    problems = verify_record(recorded)
    assert any(p.kind is ProblemKind.SNAPSHOT_MISSING and "appeal pack" in p.detail for p in problems)


def _set(workbook: Path, row: int, values: dict[str, object]) -> None:
    wb = load_workbook(workbook)
    ws = wb[L.SHEET_TAKEDOWN]
    keys = L.header_keys()
    columns = {keys[L.normalise_header(c.value)]: c.column for c in ws[L.HEADER_ROW] if c.value}
    for key, value in values.items():
        ws.cell(row, columns[key]).value = value  # (ws.cell(r, c, None) would leave the cell as is)
    wb.save(workbook)


def test_a_paused_listing_whose_ad_pause_failed_is_no_false_alarm(recorded: Path) -> None:
    """The engine shows the row FAILED (its ad stayed on) though the listing was paused: the
    workbook and the journal agree, nothing is tampered with."""
    with Journal(journal_path(recorded)) as journal:
        journal.append(
            "intent", write_id="w005ad", run_id=RUN_ID, row=5, item_id="MLM1234567801", op="pause_ad"
        )
        journal.append(
            "outcome", write_id="w005ad", run_id=RUN_ID, ok=False, code="X307", item_id="MLM1234567801"
        )
    _set(recorded, 5, {"result": "FAILED", "code": "X307"})
    assert verify_record(recorded) == []


def test_a_paused_listing_whose_ad_pause_was_not_sent_is_no_false_alarm(recorded: Path) -> None:
    _set(recorded, 5, {"result": "FAILED", "code": "X310"})  # status after still "paused"
    assert verify_record(recorded) == []


def test_a_paused_listing_shown_failed_without_its_status_is_still_reported(recorded: Path) -> None:
    _set(recorded, 5, {"result": "FAILED", "code": "X305", "status_after": None})
    assert [p.kind for p in verify_record(recorded)] == [ProblemKind.JOURNAL_ROW_MISMATCH]
