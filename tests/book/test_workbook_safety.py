"""Review findings on the headless workbook path: text a cell cannot hold, workbooks saved by other
programs, a file changed on disk while a stage ran, and ``upgrade`` moving a user's own list."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

from mltakedown.book import layout as L
from mltakedown.book.errors import TooManyRowsError, WorkbookError
from mltakedown.book.ports import LogEntry, Outcome, Result
from mltakedown.book.settings import parse_settings
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook, upgrade_workbook
from mltakedown.book.xlsx_splice import MAX_CELL_TEXT, safe_text
from mltakedown.engine import ops

from .helpers import filled_book

ROWS = [("MLM1234567890", "PAUSE", "TRO"), ("SKU-1", "nonsense", "TRO"), ("SKU-2", "CLOSE", "TRO")]


def _col(key: str) -> int:
    return [c.key for c in L.TAKEDOWN_COLUMNS].index(key) + 1


def _every_xml_part_parses(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(archive.read(name))  # raises on a part Excel would refuse


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- Text a cell cannot hold ----------------------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "openpyxl"])
@pytest.mark.parametrize(
    "bad",
    ["\uffff", "\ufffe", "\ud800", "\udfff", "\x00", "\x1b"],
    ids=["FFFF", "FFFE", "D800", "DFFF", "NUL", "ESC"],
)
def test_text_xml_cannot_hold_never_breaks_the_workbook(tmp_path: Path, fast: bool, bad: str) -> None:
    # A title from the API (JSON may carry "\uffff" or a lone "\ud800") must not make the file unreadable.
    path = filled_book(tmp_path / "t.xlsx", ROWS[:1])
    book = XlsxWorkbook.open(path, fast=fast)
    book.write_outcomes([Outcome(5, Result.OK, "C100", f"m{bad}", "r", {"title": f"a{bad}b"})], stage="pull")
    book.save()
    _every_xml_part_parses(path)
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    assert ws.cell(5, _col("title")).value == "a\ufffdb"
    assert ws.cell(5, _col("message")).value == "m\ufffd"


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "openpyxl"])
def test_long_text_is_capped_as_excel_counts_characters(tmp_path: Path, fast: bool) -> None:
    # Excel's 32,767-character limit counts UTF-16 units: an emoji is two of them.
    path = filled_book(tmp_path / "t.xlsx", ROWS[:1])
    book = XlsxWorkbook.open(path, fast=fast)
    book.write_outcomes([Outcome(5, Result.OK, values={"title": "😀" * 20_000})], stage="pull")
    book.save()
    title = load_workbook(path)[L.SHEET_TAKEDOWN].cell(5, _col("title")).value
    assert _utf16_units(title) <= MAX_CELL_TEXT
    assert title.endswith("…") and title[:-1] == "😀" * len(title[:-1])


def test_safe_text_keeps_what_fits_and_cuts_on_whole_characters() -> None:
    assert safe_text("x" * MAX_CELL_TEXT) == "x" * MAX_CELL_TEXT
    assert safe_text("ok مرحبا שלום") == "ok مرحبا שלום"  # right-to-left text is text
    cut = safe_text("😀" * MAX_CELL_TEXT)
    assert _utf16_units(cut) == MAX_CELL_TEXT and cut == "😀" * (MAX_CELL_TEXT // 2) + "…"
    odd = safe_text("a" + "😀" * MAX_CELL_TEXT)  # no room for half an emoji: one unit stays unused
    assert _utf16_units(odd) == MAX_CELL_TEXT - 1 and odd.endswith("😀…")


# --- Workbooks saved by Excel or LibreOffice ------------------------------------------------------


def _opaque_fills(path: Path) -> None:
    """Write fills as Excel and LibreOffice do (alpha FF), not as openpyxl does (alpha 00)."""
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    parts["xl/styles.xml"] = parts["xl/styles.xml"].replace(b'rgb="00', b'rgb="FF')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def test_a_workbook_saved_by_excel_keeps_the_fast_path(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    _opaque_fills(path)
    book = XlsxWorkbook.open(path)
    ops.check(book)
    assert book.fallback_reason is None
    summary = load_workbook(path)[L.SHEET_TAKEDOWN]
    assert [summary.cell(L.SUMMARY_VALUE_ROW, c).value for c in range(2, 8)] == [1, 0, 0, 2, 0, 3]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_workbook_saved_by_libreoffice_is_checked_on_the_fast_path(tmp_path: Path) -> None:
    source = filled_book(tmp_path / "src.xlsx", ROWS)
    wb = load_workbook(source)
    ws = wb[L.SHEET_TAKEDOWN]
    ws.cell(5, len(L.TAKEDOWN_COLUMNS) + 2, "=1+1")  # a user's formula, cached by LibreOffice
    ws.row_dimensions[6].hidden = True
    ws.auto_filter.ref = f"A{L.HEADER_ROW}:C8"
    ws.cell(7, _col("identifier")).hyperlink = "https://example.com/"
    ws.cell(7, _col("note")).comment = Comment("keep me", "user")
    wb.save(source)
    out = tmp_path / "lo"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    path = out / "src.xlsx"
    before = load_workbook(path)[L.SHEET_TAKEDOWN]
    inputs = {(r, c): before.cell(r, c).value for r in range(5, 8) for c in range(1, 7)}
    book = XlsxWorkbook.open(path)
    report = ops.check(book)
    assert book.fallback_reason is None
    _every_xml_part_parses(path)
    after = load_workbook(path)[L.SHEET_TAKEDOWN]
    assert {(r, c): after.cell(r, c).value for r in range(5, 8) for c in range(1, 7)} == inputs
    assert [after.cell(r, _col("result")).value for r in range(5, 8)] == ["OK", "BLOCKED", "BLOCKED"]
    assert after.cell(7, _col("identifier")).hyperlink is not None
    assert after.cell(7, _col("note")).comment is not None
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b"<v>2</v>" in sheet  # the formula's cached value is kept (the openpyxl path drops it)
    assert report is not None


# --- A file changed on disk between reading and writing -------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "openpyxl"])
def test_a_workbook_changed_on_disk_meanwhile_is_not_overwritten(tmp_path: Path, fast: bool) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    book = XlsxWorkbook.open(path, fast=fast)
    book.write_outcomes([Outcome(5, Result.OK, "C100", "checked")], stage="check")
    # Meanwhile the user inserts a row at the top of the list in Excel, saves and closes.
    wb = load_workbook(path)
    wb[L.SHEET_TAKEDOWN].insert_rows(L.FIRST_DATA_ROW)
    wb[L.SHEET_TAKEDOWN].cell(L.FIRST_DATA_ROW, 1, "MLM9999999999")
    wb.save(path)
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's resolution
    edited = path.read_bytes()
    with pytest.raises(WorkbookError, match="changed on disk"):
        book.save()
    assert path.read_bytes() == edited


def test_saving_twice_is_not_taken_for_a_change_by_someone_else(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    book = XlsxWorkbook.open(path)
    book.write_outcomes([Outcome(5, Result.OK, "C100")], stage="check")
    book.save()
    book.write_outcomes([Outcome(6, Result.BLOCKED, "C111")], stage="check")
    book.append_log([])
    book.save()
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    assert (ws.cell(5, _col("result")).value, ws.cell(6, _col("result")).value) == ("OK", "BLOCKED")


# --- upgrade of a user's own list -----------------------------------------------------------------


def test_upgrade_moves_links_merges_rules_and_formulas_with_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "mine.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Lista"
    ws.append(["Identifier", "Action", "Reason", "Note", "Extra", ""])
    ws.append(["https://articulo.mercadolibre.com.mx/MLM-1234567890-x-_JM", "PAUSE", "TRO", "see", "m"])
    ws.append(["SKU-00123", "CLOSE", "TRO", None, "=A3&$B$2"])
    ws["A2"].hyperlink = "https://articulo.mercadolibre.com.mx/MLM-1234567890-x-_JM"
    ws["D2"].comment = Comment("hi", "me")
    ws.merge_cells("E2:F2")
    dv = DataValidation(type="list", formula1='"A,B"')
    dv.add("E2:E3")
    ws.add_data_validation(dv)
    ws.conditional_formatting.add(
        "D2:D3", CellIsRule(operator="equal", formula=["$E$2"], fill=PatternFill("solid", fgColor="FF0000"))
    )
    ws.add_table(Table(displayName="Mine", ref="A1:D3"))
    other = wb.create_sheet("Totals")
    other["A1"] = "=COUNTA(Lista!A2:A3)"
    wb.defined_names["ids"] = DefinedName("ids", attr_text="Lista!$A$2:$A$3")
    wb.save(path)

    report = upgrade_workbook(path)

    assert report.rows_inserted == L.HEADER_ROW - 1
    shift = report.rows_inserted
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    links = {c.coordinate: c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink}
    assert links == {f"A{2 + shift}": "https://articulo.mercadolibre.com.mx/MLM-1234567890-x-_JM"}
    assert ws[f"D{2 + shift}"].comment is not None
    assert [r.coord for r in ws.merged_cells.ranges] == [f"E{2 + shift}:F{2 + shift}"]
    assert ws[f"E{3 + shift}"].value == f"=A{3 + shift}&$B${2 + shift}"
    assert wb["Totals"]["A1"].value == f"=COUNTA('{L.SHEET_TAKEDOWN}'!A{2 + shift}:A{3 + shift})"
    assert wb.defined_names["ids"].attr_text == f"'{L.SHEET_TAKEDOWN}'!$A${2 + shift}:$A${3 + shift}"
    user_rules = [str(v.sqref) for v in ws.data_validations.dataValidation if v.formula1 == '"A,B"']
    assert user_rules == [f"E{2 + shift}:E{3 + shift}"]
    ranges = {str(cf.sqref): [r.formula for r in cf.rules] for cf in ws.conditional_formatting}
    assert ranges[f"D{2 + shift}:D{3 + shift}"] == [[f"$E${2 + shift}"]]
    assert ws.tables["Mine"].ref == f"A{1 + shift}:D{3 + shift}"
    # The summary block is the template's: no user merge or link landed on it.
    assert all(ws.cell(L.SUMMARY_VALUE_ROW, c).hyperlink is None for c in range(1, 10))
    rows = XlsxWorkbook.open(path).read_rows()
    assert [r.values["identifier"] for r in rows] == [
        "https://articulo.mercadolibre.com.mx/MLM-1234567890-x-_JM",
        "SKU-00123",
    ]


def test_upgrade_drops_result_colours_painted_in_a_workbook_saved_by_excel(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    ws.conditional_formatting = type(ws.conditional_formatting)()  # a workbook made before the rules
    for row in wb[L.SHEET_SETTINGS].iter_rows(min_row=2):
        if row[0].value == L.RESULT_COLOURS_KEY:
            row[1].value = None
    cell = ws.cell(5, _col("result"), "OK")
    cell.fill = PatternFill("solid", fgColor="FF" + L.RESULT_FILLS[Result.OK])  # Excel saves alpha FF
    wb.save(path)

    assert upgrade_workbook(path).colour_rules_added
    fill = load_workbook(path)[L.SHEET_TAKEDOWN].cell(5, _col("result")).fill
    assert fill.fill_type is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("FALSO", False),
        ("falso", False),
        ("VERDADERO", True),
        ("VERDADEIRO", True),
        (0, False),
        ("no", False),
    ],
)
def test_yes_no_settings_typed_as_text_in_spanish_or_portuguese(typed: object, expected: bool) -> None:
    # Settings' value column is formatted as Text: Excel keeps a typed FALSO as the word, not a boolean.
    assert parse_settings([("PAUSE_ADS_WITH_LISTING", typed)]).pause_ads_with_listing is expected


@pytest.mark.parametrize(
    ("typed", "expected"), [("1001", 1001), (1001.0, 1001), ("１００１", 1001), ("1001²", None)]
)
def test_a_seller_id_that_is_not_a_number_is_no_seller_id(typed: object, expected: int | None) -> None:
    assert parse_settings([("SELLER_ID", typed)]).seller_id == expected


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_new_force_refuses_a_workbook_open_in_excel(tmp_path: Path, suffix: str) -> None:
    path = create_workbook(tmp_path / f"t{suffix}", "en")
    before = path.read_bytes()
    (tmp_path / f"~$t{suffix}").write_bytes(b"owner")
    with pytest.raises(WorkbookError, match="opened in Excel"):
        create_workbook(path, "es", overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, f"~$t{suffix}"])


# --- Merged cells where the tool writes -----------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "openpyxl"])
@pytest.mark.parametrize("merged", ["message:5:remedy:5", "result:5:result:6", "B2:C2"])
def test_an_output_cell_covered_by_a_merge_is_refused_with_the_range(
    tmp_path: Path, fast: bool, merged: str
) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    if ":" in merged and merged.count(":") == 3:
        first, r1, last, r2 = merged.split(":")
        merged = f"{get_column_letter(_col(first))}{r1}:{get_column_letter(_col(last))}{r2}"
    wb[L.SHEET_TAKEDOWN].merge_cells(merged)
    wb.save(path)
    before = path.read_bytes()
    book = XlsxWorkbook.open(path, fast=fast)
    with pytest.raises(WorkbookError, match=f"cells {merged} are merged"):
        ops.check(book)
    assert path.read_bytes() == before


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "openpyxl"])
def test_merged_input_cells_are_fine(tmp_path: Path, fast: bool) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    wb[L.SHEET_TAKEDOWN].merge_cells(f"D5:{get_column_letter(_col('note'))}5")
    wb.save(path)
    book = XlsxWorkbook.open(path, fast=fast)
    ops.check(book)
    assert book.fallback_reason is None
    assert load_workbook(path)[L.SHEET_TAKEDOWN].cell(5, _col("result")).value == "OK"


def test_a_workbook_open_in_libreoffice_is_refused_for_writing(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    (tmp_path / ".~lock.t.xlsx#").write_text("user,host,...")
    before = path.read_bytes()
    with pytest.raises(WorkbookError, match="open in Excel"):
        XlsxWorkbook.open(path)
    assert XlsxWorkbook.open(path, writable=False).read_rows()  # reading the last save is fine
    assert path.read_bytes() == before


def test_a_workbook_reached_through_a_link_is_written_where_it_lives(tmp_path: Path) -> None:
    real = filled_book(tmp_path / "real.xlsx", ROWS)
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    ops.check(XlsxWorkbook.open(link))
    assert link.is_symlink()
    assert load_workbook(real)[L.SHEET_TAKEDOWN].cell(5, _col("result")).value == "OK"


def test_a_sheet_without_a_dimension_is_refused_at_the_first_row_past_the_cap(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    far = L.HEADER_ROW + L.MAX_DATA_ROWS + 1
    sheet = sheet.replace(
        sheet[sheet.index("<dimension") : sheet.index("/>", sheet.index("<dimension")) + 2], ""
    )
    after = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>SKU</t></is></c></row>' for r in (far, far + 9)
    )
    parts["xl/worksheets/sheet1.xml"] = sheet.replace("</sheetData>", after + "</sheetData>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    before = path.read_bytes()
    # Refused while streaming (the open), not after every row was held in memory.
    with pytest.raises(TooManyRowsError, match=f"row {far:,}"):
        XlsxWorkbook.open(path)
    assert path.read_bytes() == before


def test_upgrade_refuses_to_write_the_summary_over_a_users_title(tmp_path: Path) -> None:
    path = tmp_path / "mine.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Bajas marzo — tienda norte"
    ws.append([])
    ws.cell(L.HEADER_ROW, 1, "Identifier")
    ws.cell(L.HEADER_ROW, 2, "Action")
    ws.cell(L.HEADER_ROW + 1, 1, "SKU-1")
    ws.cell(L.HEADER_ROW + 1, 2, "PAUSE")
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(WorkbookError, match="A1 holds 'Bajas marzo"):
        upgrade_workbook(path)
    assert path.read_bytes() == before


def test_upgrade_unmerges_cells_where_the_summary_goes(tmp_path: Path) -> None:
    path = tmp_path / "mine.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = L.SHEET_TAKEDOWN
    ws.cell(L.HEADER_ROW, 1, "Identifier")
    ws.cell(L.HEADER_ROW, 2, "Action")
    ws.cell(L.HEADER_ROW + 1, 1, "SKU-1")
    ws.cell(L.HEADER_ROW + 1, 2, "PAUSE")
    ws.merge_cells("A1:C2")
    ws.merge_cells("K1:L2")  # beside the summary block: kept
    wb.save(path)
    upgrade_workbook(path)
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    assert [r.coord for r in ws.merged_cells.ranges] == ["K1:L2"]
    assert ws["A1"].value in L.SUMMARY_TITLE.values()
    book = XlsxWorkbook.open(path)
    ops.check(book)
    total_col = len(L.SUMMARY_RESULTS) + 2
    assert load_workbook(path)[L.SHEET_TAKEDOWN].cell(L.SUMMARY_VALUE_ROW, total_col).value == 1


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "openpyxl"])
def test_a_damaged_package_relationship_part_is_a_clear_error(tmp_path: Path, fast: bool) -> None:
    source = filled_book(tmp_path / "src.xlsx", ROWS)
    path = tmp_path / "t.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            out.writestr(info, b"not xml <" if info.filename == "_rels/.rels" else src.read(info))
    before = path.read_bytes()
    with pytest.raises(WorkbookError, match=r"damaged \(_rels/\.rels"):
        XlsxWorkbook.open(path, fast=fast)
    assert path.read_bytes() == before


# --- Log appends ----------------------------------------------------------------------------------


def _log_header(key: str) -> str:
    return next(c.header("zh") for c in L.LOG_COLUMNS if c.key == key)


def test_a_log_column_whose_header_was_deleted_gets_its_own_column_again(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS, lang="zh")
    wb = load_workbook(path)
    log = wb[L.SHEET_LOG]
    log.insert_cols(1)
    log["A1"] = "Mine"  # a column of the user's first, so the template's positions are all off by one
    note_col = next(c.column for c in log[1] if c.value == _log_header("note"))
    log.cell(1, note_col).value = None  # the Note header deleted
    wb.save(path)
    book = XlsxWorkbook.open(path)
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    book.append_log([LogEntry(at, "PUT", "/items/MLM1", 200, "req-1", 1.0, 5, "run-1", "=note")])
    book.save()
    log = load_workbook(path)[L.SHEET_LOG]
    values = {str(log.cell(1, c).value): log.cell(2, c).value for c in range(1, log.max_column + 1)}
    assert values[_log_header("run_id")] == "run-1"
    assert values[_log_header("note")] == "=note"
    assert values["Mine"] is None


def test_upgrade_accepts_what_an_earlier_run_wrote_into_the_summary_rows(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    ops.check(XlsxWorkbook.open(path))  # labels, counts, stage and time in rows 1-3
    wb = load_workbook(path)
    del wb.defined_names[L.TEMPLATE_VERSION_NAME]
    del wb[L.SHEET_SETTINGS]  # no stamp left: upgrade sees a list it never stamped
    wb.save(path)
    report = upgrade_workbook(path)
    assert report.from_version == "" and report.rows_kept == len(ROWS)


def test_a_new_workbook_gets_the_usual_permissions_and_a_saved_one_keeps_its_own(tmp_path: Path) -> None:
    import os
    import stat

    from mltakedown.book.xlsx import XlsxWorkbook, create_workbook

    path = create_workbook(tmp_path / "shared.xlsx", "en")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    os.chmod(path, 0o640)
    book = XlsxWorkbook.open(path)
    book.write_outcomes([], stage="check")
    book.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
