"""Result colours by conditional formatting, the Settings marker, ``upgrade``, and the print setup.

A new workbook carries one "cell equals <result>" rule per result over the Result column and says
``RESULT_COLOURS = conditional`` in Settings; the file adapters then leave Result cells unpainted
(both the fast splice path and the openpyxl path), and the rules survive both. A workbook without
the marker is painted as before; ``upgrade`` adds rules and marker and keeps every input.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles import PatternFill
from openpyxl.worksheet.page import PrintPageSetup
from openpyxl.worksheet.properties import PageSetupProperties

from mltakedown.book import layout as L
from mltakedown.book.ports import Outcome, Result
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook, upgrade_workbook
from mltakedown.book.xlsx_format import has_result_rules, result_range
from mltakedown.engine import ops

from .helpers import filled_book, make_xlsm, zip_member

ROWS = [("MLM1234567890", "PAUSE", "TRO"), ("SKU-1", "CLOSE", "TRO"), ("00123", "nonsense", "TRO")]
RESULT_COL = [c.key for c in L.TAKEDOWN_COLUMNS].index("result") + 1
_RULE = re.compile(rb'<cfRule type="cellIs"[^>]*operator="equal"[^>]*dxfId="(\d+)"[^>]*><formula>"(\w+)"')


def _rules_in_xml(path: Path) -> dict[str, tuple[str, str]]:
    """Result word → (fill, font colour) of the rules in the saved Takedown sheet part."""
    sheet = zip_member(path, "xl/worksheets/sheet1.xml")
    block = re.search(rb'<conditionalFormatting sqref="([^"]+)">(.*?)</conditionalFormatting>', sheet, re.S)
    assert block is not None, "no conditionalFormatting in the Takedown sheet"
    assert block.group(1).decode() == result_range(RESULT_COL)
    styles = zip_member(path, "xl/styles.xml")
    dxfs = re.findall(
        rb"<dxf>(.*?)</dxf>", re.search(rb"<dxfs[^>]*>(.*?)</dxfs>", styles, re.S).group(1), re.S
    )  # type: ignore[union-attr]
    found: dict[str, tuple[str, str]] = {}
    for dxf_id, word in _RULE.findall(block.group(2)):
        dxf = dxfs[int(dxf_id)]
        font = re.search(rb'<font>.*?<color rgb="\w\w(\w{6})"', dxf, re.S)
        fill = re.search(rb'<bgColor rgb="\w\w(\w{6})"', dxf)
        assert font is not None and fill is not None
        found[word.decode()] = (fill.group(1).decode(), font.group(1).decode())
    return found


def _expected_rules() -> dict[str, tuple[str, str]]:
    return {r.value: (L.RESULT_FILLS[r], L.RESULT_FONTS[r]) for r in L.SUMMARY_RESULTS}


def _older(path: Path) -> Path:
    """A workbook as the template made it before the rules: no rules, no marker, painted cells,
    default print setup."""
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    ws.conditional_formatting = ConditionalFormattingList()
    for name in wb.sheetnames:
        sheet = wb[name]
        sheet.page_setup = PrintPageSetup(worksheet=sheet)
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties()
        sheet._print_rows = None  # openpyxl's setter ignores None
    settings = wb[L.SHEET_SETTINGS]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == L.RESULT_COLOURS_KEY:
            settings.delete_rows(row[0].row)
            break
    for offset, result in enumerate((Result.OK, Result.BLOCKED)):
        cell = ws.cell(L.FIRST_DATA_ROW + offset, RESULT_COL, result.value)
        cell.fill = PatternFill("solid", fgColor=L.RESULT_FILLS[result])
    wb.save(path)
    return path


def test_a_new_workbook_has_the_rules_the_marker_and_the_print_setup(tmp_path: Path) -> None:
    path = create_workbook(tmp_path / "new.xlsx", "es")
    assert _rules_in_xml(path) == _expected_rules()
    assert XlsxWorkbook.open(path).conditional_colours
    wb = load_workbook(path)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        expected = L.PRINT_TITLE_ROWS.get(ws.title)
        assert ws.print_title_rows == (f"${expected.replace(':', ':$')}" if expected else None), ws.title
    assert wb[L.SHEET_TAKEDOWN].print_title_rows == f"${L.HEADER_ROW}:${L.HEADER_ROW}"
    notes = {row[0].value: row[2].value for row in wb[L.SHEET_SETTINGS].iter_rows(min_row=2)}
    assert notes[L.RESULT_COLOURS_KEY].startswith("conditional: Excel colorea")


@pytest.mark.parametrize("fast", [True, False])
def test_a_marked_workbook_gets_no_painted_result_cells(tmp_path: Path, fast: bool) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    styles_before = zip_member(path, "xl/styles.xml")
    book = XlsxWorkbook.open(path, fast=fast)
    ops.check(book)
    assert book.fallback_reason is None
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    results = [ws.cell(L.FIRST_DATA_ROW + i, RESULT_COL) for i in range(len(ROWS))]
    assert [c.value for c in results] == ["OK", "BLOCKED", "BLOCKED"]
    assert all(c.fill.fgColor.rgb == "00000000" for c in results)
    assert _rules_in_xml(path) == _expected_rules()  # the rules survived the save
    if fast:
        assert zip_member(path, "xl/styles.xml") == styles_before  # no format was added


@pytest.mark.parametrize("fast", [True, False])
def test_an_unmarked_workbook_is_still_painted(tmp_path: Path, fast: bool) -> None:
    path = _older(filled_book(tmp_path / "t.xlsx", ROWS))
    book = XlsxWorkbook.open(path, fast=fast)
    assert not book.conditional_colours
    book.write_outcomes([Outcome(L.FIRST_DATA_ROW + 2, Result.WARNING, "C100")], stage="check")
    book.save()
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    assert ws.cell(L.FIRST_DATA_ROW + 2, RESULT_COL).fill.fgColor.rgb == "00" + L.RESULT_FILLS[Result.WARNING]


def test_rules_and_print_setup_survive_an_openpyxl_round_trip_with_vba(tmp_path: Path) -> None:
    xlsx = filled_book(tmp_path / "base.xlsx", ROWS)
    path = make_xlsm(xlsx, tmp_path / "book.xlsm")
    wb = load_workbook(path, keep_vba=True)
    wb.save(path)
    assert _rules_in_xml(path) == _expected_rules()
    ws = load_workbook(path, keep_vba=True)[L.SHEET_TAKEDOWN]
    assert has_result_rules(ws, RESULT_COL)
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$4:$4"
    # And through the adapter's openpyxl path (Log rows force it), then its fast path.
    book = XlsxWorkbook.open(path)
    ops.check(book)
    book.write_report([["x"]])
    book.save()
    assert book.fallback_reason is not None
    assert _rules_in_xml(path) == _expected_rules()
    ops.check(XlsxWorkbook.open(path))
    assert _rules_in_xml(path) == _expected_rules()


def test_upgrade_adds_rules_marker_and_print_setup_and_keeps_inputs(tmp_path: Path) -> None:
    path = _older(filled_book(tmp_path / "old.xlsx", ROWS))
    with zipfile.ZipFile(path) as archive:
        assert b"conditionalFormatting" not in archive.read("xl/worksheets/sheet1.xml")
    report = upgrade_workbook(path)
    assert report.changed and report.colour_rules_added
    assert set(report.print_setup_added) == set(L.SHEETS)
    assert _rules_in_xml(path) == _expected_rules()
    book = XlsxWorkbook.open(path)
    assert book.conditional_colours
    assert [tuple(r.values[k] for k in ("identifier", "action", "reason")) for r in book.read_rows()] == ROWS
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    # Painted colours of earlier runs are dropped (the rules colour the cells); values are kept.
    first = ws.cell(L.FIRST_DATA_ROW, RESULT_COL)
    assert first.value == "OK" and first.fill.fgColor.rgb == "00000000"
    assert ws.print_title_rows == "$4:$4" and wb[L.SHEET_LOG].page_setup.orientation == "landscape"
    again = upgrade_workbook(path)
    assert not again.changed and not again.print_setup_added
    assert zip_member(path, "xl/worksheets/sheet1.xml").count(b"<cfRule") == len(L.SUMMARY_RESULTS)


def test_upgrade_keeps_a_deliberate_painted_choice_and_own_print_setup(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "mine.xlsx", ROWS)
    wb = load_workbook(path)
    for row in wb[L.SHEET_SETTINGS].iter_rows(min_row=2):
        if row[0].value == L.RESULT_COLOURS_KEY:
            row[1].value = "fill"
    wb[L.SHEET_LOG].page_setup = PrintPageSetup(worksheet=wb[L.SHEET_LOG], orientation="portrait")
    wb[L.SHEET_LOG].sheet_properties.pageSetUpPr = PageSetupProperties()
    wb.save(path)
    report = upgrade_workbook(path)
    assert not report.colour_rules_added  # the rules were there
    assert not XlsxWorkbook.open(path).conditional_colours
    assert load_workbook(path)[L.SHEET_LOG].page_setup.orientation == "portrait"


def test_the_committed_workbook_has_the_rules_and_prints_landscape() -> None:
    committed = Path(__file__).resolve().parents[2] / "xlsm" / "mltakedown.xlsm"
    if not committed.is_file():
        pytest.skip("xlsm/mltakedown.xlsm is not built in this checkout")
    assert _rules_in_xml(committed) == _expected_rules()
    assert XlsxWorkbook.open(committed, writable=False).conditional_colours
    ws = load_workbook(committed, keep_vba=True)[L.SHEET_TAKEDOWN]
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$4:$4"
