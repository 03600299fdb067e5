"""The fast path (streamed read, spliced write) gives the same workbook as the openpyxl path.

The equivalence tests run Check both ways on a workbook with tricky content — shared strings,
rich text, a shared formula and a plain formula in input cells, dates, numbers, booleans, merged
cells, a user sheet, user formatting on an output cell, a stale result, data validation, a VBA
project and a customUI14 ribbon — and compare every cell of every sheet as openpyxl reads it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from copy import copy
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.worksheet._reader import WorkSheetParser

from mltakedown.book import layout as L
from mltakedown.book import xlsx as xlsx_module
from mltakedown.book.ports import LogEntry, Outcome, Result
from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.book.xlsx_fast import result_format
from mltakedown.book.xlsx_splice import CellEdit, SpliceUnsupported, StyleBook, splice_sheet
from mltakedown.book.xlsx_stream import _SheetParser
from mltakedown.engine import ops

from .helpers import RIBBON_2007, filled_book, make_xlsm, ribbon_relationships, sha256, zip_member

ROWS: list[tuple[object, ...]] = [
    ("MLM1234567890", "PAUSE", "TRO", "case 1", "yes"),
    ("SKU-1", "CLOSE", "IP complaint", dt.datetime(2026, 3, 4, 5, 6), True),
    (123, "pausar", "TRO", 42.5),
    ('=CONCATENATE("MLM","1")', "PAUSE", "TRO"),
    ("MLM1234567890", "DELETE", "TRO"),
    ("rich", "下架", "Other"),
    (None, None, None),  # a blank row in the middle
    ("https://articulo.mercadolibre.com.mx/MLM-1111111111-x-_JM", "RESTORE", "TRO", "  spaced  "),
    ("SKU-2", "nonsense"),  # its Note gets a shared formula (see _with_shared_strings)
]
STALE_ROW = 40
"""A row holding only an old Result (its inputs were deleted): the summary still counts it."""

_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_INLINE = re.compile(r'<c r="([A-Z]+)(\d+)"( s="\d+")? t="inlineStr"><is><t>([^<]*)</t></is></c>')


def _col(key: str) -> int:
    return [c.key for c in L.TAKEDOWN_COLUMNS].index(key) + 1


def _with_shared_strings(path: Path) -> None:
    """Rewrite the Takedown sheet's inline strings as shared strings (as Excel stores them),
    make one of them rich text, and turn the Note formulas into a shared formula."""
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    strings: list[str] = []

    def shared(match: re.Match[str]) -> str:
        col, row, style, text = match.groups()
        if text == "rich":
            strings.append("<si><r><rPr><b/></rPr><t>MLM</t></r><r><t>1234567891</t></r></si>")
        else:
            strings.append(f'<si><t xml:space="preserve">{text}</t></si>')
        return f'<c r="{col}{row}"{style or ""} t="s"><v>{len(strings) - 1}</v></c>'

    sheet = _INLINE.sub(shared, sheet)
    # A shared formula over two input cells (Note column), as Excel writes a filled-down formula.
    sheet = sheet.replace(
        '</row><row r="14">', '<c r="F13"><f t="shared" ref="F13:F14" si="0">A13</f></c></row><row r="14">', 1
    )
    sheet = sheet.replace('<row r="14">', '<row r="14"><c r="F14"><f t="shared" si="0"/></c>', 1)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{"".join(strings)}</sst>'
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdSst" Type="{_SST_REL}" Target="sharedStrings.xml"/></Relationships>',
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/></Types>'
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def tricky_xlsm(tmp_path: Path, *, painted: bool = False) -> Path:
    """The tricky workbook described in the module docstring.

    ``painted`` blanks the Settings marker of the Result colour rules, as in a workbook made
    before them: the adapters then paint every Result cell.
    """
    rows = [*ROWS, *[(f"SKU-{i}", "PAUSE", "TRO") for i in range(3, 6)]]
    xlsx = filled_book(tmp_path / "base.xlsx", rows)
    wb = load_workbook(xlsx)
    if painted:
        settings = wb[L.SHEET_SETTINGS]
        for row in settings.iter_rows(min_row=2):
            if row[0].value == L.RESULT_COLOURS_KEY:
                row[1].value = None
    ws = wb[L.SHEET_TAKEDOWN]
    ws.merge_cells("K1:L2")
    ws.cell(5, _col("message"), "an old message").font = Font(italic=True, color="0000FF")
    ws.cell(6, _col("title"), "kept title")
    ws.cell(STALE_ROW, _col("result"), "OK").fill = PatternFill("solid", fgColor=L.RESULT_FILLS[Result.OK])
    ws.cell(STALE_ROW, _col("code"), "C100")
    mine = wb.create_sheet("Mine")
    mine["A1"], mine["B1"], mine["C1"] = "total", 3.25, "=B1*2"
    mine["A2"] = dt.date(2026, 1, 31)
    mine.merge_cells("A4:C4")
    wb.save(xlsx)
    _with_shared_strings(xlsx)
    path = make_xlsm(xlsx, tmp_path / "tricky.xlsm", ribbon14=True)
    xlsx.unlink()
    return path


def _cells(path: Path) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Every cell of every sheet: value, type, fill, font, number format, alignment."""
    wb = load_workbook(path)
    out: dict[str, dict[str, tuple[Any, ...]]] = {}
    for ws in wb.worksheets:
        sheet: dict[str, tuple[Any, ...]] = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                value = c.value
                if ws.title == L.SHEET_TAKEDOWN and c.coordinate == "I2":
                    value = type(value).__name__  # the time of the run differs between the two runs
                sheet[c.coordinate] = (
                    value,
                    c.data_type,
                    copy(c.fill),
                    copy(c.font),
                    c.number_format,
                    copy(c.alignment),
                )
        sheet["#merged"] = (sorted(str(r) for r in ws.merged_cells.ranges),)
        sheet["#validations"] = (
            sorted((str(v.sqref), v.formula1) for v in ws.data_validations.dataValidation),
        )
        out[ws.title] = sheet
    return out


