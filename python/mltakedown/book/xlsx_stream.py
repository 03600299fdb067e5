"""Read a takedown workbook in one streaming pass, without building openpyxl's cell objects.

The fast read path of :mod:`mltakedown.book.xlsx`. The workbook is opened with openpyxl in
``read_only`` mode (workbook part, styles, shared strings, defined names: small), and the
``Takedown`` sheet is parsed with openpyxl's own worksheet parser, so every value (numbers,
dates by number format, booleans, shared and inline strings, rich text, formulas) comes out
exactly as a full ``load_workbook`` gives it — only the per-cell objects are skipped.

What the write path needs later is kept too: the Result column of every row (the summary counts
all rows, also those no longer checked), and the cells of the summary block with their formats.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import coordinate_to_tuple, get_column_letter
from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from mltakedown.book import layout as L
from mltakedown.book.errors import MissingSheetError, NotAWorkbookError, TooManyRowsError, WorkbookError
from mltakedown.book.ports import CellValue, InputRow

_FORMULA_TYPES = ("ArrayFormula", "DataTableFormula")
_TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"


class _SheetParser(WorkSheetParser):  # type: ignore[misc]  # openpyxl is untyped
    """openpyxl's worksheet parser with a shortcut for the plainest inline string.

    openpyxl builds a rich-text model for every inline string only to join its pieces again;
    for ``<is><t>text</t></is>`` (what openpyxl itself writes) the text is the value, which is
    what the shortcut returns. Every other cell goes through openpyxl's own code.
    """

    def parse_cell(self, element: Any) -> dict[str, Any]:
        if element.get("t") == "inlineStr" and (coordinate := element.get("r")) is not None:
            child = element.find(INLINE_STRING)
            if (
                child is not None
                and len(child) == 1
                and child[0].tag == _TEXT_TAG
                and element.find(FORMULA_TAG) is None
            ):
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
                style = element.get("s")
                text = child[0].text
                return {
                    "row": row,
                    "column": column,
                    "value": text if text is not None else "",
                    "data_type": "s",
                    "style_id": int(style) if style else 0,
                }
        cell: dict[str, Any] = super().parse_cell(element)
        return cell


class StreamUnsupported(Exception):
    """The sheet is laid out in a way the streaming reader does not handle (rows out of order)."""


def match_headers(
    cells: Iterable[tuple[int, object]], path: Path, sheet_title: str, row: int, sheet: str = L.SHEET_TAKEDOWN
) -> dict[str, int]:
    """Column key → column index for the header cells ``(column, value)``, in column order.

    Headers are matched by text in any language; the same header twice is an error.
    """
    lookup = L.header_keys(sheet)
    found: dict[str, int] = {}
    for col, value in sorted(cells, key=lambda cell: cell[0]):
        if value is None:
            continue
        key = lookup.get(L.normalise_header(value))
        if key is None:
            continue
        if key in found:
            raise WorkbookError(
                path,
                f"the header {value!r} appears twice (columns {get_column_letter(found[key])} "
                f"and {get_column_letter(col)}); keep one",
                sheet=sheet_title,
                row=row,
            )
        found[key] = col
    return found


@dataclass(slots=True)
class StreamedBook:
    """What one streaming pass over a takedown workbook found."""

    sheet_title: str
    sheet_path: str
    """The zip member of the Takedown sheet (``xl/worksheets/sheet1.xml``)."""
    settings: list[tuple[object, object]]
    """Column A/B pairs of the Settings sheet."""
    defined_version: str
    """The template version defined name (``""`` when absent)."""
    columns: dict[str, int]
    rows: list[InputRow]
    max_row: int
    results: dict[int, object] = field(default_factory=dict)
    """The Result cell of every data row that has one (raw value)."""
    top: dict[tuple[int, int], tuple[object, int]] = field(default_factory=dict)
    """(row, column) → (value, cell format index) of the summary block and how-to rows."""


def stream_book(path: Path) -> StreamedBook:
    """Read ``path`` once; raise :class:`StreamUnsupported` when the full load must be used."""
    try:
        wb = load_workbook(path, read_only=True, keep_links=False)
    except WorkbookError:
        raise
    except Exception as exc:  # openpyxl raises many types for a damaged package
        raise NotAWorkbookError(path, f"the workbook cannot be read ({type(exc).__name__}: {exc})") from exc
    try:
        ws = next((w for w in wb.worksheets if w.title.casefold() == L.SHEET_TAKEDOWN.casefold()), None)
        if ws is None:
            raise MissingSheetError(path, f"there is no {L.SHEET_TAKEDOWN!r} worksheet")
        settings_ws = next(
            (w for w in wb.worksheets if w.title.casefold() == L.SHEET_SETTINGS.casefold()), None
        )
        settings = (
            []
            if settings_ws is None
            else [
                (row[0], row[1] if len(row) > 1 else None)
                for row in settings_ws.iter_rows(min_row=2, max_col=2, values_only=True)
            ]
        )
        name = wb.defined_names.get(L.TEMPLATE_VERSION_NAME)
        version = name.attr_text.strip().strip('"') if name is not None and name.attr_text else ""
        with ws._get_source() as source:  # openpyxl's private API: the parser read-only mode uses
            parser = _SheetParser(
                source,
                ws._shared_strings,
                data_only=False,
                epoch=wb.epoch,
                date_formats=wb._date_formats,
                timedelta_formats=wb._timedelta_formats,
            )
            book = _parse_takedown(parser.parse(), path, ws.title, ws._worksheet_path, settings, version)
    finally:
        wb.close()
    return book


def _parse_takedown(
    parsed: Iterable[tuple[int, list[dict[str, Any]]]],
    path: Path,
    title: str,
    member: str,
    settings: list[tuple[object, object]],
    version: str,
) -> StreamedBook:
    book = StreamedBook(title, member, settings, version, {}, [], 1)
    header: list[tuple[int, object]] = []
    key_of: dict[int, str] | None = None
    result_col = -1
    found: dict[int, list[tuple[str, object, bool]]] = defaultdict(list)
    max_row = 0
    for number, cells in parsed:
        if not cells:
            continue
        if number < L.FIRST_DATA_ROW:
            if key_of is not None:
                raise StreamUnsupported("rows out of order")
            for cell in cells:
                if number == L.HEADER_ROW:
                    header.append((cell["column"], cell["value"]))
                book.top[(number, cell["column"])] = (cell["value"], cell["style_id"] or 0)
            max_row = max(max_row, number)
            continue
        if key_of is None:
            key_of = _columns(book, header, path)
            result_col = book.columns.get("result", -1)
        if number - L.HEADER_ROW > L.MAX_DATA_ROWS:
            # Refuse at the first row past the cap, not after holding a million rows in memory
            # (a sheet without a <dimension> escapes the cheap check before opening).
            raise TooManyRowsError(
                path,
                f"the sheet uses row {number:,}; at most {L.MAX_DATA_ROWS:,} data rows are accepted "
                "(split the list into several workbooks, or delete the unused rows)",
                sheet=title,
            )
        max_row = max(max_row, number)
        for cell in cells:
            key = key_of.get(cell["column"])
            if key is None:
                continue
            value = cell["value"]
            if value is None or value == "":
                continue
            if cell["column"] == result_col:
                book.results[number] = value
            formula = cell["data_type"] == "f" or type(value).__name__ in _FORMULA_TYPES
            found[number].append((key, value, formula))
    if key_of is None:
        _columns(book, header, path)
    book.max_row = max(max_row, 1)
    book.rows = _input_rows(found)
    return book


def _columns(book: StreamedBook, header: list[tuple[int, object]], path: Path) -> dict[int, str]:
    book.columns = match_headers(header, path, book.sheet_title, L.HEADER_ROW)
    return {c: k for k, c in book.columns.items()}


def _input_rows(found: dict[int, list[tuple[str, object, bool]]]) -> list[InputRow]:
    """The same rows ``XlsxWorkbook.read_rows`` builds from a full load."""
    inputs = frozenset(L.INPUT_KEYS)
    rows: list[InputRow] = []
    for r in sorted(found):
        values: dict[str, CellValue] = {}
        formulas: set[str] = set()
        prior: dict[str, CellValue] = {}
        for key, value, formula in found[r]:
            if key not in inputs:
                prior[key] = value  # type: ignore[assignment]  # parser values are CellValues
            elif formula:
                formulas.add(key)
                values[key] = str(getattr(value, "text", value))
            else:
                values[key] = value  # type: ignore[assignment]
        if values:
            rows.append(InputRow(r, values, frozenset(formulas), prior))
    return rows
