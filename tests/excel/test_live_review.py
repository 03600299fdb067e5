"""The live path where real Excel is less kind than a happy-path fake: a workbook that was never
saved, one on OneDrive that xlwings cannot map to a folder, a Log sheet that is missing or
protected, input cells holding text that merely starts with ``=``, and message boxes answered
the way xlwings answers them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BookFactory, build_book
from fake_xlwings import FakeBook

from mltakedown import excel
from mltakedown.book.errors import WorkbookError
from mltakedown.book.layout import FIRST_DATA_ROW, HEADER_ROW, SHEET_LOG, SHEET_TAKEDOWN, TAKEDOWN_COLUMNS
from mltakedown.book.live import LiveWorkbook, WorkbookLocationError
from mltakedown.sandbox.seed import SAMPLE_ITEM_IDS, SELLER_A

Caller = Callable[[FakeBook], FakeBook]
KEYS = [c.key for c in TAKEDOWN_COLUMNS]


def rows_for(ids: list[str]) -> list[dict[str, object]]:
    return [{"identifier": i, "action": "PAUSE", "reason": "IP complaint", "reference": "TRO-1"} for i in ids]


class UnmappedOneDriveBook(FakeBook):
    """A workbook on OneDrive with AutoSave: Excel's FullName is a URL, and xlwings 0.37.8's
    ``Book.fullname`` raises ``XlwingsError`` when it cannot find the synced folder."""

    @property  # type: ignore[override]
    def fullname(self) -> str:
        import xlwings

        raise xlwings.XlwingsError(
            "Couldn't find the local OneDrive folder. Please configure the "
            "ONEDRIVE_CONSUMER_WIN setting, see: xlwings.org/error."
        )

    @fullname.setter
    def fullname(self, value: str) -> None:
        self._fullname = value


def _never_saved(tmp_path: Path) -> FakeBook:
    """A workbook Excel has not saved yet: ``FullName`` is just ``Book1`` (no folder)."""
    book = build_book(
        tmp_path / "ignored.xlsm",
        rows_for(SAMPLE_ITEM_IDS[:2]),
        settings={"SELLER_ID": str(SELLER_A), "DEFAULT_SITE": "MLM"},
    )
    book.fullname = "Book1"
    book.name = "Book1"
    return book


def test_an_unsaved_workbook_gets_a_clear_error_and_no_journal_lands_in_the_working_folder(
    tmp_path: Path, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # RunPython's working folder for an unsaved book is not the user's choice
    monkeypatch.setenv("MLTAKEDOWN_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MLTAKEDOWN_ACCESS_TOKEN", "APP_USR-X")
    book = caller(_never_saved(tmp_path))
    with pytest.raises(WorkbookLocationError, match="not been saved"):
        _ = LiveWorkbook(book).path
    assert excel.plan() is None
    alert = book.app.alerts[-1]
    assert alert["mode"] == "critical"
    assert "WorkbookLocationError" in alert["prompt"] and "Save As" in alert["prompt"]
    assert list(cwd.iterdir()) == []  # no Book1.mltakedown folder somewhere random


def test_check_works_on_an_unsaved_workbook(tmp_path: Path, caller: Caller) -> None:
    """Check is offline and keeps nothing on disk, so it needs no folder."""
    book = caller(_never_saved(tmp_path))
    report = excel.check()
    assert report is not None
    assert book.sheets[SHEET_TAKEDOWN].cells.get((FIRST_DATA_ROW, KEYS.index("result") + 1)) == "OK"


def test_report_on_an_unsaved_workbook_does_not_save_it_anywhere(tmp_path: Path, caller: Caller) -> None:
    """xlwings' ``Book.save()`` on a never-saved book does ``SaveAs <cwd>/Book1.xlsx`` silently
    (the macros and the ribbon would be gone); Report must stop before that."""
    book = caller(_never_saved(tmp_path))
    assert excel.report() is None
    assert book.saves == 0
    assert all(a["buttons"] == "ok" for a in book.app.alerts)  # not asked to save
    assert "Save As" in book.app.alerts[-1]["prompt"]


def test_a_onedrive_workbook_xlwings_cannot_map_gets_a_clear_message(
    tmp_path: Path, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTAKEDOWN_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MLTAKEDOWN_ACCESS_TOKEN", "APP_USR-X")
    template = build_book(tmp_path / "x.xlsm", rows_for(SAMPLE_ITEM_IDS[:1]))
    book = UnmappedOneDriveBook("x.xlsm")
    book.sheets = template.sheets
    template.sheets.book = book
    caller(book)
    assert excel.plan() is None
    prompt = book.app.alerts[-1]["prompt"]
    assert "WorkbookLocationError" in prompt and "OneDrive" in prompt
    assert "xlwings.conf" in prompt  # where the fix goes
    assert "Traceback" not in prompt


def test_a_url_fullname_is_refused_not_used_as_a_folder(make_book: BookFactory) -> None:
    book = make_book()
    book.fullname = "https://d.docs.live.net/abc123/Documents/takedown.xlsm"
    with pytest.raises(WorkbookLocationError, match="OneDrive"):
        _ = LiveWorkbook(book).path


def test_a_damaged_unsaved_workbook_still_names_the_real_problem(tmp_path: Path) -> None:
    book = _never_saved(tmp_path)
    book.sheets[SHEET_TAKEDOWN].cells.pop((HEADER_ROW, KEYS.index("identifier") + 1))
    with pytest.raises(WorkbookError, match="Identifier") as caught:
        LiveWorkbook(book).read_rows()
    assert not isinstance(caught.value, WorkbookLocationError)


# --- the Log sheet when it is the problem ------------------------------------------------------


def _boom(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(book: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("mltakedown.engine.ops.check", broken)


def test_a_missing_log_sheet_is_added_for_the_traceback(
    make_book: BookFactory, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    _boom(monkeypatch)
    book = caller(make_book(sheets=[SHEET_TAKEDOWN, "Settings"]))
    assert excel.check() is None
    log = book.sheets[SHEET_LOG]
    assert any(isinstance(v, str) and v.startswith("Traceback") and "boom" in v for v in log.cells.values())
    assert "Log sheet (last row)" in book.app.alerts[-1]["prompt"]


def test_a_protected_log_sheet_still_gets_an_explaining_box(
    make_book: BookFactory, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    _boom(monkeypatch)
    book = caller(make_book())
    book.sheets[SHEET_LOG].protected = True
    assert excel.check() is None
    prompt = book.app.alerts[-1]["prompt"]
    assert "RuntimeError: boom" in prompt and "could not be written to the Log sheet" in prompt
    assert "protected" in prompt


def test_no_log_sheet_in_a_protected_workbook_still_gets_an_explaining_box(
    make_book: BookFactory, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    _boom(monkeypatch)
    book = caller(make_book(sheets=[SHEET_TAKEDOWN, "Settings"]))
    book.structure_protected = True
    assert excel.check() is None
    prompt = book.app.alerts[-1]["prompt"]
    assert "RuntimeError: boom" in prompt and "could not be written to the Log sheet" in prompt


# --- text that starts with "=" is not a formula ----------------------------------------------------


def test_an_input_text_starting_with_equals_is_text_not_a_formula(make_book: BookFactory) -> None:
    """Excel's ``Range.Formula`` gives a constant's text, so a text cell ``=MLM1`` (typed with an
    apostrophe, or into a Text cell) reads back ``"=MLM1"`` as formula too; only a cell whose
    value differs from its formula text is a real formula (openpyxl tells them apart the same way:
    by the cell type)."""
    book = make_book(rows_for(["x", "y"]))
    sheet = book.sheets[SHEET_TAKEDOWN]
    column = KEYS.index("note") + 1
    sheet.range((FIRST_DATA_ROW, column)).value = "'=not a formula"
    sheet.put(FIRST_DATA_ROW + 1, ["=A1"], column=column)  # a real formula
    first, second = LiveWorkbook(book).read_rows()
    assert first.values["note"] == "=not a formula" and first.formulas == frozenset()
    assert second.values["note"] == "=A1" and second.formulas == frozenset({"note"})


# --- message boxes as xlwings answers them --------------------------------------------------------


def test_execute_goes_ahead_only_on_ok(make_book: BookFactory, caller: Caller) -> None:
    book = caller(make_book())
    confirm = excel._asking(LiveWorkbook(book), "execute")
    for answer, expected in (("ok", True), ("cancel", False)):
        book.app.answers = [answer]
        assert confirm({"pause": 2, "rows": 2}) is expected
    assert book.app.alerts[-1]["buttons"] == "ok_cancel" and book.app.alerts[-1]["mode"] == "critical"


def test_the_fake_alert_refuses_what_xlwings_refuses(make_book: BookFactory) -> None:
    app = make_book().app
    with pytest.raises(KeyError):
        app.alert("x", buttons="okcancel")
    with pytest.raises(KeyError):
        app.alert("x", mode="warning")
    app.answers = ["yes"]
    with pytest.raises(AssertionError):
        app.alert("x", buttons="ok_cancel")  # a yes/no answer cannot come from an OK/Cancel box


# --- what Excel would parse stays text ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["TRUE", "false", "1/2", "12/31/2026", "#N/A", "5%", "=x", "00123", "-7", "'q"]
)
def test_messages_excel_would_parse_land_as_the_exact_text(make_book: BookFactory, text: str) -> None:
    from mltakedown.book.ports import Outcome, Result

    book = make_book(rows_for(["MLM1"]))
    live = LiveWorkbook(book)
    (row,) = live.read_rows()
    live.write_outcomes([Outcome(row.row_number, Result.WARNING, "C100", text, text)], stage="check")
    cells = book.sheets[SHEET_TAKEDOWN].cells
    assert cells[(row.row_number, KEYS.index("message") + 1)] == text
    assert cells[(row.row_number, KEYS.index("remedy") + 1)] == text
    assert (row.row_number, KEYS.index("message") + 1) not in book.sheets[SHEET_TAKEDOWN].formulas


def test_both_adapters_agree_on_text_that_starts_with_equals(tmp_path: Path) -> None:
    import openpyxl

    from mltakedown.book.xlsx import XlsxWorkbook, create_workbook

    path = create_workbook(tmp_path / "new.xlsx", "en")
    workbook = openpyxl.load_workbook(path)
    ws = workbook[SHEET_TAKEDOWN]
    ws.cell(FIRST_DATA_ROW, 1, "=MLM1 typed as text").data_type = "s"
    ws.cell(FIRST_DATA_ROW, 2, "PAUSE")
    ws.cell(FIRST_DATA_ROW + 1, 1, "=A1")  # a real formula
    ws.cell(FIRST_DATA_ROW + 1, 2, "PAUSE")
    workbook.save(path)

    fake = FakeBook(str(path))
    for source in openpyxl.load_workbook(path).worksheets:
        sheet = fake.sheets.add(source.title)
        for line in source.iter_rows():
            for cell in line:
                if cell.data_type == "f":
                    sheet.put(cell.row, [cell.value], column=cell.column)
                elif cell.value is not None:
                    sheet.cells[(cell.row, cell.column)] = cell.value  # a constant, text or not
    live_rows = LiveWorkbook(fake).read_rows()
    assert live_rows == XlsxWorkbook.open(path).read_rows()
    assert [r.formulas for r in live_rows] == [frozenset(), frozenset({"identifier"})]


def test_pull_works_on_an_unsaved_workbook_and_leaves_no_files(
    tmp_path: Path, caller: Caller, sandbox: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    book = caller(_never_saved(tmp_path))
    report = excel.pull()
    assert report is not None and report.requests > 0
    assert (
        book.sheets[SHEET_TAKEDOWN].cells.get((FIRST_DATA_ROW, KEYS.index("status_before") + 1)) == "active"
    )
    assert list(cwd.iterdir()) == []


# --- appending never overwrites what the Log already holds -------------------------------------------


def _entry(note: str) -> object:
    import datetime as dt

    from mltakedown.book.ports import LogEntry

    return LogEntry(
        at=dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC),
        method="GET",
        path="/items/MLM1",
        status=200,
        request_id="r",
        duration_ms=1.0,
        note=note,
    )


@pytest.mark.parametrize("row_one", [None, "my notes"])
def test_a_log_without_its_header_row_keeps_its_rows(make_book: BookFactory, row_one: str | None) -> None:
    """The openpyxl adapter appends below the last row when the header is gone; the live adapter
    wrote the header and the new rows from row 1, over the API calls already logged there."""
    book = make_book()
    log = book.sheets[SHEET_LOG]
    log.put(1, [row_one] * 9)
    log.put(2, ["2026-11-26 10:00:00", "PUT", "/items/MLM7", 200, "req-old-1"])
    log.put(3, ["2026-11-26 10:00:01", "PUT", "/items/MLM8", 200, "req-old-2"])
    LiveWorkbook(book).append_log([_entry("new")])  # type: ignore[list-item]
    assert log.cells[(2, 3)] == "/items/MLM7" and log.cells[(3, 3)] == "/items/MLM8"
    assert log.cells[(4, 3)] == "/items/MLM1"
    assert log.cells.get((1, 1)) == row_one


def test_an_empty_log_gets_its_header_back_in_the_same_write(make_book: BookFactory) -> None:
    book = make_book()
    log = book.sheets[SHEET_LOG]
    log.cells.clear()
    book.counter.reset()
    LiveWorkbook(book).append_log([_entry("new")])  # type: ignore[list-item]
    assert log.cells[(1, 3)] == "Path"
    assert log.cells[(2, 3)] == "/items/MLM1"
    assert len(book.counter.of("write", sheet=SHEET_LOG)) == 1
