"""The openpyxl adapter: new workbooks, reading by header text, writing outputs only, bad files."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from mltakedown.book import layout as L
from mltakedown.book.errors import (
    EncryptedWorkbookError,
    MissingColumnError,
    MissingSheetError,
    NotAWorkbookError,
    TemplateVersionError,
    TooManyRowsError,
    WorkbookError,
    WorkbookLockedError,
)
from mltakedown.book.ports import LogEntry, Outcome, Result, SnapshotRow, WorkbookPort
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook
from mltakedown.codes import CATALOGUE, Code, texts

from .helpers import encrypted_package_cfb, filled_book, zip_member

ROWS = [
    ("MLM-1234567890", "PAUSE", "TRO", "CASE-1", None, "first"),
    ("00123", "pausar", "TRO"),
    (123, "CLOSE", "TRO", None, "yes"),
]


def _col(key: str) -> int:
    return [c.key for c in L.TAKEDOWN_COLUMNS].index(key) + 1


@pytest.mark.parametrize("lang", ["zh", "es", "pt", "en"])
def test_new_workbook_has_every_sheet_and_the_layout(tmp_path: Path, lang: str) -> None:
    path = create_workbook(tmp_path / "new.xlsx", lang)
    wb = load_workbook(path)
    assert wb.sheetnames == list(L.SHEETS)
    ws = wb[L.SHEET_TAKEDOWN]
    assert [ws.cell(L.HEADER_ROW, i + 1).value for i in range(len(L.TAKEDOWN_COLUMNS))] == [
        c.header(lang) for c in L.TAKEDOWN_COLUMNS
    ]
    assert ws.freeze_panes == f"A{L.FIRST_DATA_ROW}"
    assert ws.cell(L.SUMMARY_LABEL_ROW, 1).value == L.SUMMARY_TITLE[lang]
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert f'"{",".join(c[lang] for c in L.ACTION_CHOICES.values())}"' in formulas
    assert f'"{",".join(c[lang] for c in L.REASON_CHOICES.values())}"' in formulas
    assert ws.column_dimensions["A"].number_format == "@"  # SKUs stay text
    settings = {r[0]: r[1] for r in wb[L.SHEET_SETTINGS].iter_rows(min_row=2, values_only=True)}
    assert settings[L.TEMPLATE_VERSION_KEY] == L.TEMPLATE_VERSION and settings["LANGUAGE"] == lang
    assert wb.defined_names[L.TEMPLATE_VERSION_NAME].attr_text == f'"{L.TEMPLATE_VERSION}"'
    codes = list(wb[L.SHEET_CODES].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in codes] == [c.value for c in CATALOGUE]
    assert codes[0][4] == texts(Code(codes[0][0]), lang).message
    conf = [r[0] for r in wb[L.SHEET_XLWINGS_CONF].iter_rows(values_only=True)]
    assert {"INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH"} <= set(conf)


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    path = create_workbook(tmp_path / "a.xlsx", "en")
    with pytest.raises(WorkbookError, match="already exists"):
        create_workbook(path, "en")


def test_the_adapter_is_a_workbook_port(tmp_path: Path) -> None:
    book = XlsxWorkbook.open(filled_book(tmp_path / "t.xlsx", ROWS))
    assert isinstance(book, WorkbookPort)
    assert book.language == "en"


def test_rows_are_read_by_header_text_in_any_order_and_language(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    # Swap the Identifier and Reason columns and give them Chinese and Portuguese headers.
    for r in range(L.HEADER_ROW, L.FIRST_DATA_ROW + len(ROWS)):
        a, c = ws.cell(r, 1).value, ws.cell(r, 3).value
        ws.cell(r, 1).value, ws.cell(r, 3).value = c, a
    ws.cell(L.HEADER_ROW, 1).value = "Motivo"
    ws.cell(L.HEADER_ROW, 3).value = "标识"
    ws.cell(L.FIRST_DATA_ROW + 5, 2).value = '=UPPER("pause")'  # a formula in Action, after a gap
    wb.save(path)
    rows = XlsxWorkbook.open(path).read_rows()
    assert [r.row_number for r in rows] == [5, 6, 7, 10]
    assert rows[0].values == {
        "identifier": "MLM-1234567890",
        "action": "PAUSE",
        "reason": "TRO",
        "reference": "CASE-1",
        "note": "first",
    }
    assert rows[2].values["identifier"] == 123 and rows[2].values["confirm"] == "yes"
    assert rows[3].formulas == frozenset({"action"})


def test_outcomes_touch_only_output_cells(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    before = load_workbook(path)[L.SHEET_TAKEDOWN]
    inputs_before = {
        (c.row, c.column): c.value
        for row in before.iter_rows()
        for c in row
        if c.row >= L.HEADER_ROW and c.column <= len(L.INPUT_KEYS)
    }
    book = XlsxWorkbook.open(path)
    book.write_outcomes(
        [
            Outcome(
                5, Result.OK, "C100", '=HYPERLINK("http://evil")', "ok", {"title": "=1+1", "item_id": "MLM1"}
            ),
            Outcome(
                6,
                Result.BLOCKED,
                "C104",
                "#N/A",
                "fix",
                {"done_at_utc": dt.datetime(2026, 1, 2, tzinfo=dt.UTC)},
            ),
        ],
        stage="check",
    )
    book.save()
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    inputs_after = {
        (c.row, c.column): c.value
        for row in ws.iter_rows()
        for c in row
        if c.row >= L.HEADER_ROW and c.column <= len(L.INPUT_KEYS)
    }
    assert inputs_after == inputs_before
    assert ws.cell(5, _col("result")).value == "OK"
    # A new workbook colours Result cells by conditional formatting: no fill is painted on them.
    assert ws.cell(5, _col("result")).fill.fgColor.rgb == "00000000"
    assert ws.cell(6, _col("result")).fill.fgColor.rgb == "00000000"
    assert ws.cell(6, _col("done_at_utc")).value == dt.datetime(2026, 1, 2)
    # External text is text: no formula, no error value, in the saved XML.
    sheet_xml = zip_member(path, "xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    message = ws.cell(5, _col("message"))
    assert message.value == '=HYPERLINK("http://evil")' and message.data_type == "s"
    assert ws.cell(5, _col("title")).value == "=1+1" and ws.cell(5, _col("title")).data_type == "s"
    assert ws.cell(6, _col("message")).value == "#N/A" and ws.cell(6, _col("message")).data_type == "s"
    summary = [ws.cell(L.SUMMARY_VALUE_ROW, c).value for c in range(2, 9)]
    assert summary[:6] == [1, 0, 0, 1, 0, 2] and summary[6] == "check"


def test_stale_outputs_are_cleared_only_when_asked(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    book = XlsxWorkbook.open(path)
    book.write_outcomes(
        [Outcome(5, Result.OK, "L200", "found", "", {"title": "Old", "status_before": "active"})],
        stage="pull",
    )
    book.write_outcomes([Outcome(5, Result.OK, "C100", "ok", "", {"site": "MLM"})], stage="check")
    assert book.read_rows()[0].outputs["title"] == "Old"
    book.write_outcomes(
        [Outcome(5, Result.OK, "L200", "found", "", {"title": "New"}, clear_others=True)], stage="pull"
    )
    outputs = book.read_rows()[0].outputs
    assert outputs["title"] == "New" and "status_before" not in outputs and "site" not in outputs


def test_outcomes_never_write_input_columns(tmp_path: Path) -> None:
    book = XlsxWorkbook.open(filled_book(tmp_path / "t.xlsx", ROWS))
    with pytest.raises(WorkbookError, match="inputs are never written"):
        book.write_outcomes([Outcome(5, Result.OK, values={"identifier": "X"})], stage="check")


def test_missing_output_columns_are_added(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    ws.delete_cols(_col("message"), 2)  # the user deleted Message and Remedy
    wb.save(path)
    book = XlsxWorkbook.open(path)
    book.write_outcomes([Outcome(5, Result.OK, "C100", "hello", "do")], stage="check")
    book.save()
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    headers = [c.value for c in ws[L.HEADER_ROW]]
    assert headers[-2:] == ["Message", "Remedy"]
    assert ws.cell(5, len(headers) - 1).value == "hello"


def test_log_and_snapshots_append(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    at = dt.datetime(2026, 5, 1, 12, 0)
    for _ in range(2):
        book = XlsxWorkbook.open(path)
        book.append_log([LogEntry(at, "PUT", "/items/MLM1", 200, "req-1", 12.34, 5, "run1", "=note")])
        book.write_snapshots(
            [
                SnapshotRow(
                    "run1",
                    at,
                    "MLM1",
                    123,
                    "MLM",
                    "active",
                    "",
                    3,
                    9.5,
                    "T",
                    "ab",
                    "f.json",
                    '{"id": "MLM1"}',
                )
            ]
        )
        book.save()
    wb = load_workbook(path)
    log = list(wb[L.SHEET_LOG].iter_rows(min_row=2, values_only=True))
    assert (
        len(log) == 2
        and log[0][:7] == (at, "PUT", "/items/MLM1", 200, "req-1", 12.3, 5)
        and log[0][8] == "=note"
    )
    snaps = list(wb[L.SHEET_SNAPSHOTS].iter_rows(min_row=2, values_only=True))
    assert len(snaps) == 2 and snaps[1][2:4] == ("MLM1", "123")


# --- Bad files: a clear error naming the file, and the file untouched -----------------------------


def _untouched(path: Path, error: type[WorkbookError], match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(error, match=match) as info:
        XlsxWorkbook.open(path)
    assert path.name in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".~mltakedown")] == []


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("just text")
    _untouched(path, NotAWorkbookError, "not a zip")


def test_corrupt_zip(tmp_path: Path) -> None:
    good = filled_book(tmp_path / "good.xlsx", ROWS).read_bytes()
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good[: len(good) // 2])
    _untouched(path, NotAWorkbookError, "damaged")


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    _untouched(path, NotAWorkbookError, "not an Excel workbook")


def test_password_protected(tmp_path: Path) -> None:
    _untouched(encrypted_package_cfb(tmp_path / "secret.xlsx"), EncryptedWorkbookError, "password")


def test_no_takedown_sheet(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    Workbook().save(path)
    _untouched(path, MissingSheetError, "no 'Takedown' sheet")


def test_no_identifier_column(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    wb[L.SHEET_TAKEDOWN].cell(L.HEADER_ROW, 1).value = "Whatever"
    wb.save(path)
    _untouched(path, MissingColumnError, "Identifier")


def test_a_million_rows(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "big.xlsx", ROWS)
    wb = load_workbook(path)
    wb[L.SHEET_TAKEDOWN].cell(1_000_005, 1).value = "far away"
    wb.save(path)
    _untouched(path, TooManyRowsError, "at most 200,000")


def test_open_in_excel(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    (tmp_path / "~$t.xlsx").write_bytes(b"owner")
    _untouched(path, WorkbookLockedError, "open in Excel")


def test_old_or_unstamped_template(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    ws = wb[L.SHEET_SETTINGS]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == L.TEMPLATE_VERSION_KEY:
            row[1].value = "0"
    wb.save(path)
    _untouched(path, TemplateVersionError, "mltakedown upgrade t.xlsx")


def test_newer_template(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    wb = load_workbook(path)
    for row in wb[L.SHEET_SETTINGS].iter_rows(min_row=2):
        if row[0].value == L.TEMPLATE_VERSION_KEY:
            row[1].value = "99"
    wb.save(path)
    _untouched(path, TemplateVersionError, "update mltakedown")


def test_a_failed_save_leaves_the_original_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    before = path.read_bytes()
    book = XlsxWorkbook.open(path)
    book.write_outcomes([Outcome(5, Result.OK, "C100", "m", "r")], stage="check")

    def crash(target: object) -> None:
        Path(str(target)).write_bytes(b"half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(book.wb, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        book.save()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]


def test_a_lock_file_appearing_before_save_is_refused(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    before = path.read_bytes()
    book = XlsxWorkbook.open(path)
    (tmp_path / "~$t.xlsx").write_bytes(b"owner")
    with pytest.raises(WorkbookLockedError):
        book.save()
    assert path.read_bytes() == before


def test_write_report_replaces_the_report_sheet(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    book = XlsxWorkbook.open(path)
    book.write_report([["Run", "r1"], ["Paused", 3, None, "=cmd"]])
    book.write_report([["Run", "r2"]])
    book.save()
    ws = load_workbook(path)["Report"]
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [["Run", "r2"]]


def test_reading_a_workbook_open_in_excel_is_allowed_when_not_writing(tmp_path: Path) -> None:
    path = filled_book(tmp_path / "t.xlsx", ROWS)
    (tmp_path / "~$t.xlsx").write_bytes(b"owner")
    assert len(XlsxWorkbook.open(path, writable=False).read_rows()) == 3
