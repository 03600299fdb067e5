"""The workbook port over a workbook open in Excel, through xlwings (the ribbon's path).

:class:`LiveWorkbook` implements :class:`~mltakedown.book.ports.WorkbookPort` over an xlwings
``Book`` (the one ``xw.Book.caller()`` returns when a ribbon button runs). It uses the same layout
(:mod:`mltakedown.book.layout`) and the same settings parser as the openpyxl adapter, so the engine
cannot tell the two apart.

Every exchange with Excel crosses a process boundary (COM on Windows, AppleScript on macOS, where
a single call can take tens of milliseconds), so the adapter works in bulk:

* reading the Takedown table is one value read of the sheet's used range (plus one formula read
  of the data rows, which is how a formula typed into an input cell is told from its value);
* writing a stage's outcomes is one 2-D value write per block of adjacent output columns (one
  block in the template), one ``"@"`` number-format write over the ID columns the layout marks
  as text (set *before* the values, so ``00123`` stays ``00123``), and one write of the summary
  block. Result cells are not coloured at all in a workbook whose Settings say
  ``RESULT_COLOURS = conditional`` (the template's conditional formatting colours them from their
  value); an older workbook without that marker gets one colour write per run of Result cells
  (see :func:`colour_runs`: a few writes when most rows share a result; on Windows the scattered
  runs are grouped into multi-area addresses, see :func:`union_addresses`). Other text is guarded with Excel's apostrophe prefix where Excel
  would parse it (a message starting with ``=`` stays text, never a formula), which costs no write;
* Log and Snapshots rows are appended with one write each (their text cells carry Excel's
  apostrophe prefix where Excel would otherwise parse them).

xlwings is never imported here: the adapter only touches the objects it is given, which keeps it
importable and testable on Linux, where xlwings cannot drive Excel.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from openpyxl.utils import get_column_letter

from mltakedown.book.errors import (
    MissingColumnError,
    MissingSheetError,
    TemplateVersionError,
    TooManyRowsError,
    WorkbookError,
)
from mltakedown.book.layout import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    INPUT_KEYS,
    LOG_COLUMNS,
    MAX_DATA_ROWS,
    OUTPUT_KEYS,
    RESULT_FILLS,
    SHEET_LOG,
    SHEET_SETTINGS,
    SHEET_SNAPSHOTS,
    SHEET_TAKEDOWN,
    SNAPSHOT_COLUMNS,
    SUMMARY_LABEL_ROW,
    SUMMARY_RESULTS,
    SUMMARY_VALUE_ROW,
    TAKEDOWN_COLUMNS,
    TEMPLATE_VERSION,
    Column,
    Owner,
    conditional_colours,
    header_keys,
    normalise_header,
    summary_labels,
)
from mltakedown.book.ports import (
    BookSettings,
    CellValue,
    InputRow,
    LogEntry,
    Outcome,
    Result,
    SnapshotRow,
)
from mltakedown.book.settings import parse_settings
from mltakedown.book.xlsx import MAX_CELL_TEXT, safe_text

__all__ = [
    "EXCEL_CELL_LIMIT",
    "LiveWorkbook",
    "WorkbookLocationError",
    "union_addresses",
    "colour_runs",
    "column_runs",
    "excel_text",
    "locate",
]

EXCEL_CELL_LIMIT = MAX_CELL_TEXT
"""The most characters an Excel cell holds; longer texts are cut (as the openpyxl adapter cuts them)."""

TEXT_FORMAT = "@"
"""Excel's Text number format."""

_STATUS_PREFIX = "mltakedown"


# --- The xlwings subset this module uses (structural types; xlwings itself is untyped) ----------


class XlRange(Protocol):
    """The part of ``xlwings.Range`` used here."""

    value: Any
    color: Any
    number_format: Any

    @property
    def formula(self) -> Any: ...

    @property
    def row(self) -> int: ...

    @property
    def column(self) -> int: ...

    @property
    def shape(self) -> tuple[int, int]: ...

    @property
    def last_cell(self) -> XlRange: ...

    def options(self, *args: Any, **kwargs: Any) -> XlRange: ...


