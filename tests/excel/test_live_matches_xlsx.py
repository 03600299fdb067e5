"""The live adapter reads a workbook made by ``mltakedown new`` exactly as the openpyxl adapter does,
and both adapters leave the same cell values after the same Check."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from fake_xlwings import FakeBook

from mltakedown.book.layout import FIRST_DATA_ROW, SHEET_TAKEDOWN
from mltakedown.book.live import LiveWorkbook
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook
from mltakedown.engine import ops

ROWS = [
    ("MLM1234567890", "PAUSE", "IP complaint"),
    ("00123", "pausar", "TRO"),
    (7501234567890, "CLOSE", "Other"),
    ("=A1", "DELETE", None),
    (None, None, None),
    ("MLB-987654321", "FLY", "TRO"),
]


def _load_into_fake(path: Path) -> FakeBook:
    """What Excel shows of a file: every sheet's values (formulas as formula + placeholder value)."""
    book = FakeBook(str(path))
    workbook = openpyxl.load_workbook(path)
    for ws in workbook.worksheets:
        sheet = book.sheets.add(ws.title)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    sheet.put(cell.row, [cell.value], column=cell.column)
    book.counter.reset()
    return book


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_same_rows_and_same_outcomes_as_the_openpyxl_adapter(tmp_path: Path, lang: str) -> None:
    path = create_workbook(tmp_path / "new.xlsx", lang)
    workbook = openpyxl.load_workbook(path)
    ws = workbook[SHEET_TAKEDOWN]
    for offset, values in enumerate(ROWS):
        for column, value in enumerate(values, start=1):
            ws.cell(FIRST_DATA_ROW + offset, column, value)
    workbook.save(path)

    fake = _load_into_fake(path)
    live = LiveWorkbook(fake)
    headless = XlsxWorkbook.open(path)
    assert live.read_rows() == headless.read_rows()
    assert live.read_settings() == headless.read_settings()

    live_report = ops.check(live)
    headless_report = ops.check(XlsxWorkbook.open(path))  # writes the file
    assert live_report.counts == headless_report.counts
    after = openpyxl.load_workbook(path)[SHEET_TAKEDOWN]
    sheet = fake.sheets[SHEET_TAKEDOWN]
    for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(ROWS)):
        for column in range(1, after.max_column + 1):
            expected = after.cell(row, column).value
            got = sheet.formulas.get((row, column), sheet.cells.get((row, column)))
            assert got == expected, (row, column)
    # The summary block too (labels in the workbook's language, counts, total, stage), but the time.
    for row, last in ((1, 9), (2, 8)):
        for column in range(1, last + 1):
            assert sheet.cells.get((row, column)) == after.cell(row, column).value, (row, column)


def test_the_committed_workbook_is_read_by_the_live_adapter() -> None:
    committed = Path(__file__).resolve().parents[2] / "xlsm" / "mltakedown.xlsm"
    if not committed.is_file():
        pytest.skip("xlsm/mltakedown.xlsm is not built in this checkout")
    book = _load_into_fake(committed)
    live = LiveWorkbook(book)
    assert live.read_rows() == []
    assert live.read_settings() == XlsxWorkbook.open(committed).read_settings()
    report = ops.check(live)
    assert report.counts == {}
