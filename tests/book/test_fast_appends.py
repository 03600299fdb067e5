"""Pull, Plan, Execute and Restore stay on the fast path: dates, Log and Snapshots appends.

Each stage's write sequence (verdicts with dates, Log and Snapshots rows, checkpoint saves) runs
on the tricky workbook of test_fast_path.py both ways — fast (spliced) and openpyxl — and every
cell of every sheet must come out the same (value, type incl. dates, number format, fill, font).
The fast path must really be taken, and change only the parts it writes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font

from mltakedown.book import layout as L
from mltakedown.book import xlsx as xlsx_module
from mltakedown.book.ports import CellValue, LogEntry, Outcome, Result, SnapshotRow
from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.book.xlsx_splice import CellEdit, StyleBook, date_edit, splice_sheet

from .helpers import filled_book
from .test_fast_path import _cells, _col, tricky_xlsm

AT = dt.datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=dt.UTC)
LOCAL = dt.datetime(2026, 3, 4, 2, 6, 7)
DAY = dt.date(2026, 3, 5)
FIRST = L.FIRST_DATA_ROW

Stage = Callable[[XlsxWorkbook], None]


def _log(n: int, note: str = "") -> list[LogEntry]:
    return [
        LogEntry(
            AT + dt.timedelta(seconds=i),
            "PUT",
            f"/items/MLM{i}",
            200,
            f"req-{i}",
            12.345,
            FIRST + i,
            "run-1",
            note,
        )
        for i in range(n)
    ]


def _snapshots(n: int) -> list[SnapshotRow]:
    return [
        SnapshotRow(
            "run-1", AT, f"MLM{i}", 180_000_000_000_000_001 + i if i % 2 else None, "MLM", "active", "",
            5, 99.5, f"=title {i}", "ab" * 32, f"snap/{i}.json", '{"id": 1}',
        )
        for i in range(n)
    ]  # fmt: skip


def _pull(book: XlsxWorkbook) -> None:
    book.write_outcomes(
        [
            Outcome(FIRST + i, Result.OK, values={"item_id": f"MLM{i}", "title": "t", "available_qty": 3})
            for i in range(4)
        ],
        stage="pull",
    )
    book.append_log(_log(3))
    book.save()


def _plan(book: XlsxWorkbook) -> None:
    book.write_outcomes(
        [Outcome(FIRST + i, Result.WARNING, "C200", "m", "r", {"planned_action": "PAUSE"}) for i in range(3)],
        stage="plan",
    )
    book.append_log(_log(1, "plan"))
    book.save()


def _execute(book: XlsxWorkbook) -> None:
    # A checkpoint save part-way (the runner's), then the final writes after it.
    book.append_log(_log(2, "batch 1"))
    book.save()
    book.write_snapshots(_snapshots(3))
    book.append_log(_log(2, "batch 2"))
    done: dict[str, CellValue] = {
        "done_at_utc": AT,
        "done_at_local": LOCAL,
        "status_after": "paused",
        "request_id": "r-9",
    }
    book.write_outcomes(
        [Outcome(FIRST + i, Result.OK, "C100", values=done) for i in range(3)], stage="execute"
    )
    book.save()


def _restore(book: XlsxWorkbook) -> None:
    values: dict[str, CellValue] = {"done_at_utc": DAY, "status_after": "active", "new_item_id": None}
    book.write_outcomes([Outcome(FIRST + 1, Result.OK, values=values, clear_others=True)], stage="restore")
    book.write_snapshots(_snapshots(1))
    book.append_log(_log(1, "restore"))
    book.save()


STAGES: dict[str, list[Stage]] = {
    "pull": [_pull],
    "plan": [_plan],
    "execute": [_execute],
    "restore": [_restore],
    "all": [_pull, _plan, _execute, _restore],
}


def _prepared(tmp: Path, painted: bool) -> Path:
    """The tricky workbook, plus a user-formatted date cell, an italic output cell and an
    earlier run's Log row (so appends go below existing rows)."""
    path = tricky_xlsm(tmp, painted=painted)
    wb = load_workbook(path, keep_vba=True)
    ws = wb[L.SHEET_TAKEDOWN]
    ws.cell(FIRST, _col("done_at_utc")).number_format = "dd/mm/yyyy hh:mm"  # already a date format
    ws.cell(FIRST + 1, _col("done_at_utc")).font = Font(italic=True)  # kept, date format added
    ws.cell(FIRST + 2, _col("done_at_local")).number_format = "0.00"  # a number format: replaced
    log = wb[L.SHEET_LOG]
    log.append([dt.datetime(2025, 1, 1, 1, 1, 1), "GET", "/old", 200, "old", 1.0, 5, "run-0", "old"])
    wb.save(path)
    return path