class XlSheet(Protocol):
    """The part of ``xlwings.Sheet`` used here."""

    @property
    def name(self) -> str: ...

    def clear_contents(self) -> None: ...

    @property
    def used_range(self) -> XlRange: ...

    def range(self, cell1: Any, cell2: Any = None) -> XlRange: ...


class XlApp(Protocol):
    """The part of ``xlwings.App`` used here."""

    status_bar: Any

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str | None: ...


class XlBook(Protocol):
    """The part of ``xlwings.Book`` used here."""

    @property
    def fullname(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def sheets(self) -> Any: ...

    @property
    def app(self) -> XlApp: ...

    def save(self, path: str | None = None) -> None: ...


class WorkbookLocationError(WorkbookError):
    """The open workbook has no folder on disk the tool can use: it was never saved (Excel's
    ``FullName`` is just ``Book1``), or it is on OneDrive/SharePoint and xlwings cannot map its web
    address to the synced folder. The plan, journal and snapshots live beside the workbook, so
    every step that keeps anything refuses to start rather than put them somewhere unexpected."""

    def __init__(self, name: str, problem: str, remedy: str) -> None:
        super().__init__(name or "workbook", problem)
        self.remedy = remedy
        """What to do, for the message box."""


_SAVE_FIRST = (
    "Save the workbook in a folder on this computer first (File → Save As, as an .xlsm), "
    "then press the button again."
)
_MAP_ONEDRIVE = (
    "Open the workbook from its synced OneDrive/SharePoint folder in Explorer or Finder, or set "
    "ONEDRIVE_CONSUMER_WIN / ONEDRIVE_COMMERCIAL_WIN / SHAREPOINT_WIN (…_MAC on macOS) on the "
    "xlwings.conf sheet to the local root of that folder."
)


def locate(fullname: str, name: str) -> Path:
    """The workbook's file on disk from Excel's ``FullName`` (as xlwings returns it), or a
    :class:`WorkbookLocationError` saying why there is none."""
    if "://" in fullname:
        raise WorkbookLocationError(
            name,
            f"the workbook is on OneDrive/SharePoint ({fullname}) and has no local folder",
            _MAP_ONEDRIVE,
        )
    path = Path(fullname)
    # Windows gives "C:\…" or "\\server\share\…", macOS "/Users/…"; a never-saved book only "Book1".
    if not path.is_absolute():
        raise WorkbookLocationError(
            name,
            "the workbook has not been saved yet, so there is no folder for its plan and journal",
            _SAVE_FIRST,
        )
    return path


# --- Pure helpers (tested on their own) ------------------------------------------------------------


def column_runs(columns: Iterable[int]) -> list[tuple[int, int]]:
    """Group column (or row) numbers into runs of consecutive numbers: ``[1,2,3,5]`` → ``[(1,3),(5,5)]``."""
    runs: list[tuple[int, int]] = []
    for number in sorted(set(columns)):
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def colour_runs(results: Mapping[int, Result | None]) -> list[tuple[int, int, Result | None]]:
    """The colour writes for the Result cells of ``results`` (sheet row → result), as
    ``(first_row, last_row, result)`` in the order they must be applied.

    Rows are taken in segments of consecutive rows (a row without an outcome is never painted).
    In each segment, either one write per run of equal results, or — when fewer — one write of
    the segment's most common result over the whole segment followed by one write per run of the
    other results. A 10,000-row stage where a few rows differ thus costs a few writes, not one
    per row.
    """
    plan: list[tuple[int, int, Result | None]] = []
    for seg_first, seg_last in column_runs(results):
        runs: list[tuple[int, int, Result | None]] = []
        for row in range(seg_first, seg_last + 1):
            result = results[row]
            if runs and runs[-1][2] == result:
                runs[-1] = (runs[-1][0], row, result)
            else:
                runs.append((row, row, result))
        tally = Counter(results[row] for row in range(seg_first, seg_last + 1))
        base = max(tally, key=lambda result: (tally[result], -_result_rank(result)))
        others = [run for run in runs if run[2] != base]
        if 1 + len(others) < len(runs):
            plan.append((seg_first, seg_last, base))
            plan.extend(others)
        else:
            plan.extend(runs)
    return plan


ADDRESS_LIMIT = 255
"""The longest address Excel's ``Range()`` accepts."""


def _address(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def union_addresses(addresses: Iterable[str], limit: int = ADDRESS_LIMIT) -> list[str]:
    """Join cell or range addresses with commas into as few multi-area addresses as fit ``limit``."""
    unions: list[str] = []
    current = ""
    for address in addresses:
        candidate = f"{current},{address}" if current else address
        if len(candidate) > limit and current:
            unions.append(current)
            current = address
        else:
            current = candidate
    if current:
        unions.append(current)
    return unions


def _fill(result: Result | None) -> str | None:
    """The Result cell's fill for ``result`` as xlwings takes it (``None`` clears the fill)."""
    fill = RESULT_FILLS.get(result) if result is not None else None
    return f"#{fill}" if fill else None


def _result_rank(result: Result | None) -> int:
    """A fixed tie-break between equally common results (so the plan is deterministic)."""
    return -1 if result is None else SUMMARY_RESULTS.index(result)


_MONTH_DATE = re.compile(
    r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[\s\-/]*\d", re.IGNORECASE
)


def excel_text(text: str) -> str:
    """``text`` as it must be assigned through ``Range.value`` to land as that exact text.

    Excel parses an assigned string the way it parses typing: ``=…`` becomes a formula, ``00123``
    a number, ``1/2`` or ``May 5`` a date, ``TRUE`` a boolean, ``#N/A`` an error. A leading
    apostrophe (Excel's prefix character, not part of the value) prevents that, so it is added to
    every string that does not start with a letter, and to the few letter-led forms Excel converts.
    Used everywhere a Text number format is not set first (every column but the ID columns).
    """
    if not text:
        return text
    if (
        not text[0].isalpha()
        or text.strip().upper() in ("TRUE", "FALSE")
        or _MONTH_DATE.match(text.strip()) is not None
    ):
        return "'" + text
    return text


def read_cell(value: Any) -> CellValue:
    """A value as xlwings read it, in the shape the openpyxl adapter gives.

    Excel stores every number as a double and xlwings hands all of them over as ``float``;
    openpyxl gives ``int`` for whole numbers. Whole floats within a double's exact range become
    ``int`` here, so ``123`` reads the same from both adapters (and Check sees the same SKU damage).
    """
    if value is None or isinstance(value, str | bool | dt.datetime | dt.date | int):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    return str(value)


def write_cell(value: CellValue | Result, *, as_text: bool) -> Any:
    """A value ready for ``Range.value``: enums as their text, aware times as naive UTC, long texts cut.

    ``as_text`` says the target cell is formatted as Text already; otherwise strings get the
    apostrophe guard of :func:`excel_text`.
    """
    if value is None:
        return None
    if isinstance(value, Result):
        return value.value
    if isinstance(value, str):
        text = safe_text(value)  # the openpyxl adapter's rule: no control characters, 32,767 at most
        return text if as_text else excel_text(text)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # Excel has no time zones: cells hold wall-clock UTC (the column headers say so).
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _grid(value: Any) -> list[list[Any]]:
    """A read value as a list of rows, whatever shape xlwings returned."""
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], list | tuple):
            return [list(row) for row in value]
        return [list(value)]
    return [[value]]


