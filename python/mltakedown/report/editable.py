"""The same document as an editable workbook (.xlsx), for people who need to adjust the wording.

Built from the same :class:`~mltakedown.report.document.Document` as the PDF, so the two carry
the same content: title and subtitle at the top, each section's paragraphs and facts as text,
and each section's entries as a table with one column per field label.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from mltakedown.report.document import Document, Section

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_ALERT_FONT = Font(bold=True, size=12, color="B02020")
_SECTION_FONT = Font(bold=True, size=12, color="28508C")
_WRAP = Alignment(wrap_text=True, vertical="top")
_MAX_WIDTH = 60


def _put(ws: Worksheet, row: int, column: int, value: str, font: Font | None = None) -> None:
    cell = ws.cell(row=row, column=column)
    cell.value = value
    if value.startswith("="):
        # Text from outside (a title, an API message) is written as text, never as a formula.
        cell.data_type = "s"
    cell.alignment = _WRAP
    if font is not None:
        cell.font = font


def _section(ws: Worksheet, section: Section, row: int, widths: dict[int, int]) -> int:
    if section.title:
        _put(ws, row, 1, section.title, _ALERT_FONT if section.alert else _SECTION_FONT)
        row += 1
    for paragraph in section.paragraphs:
        _put(ws, row, 1, paragraph)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        ws.row_dimensions[row].height = 15 * (1 + len(paragraph) // 110)
        row += 1
    for fact in section.facts:
        _put(ws, row, 1, fact.label, Font(bold=True))
        _put(ws, row, 2, fact.value)
        widths[1] = max(widths.get(1, 0), len(fact.label))
        row += 1
    if section.entries:
        # Column A holds each entry's heading ("Row 5 · MLM…"), then one column per field.
        labels = ["#", *(field.label for field in section.entries[0].fields)]
        for column, label in enumerate(labels, start=1):
            _put(ws, row, column, label, Font(bold=True))
            ws.cell(row=row, column=column).fill = _HEADER_FILL
        row += 1
        for entry in section.entries:
            values = [entry.heading, *(field.value for field in entry.fields)]
            for column, value in enumerate(values, start=1):
                _put(ws, row, column, value)
                widths[column] = max(widths.get(column, 0), len(value))
            row += 1
    elif section.empty_text:
        _put(ws, row, 1, section.empty_text)
        row += 1
    return row + 1


def document_sheet(ws: Worksheet, document: Document) -> None:
    """Fill ``ws`` with ``document`` (title, sections, tables, footer)."""
    _put(ws, 1, 1, document.title, Font(bold=True, size=16, color="28508C"))
    _put(ws, 2, 1, document.subtitle, Font(size=12))
    row = 4
    widths: dict[int, int] = {}
    for section in document.sections:
        row = _section(ws, section, row, widths)
    _put(ws, row, 1, document.footer, Font(italic=True, color="606870"))
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = min(_MAX_WIDTH, max(12, width + 2))


def write_editable(document: Document, path: Path) -> Path:
    """Write ``document`` as an .xlsx workbook at ``path`` and return the path."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = document.doc_id[:31]
    document_sheet(sheet, document)
    # The run ID travels in the file's properties too, so a copy can be tied back to its run.
    workbook.properties.title = document.title
    workbook.properties.subject = document.subtitle
    workbook.properties.keywords = f"run_id={document.run_id} doc_id={document.doc_id}"
    workbook.properties.creator = "mltakedown"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