def _sheet_members(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return xlsx_module._sheet_parts(archive)


@pytest.fixture(scope="module", params=["conditional", "painted"])
def source(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return _prepared(tmp_path_factory.mktemp("appends"), request.param == "painted")


@pytest.mark.parametrize("stage", list(STAGES))
def test_stages_give_the_same_cells_on_both_paths(source: Path, tmp_path: Path, stage: str) -> None:
    results: dict[str, Path] = {}
    for name, fast in (("fast", True), ("slow", False)):
        path = tmp_path / f"{name}.xlsm"
        shutil.copy(source, path)
        for step in STAGES[stage]:
            book = XlsxWorkbook.open(path, fast=fast)
            step(book)
            if fast:
                assert book.fallback_reason is None, book.fallback_reason
        results[name] = path
    fast_cells, slow_cells = _cells(results["fast"]), _cells(results["slow"])
    assert fast_cells.keys() == slow_cells.keys()
    for sheet in fast_cells:
        assert fast_cells[sheet] == slow_cells[sheet], sheet
    members = _sheet_members(source)
    touched = {members[L.SHEET_TAKEDOWN], members[L.SHEET_LOG], members[L.SHEET_SNAPSHOTS], "xl/styles.xml"}
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(results["fast"]) as after:
        assert before.namelist() == after.namelist()
        changed = {n for n in before.namelist() if before.read(n) != after.read(n)}
    assert changed <= touched
    assert members[L.SHEET_LOG] in changed


def test_dates_read_back_as_dates_with_their_formats(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsm"
    shutil.copy(source, path)
    for step in STAGES["all"]:
        book = XlsxWorkbook.open(path)
        step(book)
        assert book.fallback_reason is None
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    kept = ws.cell(FIRST, _col("done_at_utc"))
    assert kept.is_date and kept.number_format == "dd/mm/yyyy hh:mm"
    assert kept.value == AT.replace(tzinfo=None)  # UTC, without the time zone (Excel has none)
    italic = ws.cell(FIRST + 1, _col("done_at_utc"))
    assert italic.is_date and italic.font.i and italic.value == dt.datetime(2026, 3, 5)
    assert italic.number_format == "yyyy-mm-dd h:mm:ss"  # a date on an earlier datetime cell
    local = ws.cell(FIRST + 2, _col("done_at_local"))
    assert local.is_date and local.number_format == "yyyy-mm-dd h:mm:ss" and local.value == LOCAL
    log = wb[L.SHEET_LOG]
    assert log.cell(2, 9).value == "old"  # the earlier run's row is kept, new rows below it
    assert log.cell(3, 1).is_date and log.cell(3, 1).value == AT.replace(tzinfo=None)
    assert log.cell(3, 6).value == 12.3 and log.cell(3, 7).value == FIRST
    snaps = wb[L.SHEET_SNAPSHOTS]
    assert snaps.cell(2, 4).value is None and snaps.cell(3, 4).value == "180000000000000002"
    assert snaps.cell(2, 10).value == "=title 0" and snaps.cell(2, 10).data_type == "s"  # text, no formula


def _empty_log(path: Path) -> None:
    wb = load_workbook(path)
    wb[L.SHEET_LOG].delete_rows(1, 1)
    wb.save(path)


def _partial_log(path: Path) -> None:
    wb = load_workbook(path)
    log = wb[L.SHEET_LOG]
    log.delete_cols(3, 2)  # Path and Status gone: they are added after the last used column
    log["M1"] = "mine"
    wb.save(path)


def _no_snapshots(path: Path) -> None:
    wb = load_workbook(path)
    del wb[L.SHEET_SNAPSHOTS]
    wb.save(path)


def _merged_log(path: Path) -> None:
    wb = load_workbook(path)
    wb[L.SHEET_LOG].merge_cells("A5:B6")
    wb.save(path)


def _dates_1904(path: Path) -> None:
    wb = load_workbook(path)
    wb.epoch = dt.datetime(1904, 1, 1)
    wb.save(path)


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [
        (_empty_log, None),
        (_partial_log, None),
        (_no_snapshots, "Snapshots worksheet"),
        (_merged_log, "merged cells"),
        (_dates_1904, "1904"),
    ],
)
def test_unusual_table_sheets_on_both_paths(
    tmp_path: Path, prepare: Callable[[Path], None], reason: str | None
) -> None:
    paths = [
        filled_book(tmp_path / f"{name}.xlsx", [("MLM1", "PAUSE", "TRO")] * 4) for name in ("fast", "slow")
    ]
    for path, fast in zip(paths, (True, False), strict=True):
        prepare(path)
        book = XlsxWorkbook.open(path, fast=fast)
        _execute(book)
        if fast:
            if reason is None:
                assert book.fallback_reason is None
            else:
                assert reason in (book.fallback_reason or "")
    assert _cells(paths[0]) == _cells(paths[1])


def test_date_formats_are_added_to_styles_once() -> None:
    styles = StyleBook(
        b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
        b'<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0"/>'
        b'<xf numFmtId="14" fontId="0" fillId="0"/></cellXfs></styleSheet>'
    )
    edit = date_edit(AT)
    assert edit.date_format == "yyyy-mm-dd h:mm:ss"
    assert styles.date_style(1, "yyyy-mm-dd") == 1  # already a date format (built-in 14)
    first = styles.date_style(0, "yyyy-mm-dd h:mm:ss")
    assert first == 2 and styles.date_style(0, "yyyy-mm-dd h:mm:ss") == 2
    xml = styles.to_xml()
    assert b'<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd h:mm:ss" /></numFmts>' in xml
    assert b'<cellXfs count="3">' in xml
    sheet = splice_sheet(b"<worksheet><sheetData/></worksheet>", {2: {1: edit, 2: CellEdit(None)}}, styles)
    assert (
        sheet
        == b'<worksheet><sheetData><row r="2"><c r="A2" s="2"><v>46085.21259131945</v></c></row></sheetData></worksheet>'
    )


def test_a_date_format_with_alignment_is_reused_across_saves() -> None:
    xml = (
        b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
        b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0"><alignment wrapText="1"/></xf></cellXfs>'
        b"</styleSheet>"
    )
    first = StyleBook(xml)
    assert first.date_style(0, "yyyy-mm-dd") == 1
    again = StyleBook(first.to_xml())
    assert again.date_style(0, "yyyy-mm-dd") == 1 and not again.changed
    assert b'<alignment wrapText="1" /></xf></cellXfs>' in first.to_xml()