# --- The adapter ---------------------------------------------------------------------------------


@dataclass
class _Table:
    """The Takedown sheet as last read (and as written since): the cache that makes bulk writes safe."""

    columns: dict[str, int]
    """Column key → 1-based sheet column."""
    width: int
    rows: dict[int, list[Any]] = field(default_factory=dict)
    """Sheet row → cell values of columns 1..width, every row from 1 to the last used one."""
    data_rows: list[int] = field(default_factory=list)
    """Sheet rows holding at least one input value, in order."""

    def cell(self, row: int, column: int) -> Any:
        values = self.rows.get(row)
        if values is None or column > len(values):
            return None
        return values[column - 1]

    def put(self, row: int, column: int, value: Any) -> None:
        values = self.rows.setdefault(row, [None] * self.width)
        if column > len(values):
            values.extend([None] * (column - len(values)))
        values[column - 1] = value


_TEXT_KEYS: frozenset[str] = frozenset(c.key for c in TAKEDOWN_COLUMNS if c.as_text)
_REQUIRED: tuple[Column, ...] = tuple(c for c in TAKEDOWN_COLUMNS if c.required)
_SIDE_COLUMNS: Mapping[str, tuple[Column, ...]] = {SHEET_LOG: LOG_COLUMNS, SHEET_SNAPSHOTS: SNAPSHOT_COLUMNS}