def _check(path: Path, *, fast: bool) -> XlsxWorkbook:
    book = XlsxWorkbook.open(path, fast=fast)
    ops.check(book)
    return book


@pytest.fixture(scope="module", params=["conditional", "painted"])
def runs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Path]:
    """The tricky workbook, checked twice along each path (fresh, then a re-check); once as the
    template makes it (Result colours by conditional formatting), once as an older workbook
    whose Result cells the adapters paint."""
    tmp = tmp_path_factory.mktemp("fast")
    source = tricky_xlsm(tmp, painted=request.param == "painted")
    paths = {"source": source}
    for name, fast in (("fast", True), ("slow", False)):
        first = tmp / f"{name}1.xlsm"
        shutil.copy(source, first)
        book = _check(first, fast=fast)
        assert book.fallback_reason is None
        second = tmp / f"{name}2.xlsm"
        shutil.copy(first, second)
        _check(second, fast=fast)
        paths[f"{name}1"], paths[f"{name}2"] = first, second
    return paths


@pytest.mark.parametrize("round_", ["1", "2"])
def test_fast_and_openpyxl_paths_give_the_same_cells(runs: dict[str, Path], round_: str) -> None:
    fast, slow = _cells(runs[f"fast{round_}"]), _cells(runs[f"slow{round_}"])
    assert fast.keys() == slow.keys()
    for sheet in fast:
        assert fast[sheet] == slow[sheet], sheet


