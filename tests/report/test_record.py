"""verify-record: the workbook, the journal and the snapshots of a run must agree; tampering shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.engine.journal import state_dir
from mltakedown.report.collect import collect_run
from mltakedown.report.record import ProblemKind, verify_record
from mltakedown.report.sheet import write_report_sheet

from .report_fixtures import RUN_ID
from .report_recorded import journal_path


def _kinds(workbook: Path) -> list[ProblemKind]:
    return [problem.kind for problem in verify_record(workbook)]


def _snapshot(workbook: Path, item_id: str) -> Path:
    return state_dir(workbook) / "snapshots" / RUN_ID / f"{item_id}.json"


def _lines(workbook: Path) -> list[bytes]:
    return journal_path(workbook).read_bytes().splitlines(keepends=True)


def _set_cell(workbook: Path, row: int, key: str, value: object) -> None:
    wb = load_workbook(workbook)
    ws = wb[L.SHEET_TAKEDOWN]
    keys = L.header_keys()
    column = next(c.column for c in ws[L.HEADER_ROW] if keys.get(L.normalise_header(c.value)) == key)
    ws.cell(row, column, value)
    wb.save(workbook)


def test_an_intact_record_has_no_problems(recorded: Path) -> None:
    assert verify_record(recorded) == []


def test_an_altered_snapshot_is_reported(recorded: Path) -> None:
    path = _snapshot(recorded, "MLM1234567801")
    doc = json.loads(path.read_bytes())
    doc["item"]["status"] = "paused"  # pretend it was already paused before we touched it
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    problems = verify_record(recorded)
    assert [p.kind for p in problems] == [ProblemKind.SNAPSHOT_ALTERED, ProblemKind.SNAPSHOT_ALTERED]
    assert "MLM1234567801.json" in str(problems[0]) and "checksum" in str(problems[0])
    assert "Snapshots sheet row" in str(problems[1])


def test_a_snapshot_altered_with_its_checksum_is_caught_by_the_workbook_copy(recorded: Path) -> None:
    import hashlib

    path = _snapshot(recorded, "MCO777888999")
    data = path.read_bytes().replace(b'"active"', b'"closed"')
    path.write_bytes(data)
    sha = path.with_name(path.name + ".sha256")
    sha.write_text(f"{hashlib.sha256(data).hexdigest()}  {path.name}\n", encoding="ascii")
    problems = verify_record(recorded)
    assert [p.kind for p in problems] == [ProblemKind.SNAPSHOT_ALTERED]
    assert "SHA-256 the workbook recorded" in problems[0].detail


def test_a_removed_snapshot_is_reported(recorded: Path) -> None:
    _snapshot(recorded, "MLB3456789012").unlink()
    kinds = _kinds(recorded)
    assert ProblemKind.SNAPSHOT_MISSING in kinds
    assert kinds.count(ProblemKind.SNAPSHOT_MISSING) == 3  # orphan checksum, journal and sheet references


@pytest.mark.parametrize("how", ["edit", "remove", "swap", "insert"])
def test_a_changed_journal_line_is_reported(recorded: Path, how: str) -> None:
    lines = _lines(recorded)
    target = next(i for i, line in enumerate(lines) if b'"outcome"' in line and b"MLM1234567801" in line)
    if how == "edit":
        lines[target] = lines[target].replace(b'"status_after":"paused"', b'"status_after":"closed"')
    elif how == "remove":
        del lines[target]
    elif how == "swap":
        lines[target], lines[target + 1] = lines[target + 1], lines[target]
    else:
        lines.insert(target, lines[target])
    journal_path(recorded).write_bytes(b"".join(lines))
    problems = verify_record(recorded)
    assert ProblemKind.JOURNAL_CHAIN in [p.kind for p in problems]
    chain = next(p for p in problems if p.kind is ProblemKind.JOURNAL_CHAIN)
    assert chain.where.startswith("journal.jsonl line ")


def test_lines_cut_off_the_end_are_caught_by_the_report_stamp(recorded: Path) -> None:
    record = collect_run(recorded)
    book = XlsxWorkbook.open(recorded)
    write_report_sheet(book.wb, record, "en")
    book.save()
    assert verify_record(recorded) == []
    lines = _lines(recorded)
    journal_path(recorded).write_bytes(b"".join(lines[:-3]))  # drop the last verify, outcome… and run_end
    kinds = _kinds(recorded)
    assert ProblemKind.JOURNAL_TRUNCATED in kinds


def test_a_row_claiming_ok_without_a_journal_outcome_is_reported(recorded: Path) -> None:
    # Row 10 failed (network); someone changes it to OK with a time and a status after.
    _set_cell(recorded, 10, "result", "OK")
    _set_cell(recorded, 10, "code", "X300")
    _set_cell(recorded, 10, "status_after", "paused")
    problems = verify_record(recorded)
    assert [p.kind for p in problems] == [ProblemKind.ROW_WITHOUT_JOURNAL]
    assert "row 10" in problems[0].where and "MLA987654321" in problems[0].detail


def test_a_journal_outcome_whose_row_says_otherwise_is_reported(recorded: Path) -> None:
    _set_cell(recorded, 7, "result", "BLOCKED")  # the journal says MLB3456789012 was paused
    problems = verify_record(recorded)
    assert [p.kind for p in problems] == [ProblemKind.JOURNAL_ROW_MISMATCH]
    assert "row 7" in problems[0].where and "MLB3456789012" in problems[0].detail


def test_no_journal_at_all(recorded: Path) -> None:
    journal_path(recorded).unlink()
    kinds = _kinds(recorded)
    assert kinds[0] is ProblemKind.JOURNAL_MISSING
    assert kinds.count(ProblemKind.ROW_WITHOUT_JOURNAL) == 4  # every row that claims a change