def _header_positions(path: Path, sheet: str, header: Sequence[Any], row: int) -> dict[str, int]:
    """Column key → 1-based column of a header row, matched by text in any language; a header
    that appears twice is refused, as the openpyxl adapter refuses it."""
    lookup = header_keys(sheet)
    found: dict[str, int] = {}
    for index, text in enumerate(header, start=1):
        key = lookup.get(normalise_header(text))
        if key is None:
            continue
        if key in found:
            raise WorkbookError(
                path,
                f"the header {text!r} appears twice (columns {found[key]} and {index}); keep one",
                sheet=sheet,
                row=row,
            )
        found[key] = index
    return found


class LiveWorkbook:
    """:class:`~mltakedown.book.ports.WorkbookPort` over an open xlwings ``Book``.

    ``book`` is what ``xw.Book.caller()`` returned. The adapter keeps the Takedown table it read
    (and what it wrote since), so a write covers whole blocks without reading the sheet again;
    the sheet must not be edited by hand while a stage runs (Excel is busy anyway).
    """

    def __init__(self, book: XlBook, *, union_ranges: bool | None = None) -> None:
        self._book = book
        # Multi-area addresses ("A1,A5:A7") work through COM on Windows; xlwings on macOS reads
        # only the first area of such an address, so there every run gets its own write.
        self._union_ranges = sys.platform == "win32" if union_ranges is None else union_ranges
        self._table: _Table | None = None
        self._settings: BookSettings | None = None
        self._last_status = ""
        self._path: Path | None = None

    # --- identity ----------------------------------------------------------------------------------
    @property
    def book(self) -> XlBook:
        """The xlwings book this adapter works on."""
        return self._book

    @property
    def path(self) -> Path:
        """The workbook's file on disk, beside which the plan and journal are kept.

        xlwings maps a OneDrive/SharePoint address to the synced folder, and raises when it cannot;
        a never-saved workbook has no folder at all. Both become a :class:`WorkbookLocationError`
        naming the fix. Asked once: on OneDrive every ``fullname`` also reads the xlwings.conf sheet.
        """
        if self._path is None:
            try:
                fullname = str(self._book.fullname)
            except Exception as exc:  # xlwings.XlwingsError ("Couldn't find the local OneDrive…")
                raise WorkbookLocationError(
                    self._name(), f"xlwings cannot find the file of this workbook: {exc}", _MAP_ONEDRIVE
                ) from exc
            self._path = locate(fullname, self._name())
        return self._path

    def _name(self) -> str:
        """The workbook's name as Excel shows it (``Book1``, ``takedown.xlsm``), for messages."""
        try:
            return str(self._book.name)
        except Exception:  # a message about the workbook must not fail for want of its name
            return "workbook"

    @property
    def _where(self) -> Path:
        """The path to name in a workbook error: the file when known, else just the book's name
        (an error about a sheet must not turn into one about the missing folder)."""
        try:
            return self.path
        except WorkbookLocationError:
            return Path(self._name())

    @property
    def language(self) -> str:
        """The workbook's message language, from the Settings sheet."""
        return self.read_settings().language

    # --- reading -----------------------------------------------------------------------------------
    def _find_sheet(self, name: str) -> XlSheet | None:
        try:
            sheet: XlSheet = self._book.sheets[name]
        except Exception:  # xlwings raises a COM/AppleScript error (or KeyError), not a typed one
            return None
        return sheet

    def _sheet(self, name: str) -> XlSheet:
        sheet = self._find_sheet(name)
        if sheet is None:
            raise MissingSheetError(self._where, f"there is no {name!r} worksheet", sheet=name)
        return sheet

    @staticmethod
    def _extent(sheet: XlSheet) -> tuple[int, int]:
        """Last used row and column (the used range need not start at A1)."""
        used = sheet.used_range
        rows, columns = used.shape
        return used.row + rows - 1, used.column + columns - 1

    def read_settings(self) -> BookSettings:
        """The Settings sheet (column A key, column B value, from row 2), read once per adapter;
        defaults when the sheet is missing, as in the openpyxl adapter."""
        if self._settings is None:
            sheet = self._find_sheet(SHEET_SETTINGS)
            pairs: list[tuple[object, object]] = []
            if sheet is not None:
                last_row, _ = self._extent(sheet)
                if last_row >= 2:
                    values = _grid(sheet.range((2, 1), (last_row, 2)).options(ndim=2).value)
                    pairs = [(row[0], row[1] if len(row) > 1 else None) for row in values]
            self._settings = parse_settings(pairs)
        return self._settings

    def _require_current_template(self) -> None:
        """Refuse a workbook from an older, unknown or newer template (the Settings stamp)."""
        version = self.read_settings().template_version
        if version == TEMPLATE_VERSION:
            return
        if version.isdigit() and int(version) > int(TEMPLATE_VERSION):
            raise TemplateVersionError(
                self._where,
                f"this workbook uses template version {version}, newer than this mltakedown knows "
                f"({TEMPLATE_VERSION}); update mltakedown (pip install -U mltakedown)",
            )
        found = f"template version {version}" if version else "no template version"
        raise TemplateVersionError(
            self._where,
            f"this workbook has {found} (current: {TEMPLATE_VERSION}); save and close it, then migrate "
            f"it with `mltakedown upgrade {self._where.name}` (every input is kept)",
        )

    def _read_table(self) -> _Table:
        sheet = self._sheet(SHEET_TAKEDOWN)
        self._require_current_template()
        last_row, last_column = self._extent(sheet)
        if last_row - HEADER_ROW > MAX_DATA_ROWS:
            raise TooManyRowsError(
                self._where,
                f"{last_row - HEADER_ROW:,} rows; at most {MAX_DATA_ROWS:,} data rows are accepted",
                sheet=SHEET_TAKEDOWN,
            )
        if last_row < HEADER_ROW:
            raise MissingColumnError(
                self._where, "the header row is empty", sheet=SHEET_TAKEDOWN, row=HEADER_ROW
            )
        # The one bulk read: everything from A1 to the last used cell, errors as text (#N/A) as
        # openpyxl gives them, always 2-D even for a single row.
        block = _grid(sheet.range((1, 1), (last_row, last_column)).options(ndim=2, err_to_str=True).value)
        columns = _header_positions(self._where, SHEET_TAKEDOWN, block[HEADER_ROW - 1], HEADER_ROW)
        missing = [c for c in _REQUIRED if c.key not in columns]
        if missing:
            names = ", ".join(repr(c.header("en")) for c in missing)
            raise MissingColumnError(
                self._where, f"the header row has no {names} column", sheet=SHEET_TAKEDOWN, row=HEADER_ROW
            )
        table = _Table(columns=columns, width=last_column)
        inputs = [columns[k] for k in INPUT_KEYS if k in columns]
        for row_number, line in enumerate(block, start=1):
            values = [read_cell(v) for v in line]
            table.rows[row_number] = values
            if row_number >= FIRST_DATA_ROW and any(values[c - 1] not in (None, "") for c in inputs):
                table.data_rows.append(row_number)
        return table

    def _input_formulas(self, table: _Table) -> dict[int, dict[str, str]]:
        """Input cells holding a formula, per data row: key → formula text (one formula read)."""
        if not table.data_rows:
            return {}
        sheet = self._sheet(SHEET_TAKEDOWN)
        first, last = table.data_rows[0], table.data_rows[-1]
        formulas = _grid(sheet.range((first, 1), (last, table.width)).formula)
        inputs = [(k, table.columns[k]) for k in INPUT_KEYS if k in table.columns]
        found: dict[int, dict[str, str]] = {}
        for row_number in table.data_rows:
            line = formulas[row_number - first]
            values = table.rows[row_number]
            # Range.Formula gives a constant's text too, so a text cell "=MLM1" (typed with an
            # apostrophe, or into a Text cell) reads "=MLM1" here as well. A real formula's value
            # is its result, never its own text: that is what tells the two apart (openpyxl tells
            # them apart by the cell type, and both adapters must agree).
            texts = {
                k: line[c - 1]
                for k, c in inputs
                if c <= len(line)
                and isinstance(line[c - 1], str)
                and line[c - 1].startswith("=")
                and values[c - 1] != line[c - 1]
            }
            if texts:
                found[row_number] = texts
        return found

    def read_rows(self) -> list[InputRow]:
        """All data rows of the Takedown sheet, in sheet order, blank rows excluded. A formula in
        an input cell is given as its text (``"=A1"``) and named in ``formulas``, as the openpyxl
        adapter does."""
        table = self._read_table()
        self._table = table
        formulas = self._input_formulas(table)
        inputs = [(k, table.columns[k]) for k in INPUT_KEYS if k in table.columns]
        outputs = [(k, table.columns[k]) for k in OUTPUT_KEYS if k in table.columns]
        rows: list[InputRow] = []
        for row_number in table.data_rows:
            line = table.rows[row_number]
            values = {k: line[c - 1] for k, c in inputs if line[c - 1] not in (None, "")}
            texts = formulas.get(row_number, {})
            values.update(texts)
            rows.append(
                InputRow(
                    row_number=row_number,
                    values=values,
                    formulas=frozenset(texts),
                    outputs={k: line[c - 1] for k, c in outputs if line[c - 1] not in (None, "")},
                )
            )
        return rows

    # --- writing the outcomes ----------------------------------------------------------------------
    def _ensure_table(self) -> _Table:
        if self._table is None:
            self._table = self._read_table()
        return self._table

    def _ensure_output_columns(self, sheet: XlSheet, table: _Table) -> None:
        """Give every output column the sheet lacks a header after the last used column (one write),
        as the openpyxl adapter does."""
        missing = [c for c in TAKEDOWN_COLUMNS if c.owner is Owner.OUTPUT and c.key not in table.columns]
        if not missing:
            return
        first = table.width + 1
        lang = self.language
        sheet.range((HEADER_ROW, first), (HEADER_ROW, first + len(missing) - 1)).value = [
            [excel_text(c.header(lang)) for c in missing]
        ]
        for offset, column in enumerate(missing):
            table.columns[column.key] = first + offset
            table.put(HEADER_ROW, first + offset, column.header(lang))
        table.width = first + len(missing) - 1

    def write_outcomes(self, outcomes: Sequence[Outcome], *, stage: str) -> None:
        """Write result, code, message, remedy and output values in bulk, colour the Result cells by
        result (only in a workbook without conditional-formatting colours; see
        :func:`~mltakedown.book.layout.conditional_colours`), and refresh the summary block. Input
        cells are never touched."""
        table = self._ensure_table()
        sheet = self._sheet(SHEET_TAKEDOWN)
        if outcomes:
            updates = self._updates(table, outcomes)
            self._ensure_output_columns(sheet, table)
            self._write_blocks(sheet, table, self._by_column(table, updates))
            # Settings were read with the table (the template check), so this costs no round trip.
            if not conditional_colours(self.read_settings()):
                self._write_colours(sheet, table, outcomes)
        self._write_summary(sheet, table, stage)

    def _updates(
        self, table: _Table, outcomes: Sequence[Outcome]
    ) -> dict[int, dict[str, CellValue | Result]]:
        """Sheet row → output key → new value, for every output cell the outcomes set or clear."""
        updates: dict[int, dict[str, CellValue | Result]] = {}
        for outcome in outcomes:
            if outcome.row_number < FIRST_DATA_ROW:
                raise WorkbookError(
                    self._where, "an outcome names a row above the table", row=outcome.row_number
                )
            for key in outcome.values:
                if key not in OUTPUT_KEYS:
                    raise WorkbookError(
                        self._where,
                        f"{key!r} is not an output column; inputs are never written",
                        row=outcome.row_number,
                    )
            cells: dict[str, CellValue | Result] = {}
            if outcome.clear_others:
                cells.update(dict.fromkeys(OUTPUT_KEYS))
            cells.update(
                {
                    "result": outcome.result,
                    "code": outcome.code or None,
                    "message": outcome.message or None,
                    "remedy": outcome.remedy or None,
                }
            )
            cells.update(outcome.values)
            updates.setdefault(outcome.row_number, {}).update(cells)
        return updates

    @staticmethod
    def _by_column(
        table: _Table, updates: Mapping[int, Mapping[str, CellValue | Result]]
    ) -> dict[int, dict[int, CellValue | Result]]:
        return {row: {table.columns[k]: v for k, v in cells.items()} for row, cells in updates.items()}

    def _write_blocks(
        self, sheet: XlSheet, table: _Table, updates: Mapping[int, Mapping[int, CellValue | Result]]
    ) -> None:
        """One value write per run of adjacent output columns, over the rows the outcomes span.

        Cells inside the block that no outcome sets keep their current value (from the cache), so
        one rectangle can cover rows and columns that did not change.
        """
        touched = sorted({col for cells in updates.values() for col in cells})
        output_columns = {table.columns[k] for k in OUTPUT_KEYS}
        first_row, last_row = min(updates), max(updates)
        text_columns = {table.columns[k] for k in _TEXT_KEYS if k in table.columns}
        for start, end in column_runs(output_columns):
            cols = [c for c in touched if start <= c <= end]
            if not cols:
                continue
            lo, hi = cols[0], cols[-1]
            as_text = {c for c in range(lo, hi + 1) if c in text_columns}
            for t_start, t_end in column_runs(as_text):
                # Before the values: Excel parses a string assigned to a General cell (00123 → 123).
                sheet.range((first_row, t_start), (last_row, t_end)).number_format = TEXT_FORMAT
            block: list[list[Any]] = []
            for row_number in range(first_row, last_row + 1):
                row_updates = updates.get(row_number, {})
                line: list[Any] = []
                for col in range(lo, hi + 1):
                    value = row_updates[col] if col in row_updates else table.cell(row_number, col)
                    if col in as_text and isinstance(value, int | float) and not isinstance(value, bool):
                        value = str(value)  # IDs in a Text column are text, as the template lays them out
                    cell = write_cell(value, as_text=col in as_text)
                    line.append(cell)
                    if col in row_updates:
                        table.put(row_number, col, read_cell(write_cell(value, as_text=True)))
                block.append(line)
            sheet.range((first_row, lo), (last_row, hi)).value = block

    def _write_colours(self, sheet: XlSheet, table: _Table, outcomes: Sequence[Outcome]) -> None:
        """Fill the Result cells by result (see :func:`colour_runs` for how few writes that takes).

        With ``union_ranges`` (Windows), the runs after the first are grouped by colour into
        multi-area addresses (``"U9,U15:U17,…"``, at most 255 characters, Excel's limit for an
        address), so rows with scattered results cost a write per 20-odd runs instead of one each.
        """
        column = table.columns["result"]
        plan = colour_runs({o.row_number: o.result for o in outcomes})
        if not self._union_ranges:
            for first, last, result in plan:
                sheet.range((first, column), (last, column)).color = _fill(result)
            return
        if plan:
            first, last, result = plan[0]  # the base coat (or first run) goes on before the rest
            sheet.range((first, column), (last, column)).color = _fill(result)
        by_colour: dict[str | None, list[str]] = {}
        for first, last, result in plan[1:]:
            address = (
                _address(first, column)
                if first == last
                else f"{_address(first, column)}:{_address(last, column)}"
            )
            by_colour.setdefault(_fill(result), []).append(address)
        for colour, addresses in by_colour.items():
            for union in union_addresses(addresses):
                sheet.range(union).color = colour

    def _write_summary(self, sheet: XlSheet, table: _Table, stage: str) -> None:
        """The summary block, rows 1–2, in one write: labels in the workbook's language, then the
        counts per result over every data row, their total, the stage and the time (as the
        openpyxl adapter writes them)."""
        counts = dict.fromkeys(SUMMARY_RESULTS, 0)
        by_value = {r.value: r for r in SUMMARY_RESULTS}
        column = table.columns.get("result")
        if column is not None:
            for row_number in table.data_rows:
                result = by_value.get(table.cell(row_number, column))
                if result is not None:
                    counts[result] += 1
        lang = self.language
        labels: list[Any] = summary_labels(lang)
        moment = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        values: list[Any] = [
            table.cell(SUMMARY_VALUE_ROW, 1),
            *(counts[r] for r in SUMMARY_RESULTS),
            sum(counts.values()),
            stage,
            moment.isoformat(sep=" "),
        ]
        block = [
            [write_cell(v, as_text=False) for v in labels],
            [write_cell(v, as_text=False) for v in values],
        ]
        sheet.range((SUMMARY_LABEL_ROW, 1), (SUMMARY_VALUE_ROW, len(labels))).value = block
        for index, (label, value) in enumerate(zip(labels, values, strict=True), start=1):
            table.put(SUMMARY_LABEL_ROW, index, label)
            table.put(SUMMARY_VALUE_ROW, index, value)

    # --- Log and Snapshots -------------------------------------------------------------------------
    def _append(self, sheet_name: str, lines: Sequence[Mapping[str, Any]]) -> None:
        """Append ``lines`` below the last used row of a sheet whose header is row 1: one read of
        the header, one write of the new rows. A missing sheet is added, and an empty one gets its
        header back, in the same write. A sheet that holds rows but no recognisable header keeps
        them: the new rows go below, by column position (as the openpyxl adapter does)."""
        if not lines:
            return
        columns = _SIDE_COLUMNS[sheet_name]
        sheet = self._find_sheet(sheet_name)
        empty = True
        if sheet is None:
            sheets = self._book.sheets
            sheet = sheets.add(sheet_name, after=sheets[len(sheets) - 1])
            last_row, positions = 0, {}
        else:
            last_row, last_column = self._extent(sheet)
            header = _grid(sheet.range((1, 1), (1, max(last_column, 1))).options(ndim=2).value)[0]
            positions = _header_positions(self._where, sheet_name, header, 1)
            # An empty sheet's used range is A1 alone (Excel and xlwings give A1, not nothing).
            empty = last_row <= 1 and all(cell in (None, "") for cell in header)
        rows: list[list[Any]] = []
        if positions or not empty:
            start_row = last_row + 1
        else:
            rows.append([excel_text(c.header(self.language)) for c in columns])
            start_row = 1
        for index, column in enumerate(columns, start=1):
            positions.setdefault(column.key, index)  # as the openpyxl adapter: by header, else by position
        width = max(positions.values())
        for values in lines:
            line: list[Any] = [None] * width
            for key, col in positions.items():
                line[col - 1] = write_cell(values.get(key), as_text=False)
            rows.append(line)
        sheet.range((start_row, 1), (start_row + len(rows) - 1, width)).value = rows

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        """Append API calls (and failures of a whole step, with their traceback) to the Log sheet."""
        self._append(SHEET_LOG, [entry.cells() for entry in entries])

    def write_snapshots(self, snapshots: Sequence[SnapshotRow]) -> None:
        """Append item snapshots to the Snapshots sheet (the full JSON is also in the snapshot file)."""
        self._append(SHEET_SNAPSHOTS, [snapshot.cells() for snapshot in snapshots])

    def write_report(self, grid: Sequence[Sequence[CellValue]], *, sheet_name: str = "Report") -> None:
        """Replace the values of the report sheet (added after the last sheet when missing) with
        ``grid``, laid from A1: one clear and one write. Formatting and charts are not copied;
        the headless ``mltakedown report`` writes the styled sheet with its chart."""
        if not grid:
            return
        sheet = self._find_sheet(sheet_name)
        if sheet is None:
            sheets = self._book.sheets
            sheet = sheets.add(sheet_name, after=sheets[len(sheets) - 1])
        sheet.clear_contents()
        width = max(len(row) for row in grid)
        rows = [[write_cell(v, as_text=False) for v in row] + [None] * (width - len(row)) for row in grid]
        sheet.range((1, 1), (len(rows), width)).value = rows

    def save(self) -> None:
        """Nothing to do: Excel owns the open file. The user saves it (Ctrl+S) when they want to keep
        the results; the journal and snapshots beside it are already durable."""

    # --- Excel's status bar --------------------------------------------------------------------------
    def status(self, text: str) -> None:
        """Show a progress line in Excel's status bar (skipped when unchanged: each set is a round trip)."""
        line = f"{_STATUS_PREFIX}: {text}"
        if line != self._last_status:
            self._book.app.status_bar = line
            self._last_status = line

    def clear_status(self) -> None:
        """Give the status bar back to Excel."""
        self._book.app.status_bar = False
        self._last_status = ""