def test_the_check_itself_is_right_on_the_fast_path(runs: dict[str, Path]) -> None:
    ws = load_workbook(runs["fast1"])[L.SHEET_TAKEDOWN]
    result = [ws.cell(r, _col("result")).value for r in range(L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + 14)]
    assert result[1] == "OK" and result[6] is None  # the blank row stays blank
    assert result[5] == "OK"  # the rich-text identifier was read as its plain text
    formulas = [
        r for r in range(L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + 14) if ws.cell(r, _col("code")).value == "C116"
    ]
    assert formulas == [8, 13, 14]  # a plain formula, and both cells of the shared one
    # Input cells are unchanged, the old formatting of an output cell is kept.
    source = load_workbook(runs["source"])[L.SHEET_TAKEDOWN]
    for r in range(L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + 14):
        for key in L.INPUT_KEYS:
            assert ws.cell(r, _col(key)).value == source.cell(r, _col(key)).value
    assert ws.cell(5, _col("message")).font.i is True
    assert ws.cell(6, _col("title")).value == "kept title"
    if XlsxWorkbook.open(runs["fast1"]).conditional_colours:
        # The rules colour the cells; the cells themselves carry no fill.
        assert ws.cell(6, _col("result")).fill.fgColor.rgb == "00000000"
        assert ws.cell(5, _col("result")).fill.fgColor.rgb == "00000000"
        rules = ws.conditional_formatting
        assert [str(cf.sqref) for cf in rules] == [
            f"U{L.FIRST_DATA_ROW}:U{L.FIRST_DATA_ROW + L.MAX_DATA_ROWS - 1}"
        ]
    else:
        assert ws.cell(6, _col("result")).fill.fgColor.rgb == "00" + L.RESULT_FILLS[Result.OK]
        assert ws.cell(5, _col("result")).fill.fgColor.rgb == "00" + L.RESULT_FILLS[Result.BLOCKED]
    counts = [ws.cell(L.SUMMARY_VALUE_ROW, c).value for c in range(2, 8)]
    assert counts[-1] == sum(counts[:-1]) == 12  # 11 rows checked + the stale OK row
    assert counts[0] == 5
    assert ws.cell(L.SUMMARY_VALUE_ROW, 8).value == "check"


def test_the_fast_path_leaves_every_other_part_as_it_was(runs: dict[str, Path]) -> None:
    with zipfile.ZipFile(runs["source"]) as before, zipfile.ZipFile(runs["fast2"]) as after:
        assert before.namelist() == after.namelist()
        changed = [n for n in before.namelist() if before.read(n) != after.read(n)]
    # The template's summary block already holds the Result formats, so styles.xml is reused as is.
    assert changed == ["xl/worksheets/sheet1.xml"]
    assert sha256(zip_member(runs["fast2"], "xl/vbaProject.bin")) == sha256(
        zip_member(runs["source"], "xl/vbaProject.bin")
    )
    assert (RIBBON_2007, "customUI/customUI14.xml") in ribbon_relationships(runs["fast2"])
    # A re-check reuses the cell formats the first check added.
    assert zip_member(runs["fast1"], "xl/styles.xml") == zip_member(runs["fast2"], "xl/styles.xml")
    # Everything after sheetData (conditional formatting, validations, print setup) is kept as is.
    tails = [zip_member(runs[n], "xl/worksheets/sheet1.xml").partition(b"</sheetData>")[2] for n in runs]
    assert len(set(tails)) == 1
    assert tails[0].count(b"<cfRule") == len(L.SUMMARY_RESULTS)


def test_text_stays_text_and_values_keep_their_type(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS[:2])
    book = XlsxWorkbook.open(path)
    book.write_outcomes(
        [
            Outcome(
                5,
                Result.OK,
                "C100",
                '=HYPERLINK("http://evil")',
                " lead",
                {"title": "=1+1", "available_qty": 3},
            ),
            Outcome(6, Result.BLOCKED, "C104", "#N/A", "a < b & c", {"catalog": True, "questions": 2.5}),
            Outcome(9, None, "", "", "", {"site": "MLM"}),  # a row that was not in the file
        ],
        stage="check",
    )
    book.save()
    assert book.fallback_reason is None
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    for r, key, value, kind in (
        (5, "message", '=HYPERLINK("http://evil")', "s"),
        (5, "remedy", " lead", "s"),
        (5, "title", "=1+1", "s"),
        (5, "available_qty", 3, "n"),
        (6, "message", "#N/A", "s"),
        (6, "remedy", "a < b & c", "s"),
        (6, "catalog", True, "b"),
        (6, "questions", 2.5, "n"),
        (9, "site", "MLM", "s"),
    ):
        assert (ws.cell(r, _col(key)).value, ws.cell(r, _col(key)).data_type) == (value, kind)
    assert ws.cell(9, _col("result")).value is None
    assert "<f>" not in zip_member(path, "xl/worksheets/sheet1.xml").decode()


def _formula_in_output(path: Path) -> None:
    wb = load_workbook(path)
    wb[L.SHEET_TAKEDOWN].cell(6, _col("message"), "=1+1")
    wb.save(path)


def _without_log(path: Path) -> None:
    wb = load_workbook(path)
    del wb[L.SHEET_LOG]
    wb.save(path)


def _log_entry(book: XlsxWorkbook) -> None:
    book.append_log([LogEntry(dt.datetime(2026, 1, 2, 3, 4, 5), "GET", "/items/MLM1", 200, "req-1", 12.34)])


def _asks_for_openpyxl(book: XlsxWorkbook) -> None:
    book.write_outcomes([Outcome(5, Result.OK, "C100")], stage="check")
    assert book.ws.title == L.SHEET_TAKEDOWN


def _changed_summary(path: Path) -> None:
    wb = load_workbook(path)
    wb[L.SHEET_TAKEDOWN]["B1"] = "Fine"
    wb.save(path)


@pytest.mark.parametrize(
    ("prepare", "act", "reason"),
    [
        (_formula_in_output, None, "formula"),
        (_without_log, _log_entry, "Log worksheet"),
        (None, _asks_for_openpyxl, "openpyxl worksheet"),
        (_changed_summary, None, "summary labels"),
    ],
)
def test_what_the_fast_path_does_not_cover_goes_through_openpyxl(
    tmp_path: Path, prepare: Any, act: Any, reason: str
) -> None:
    paths = [filled_book(tmp_path / f"{name}.xlsx", ROWS[:3]) for name in ("fast", "slow")]
    for path in paths:
        if prepare:
            prepare(path)
    for path, fast in zip(paths, (True, False), strict=True):
        book = XlsxWorkbook.open(path, fast=fast)
        if act:
            act(book)
        book.write_outcomes([Outcome(6, Result.WARNING, "C200", "m", "r")], stage="check")
        book.save()
        if fast:
            assert reason in (book.fallback_reason or "")
            assert not book.fast
    fast_cells, slow_cells = _cells(paths[0]), _cells(paths[1])
    assert fast_cells == slow_cells


def test_a_failed_fast_save_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS[:2])
    before = path.read_bytes()
    book = XlsxWorkbook.open(path)
    book.write_outcomes([Outcome(5, Result.OK, "C100", "m", "r")], stage="check")

    def crash(source: Path, target: Path, parts: object) -> None:
        target.write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(xlsx_module, "rewrite_package", crash)
    with pytest.raises(OSError, match="disk full"):
        book.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]


def test_after_a_fast_save_the_workbook_reads_back_what_was_written(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS[:2])
    book = XlsxWorkbook.open(path)
    book.write_outcomes([Outcome(5, Result.OK, "C100", "m", "r", {"title": "T"})], stage="check")
    book.save()
    assert book.read_rows()[0].outputs["title"] == "T"


def test_missing_result_formats_are_added_to_styles_once() -> None:
    styles = (
        b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<fonts count="1"><font><sz val="11"/></font></fonts>'
        b'<fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        b'<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
        b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        b"</styleSheet>"
    )
    book = StyleBook(styles)
    wanted = result_format(Result.BLOCKED)
    assert book.format_id(wanted) == 1 and book.format_id(wanted) == 1 and book.changed
    grown = book.to_xml()
    assert b'<fonts count="2">' in grown and b'<fills count="3">' in grown and b'<cellXfs count="2">' in grown
    again = StyleBook(grown)
    assert again.format_id(wanted) == 1 and not again.changed
    assert again.fill_rgb(1) == "00" + L.RESULT_FILLS[Result.BLOCKED]
    parsed = Stylesheet.from_tree(ElementTree.fromstring(grown))
    assert parsed.fonts[parsed.cell_styles[1].fontId] == wanted.font


# --- The splicer on its own -----------------------------------------------------------------------

_HEAD = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:B2"/>'
)


def test_splice_inserts_rows_in_order_and_widens_the_dimension() -> None:
    xml = _HEAD + (
        b'<sheetData><row r="1" spans="1:2"><c r="A1" s="3"><v>1</v></c><c r="B1" t="s"><v>0</v></c></row>'
        b'<row r="4"><c r="A4"><v>4</v></c></row></sheetData></worksheet>'
    )
    out = splice_sheet(
        xml,
        {
            1: {2: CellEdit("x"), 4: CellEdit(None)},
            2: {3: CellEdit(7, style=5)},
            9: {1: CellEdit(False)},
        },
    )
    assert out == _HEAD.replace(b"A1:B2", b"A1:C9") + (
        b'<sheetData><row r="1" spans="1:2"><c r="A1" s="3"><v>1</v></c>'
        b'<c r="B1" t="inlineStr"><is><t>x</t></is></c></row>'
        b'<row r="2"><c r="C2" s="5"><v>7</v></c></row>'
        b'<row r="4"><c r="A4"><v>4</v></c></row>'
        b'<row r="9"><c r="A9" t="b"><v>0</v></c></row></sheetData></worksheet>'
    )


def test_splice_keeps_the_format_of_a_cleared_cell_and_fills_an_empty_sheet() -> None:
    xml = (
        _HEAD
        + b'<sheetData><row r="2"><c r="B2" s="4" t="inlineStr"><is><t>old</t></is></c></row></sheetData>'
    )
    assert b'<row r="2"><c r="B2" s="4"/></row>' in splice_sheet(xml, {2: {2: CellEdit(None)}})
    empty = b'<worksheet><dimension ref="A1"/><sheetData/></worksheet>'
    assert splice_sheet(empty, {3: {2: CellEdit(1.5)}}) == (
        b'<worksheet><dimension ref="B3:B3"/><sheetData><row r="3"><c r="B3"><v>1.5</v></c></row></sheetData>'
        b"</worksheet>"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<row><c><v>1</v></c></row>",  # no r attributes
        b'<row r="2"/><row r="1"/>',  # out of order
        b'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<x>]]></t></is></c></row>',
        b'<row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0">B1</f></c></row>',  # a formula to replace
        b'<row r="1"><extLst/></row>',
    ],
)
def test_splice_refuses_what_it_does_not_know(body: bytes) -> None:
    xml = _HEAD + b"<sheetData>" + body + b"</sheetData></worksheet>"
    with pytest.raises(SpliceUnsupported):
        splice_sheet(xml, {1: {1: CellEdit("x")}})
    with pytest.raises(SpliceUnsupported):
        splice_sheet(b"<x:worksheet><x:sheetData/></x:worksheet>", {1: {1: CellEdit("x")}})


def test_the_inline_string_shortcut_reads_what_openpyxl_reads() -> None:
    xml = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
        b'<c r="A1" t="inlineStr"><is><t/></is></c>'
        b'<c r="B1" s="2" t="inlineStr"><is><t xml:space="preserve"> a&amp;b </t></is></c>'
        b'<c r="C1" t="inlineStr"><is><r><t>x</t></r><r><rPr><b/></rPr><t>y</t></r></is></c>'
        b'<c r="D1" t="inlineStr"/><c r="E1" t="inlineStr"><f>1+1</f><is><t>2</t></is></c>'
        b'<c t="inlineStr"><is><t>no reference</t></is></c><c r="H1" s="0" t="inlineStr"><is><t>=x</t></is></c>'
        b"</row></sheetData></worksheet>"
    )
    ours = list(_SheetParser(io.BytesIO(xml), []).parse())
    assert ours == list(WorkSheetParser(io.BytesIO(xml), []).parse())
    assert [cell["value"] for cell in ours[0][1]] == ["", " a&b ", "xy", None, "=1+1", "no reference", "=x"]


def test_saving_without_writing_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS[:2])
    before = path.read_bytes()
    book = XlsxWorkbook.open(path)
    assert len(book.read_rows()) == 2
    book.save()
    assert path.read_bytes() == before and book.fast and book.fallback_reason is None
