"""The headless file path: an openpyxl adapter for ``.xlsx`` and ``.xlsm`` takedown workbooks.

:class:`XlsxWorkbook` implements :class:`~mltakedown.book.ports.WorkbookPort` over a file on
disk. Before openpyxl sees a file it is checked cheaply (:func:`preflight`): an ``~$`` lock file
beside it (Excel has it open), not a zip, an encrypted OLE package, a damaged zip, no
``Takedown`` sheet, a sheet whose dimension says a million rows. Each gets a
:class:`~mltakedown.book.errors.WorkbookError` naming the file, and the file is never touched.

Writing keeps what openpyxl keeps (VBA project byte-for-byte with ``keep_vba=True``, data
validation, formatting, user sheets) and restores what it drops: the ``customUI14`` ribbon
relationship (openpyxl only re-adds the 2006 one). Cells are written only in output columns;
external text is always written as text (a message starting with ``=`` never becomes a formula).
Saving goes to a temporary file in the same folder, then ``os.replace`` over the original.

Two paths, one result. By default a workbook is *streamed* (:mod:`~mltakedown.book.xlsx_stream`:
one pass with openpyxl's worksheet parser, no cell objects) and verdicts are *spliced* into the
Takedown sheet's XML (:mod:`~mltakedown.book.xlsx_fast`, :mod:`~mltakedown.book.xlsx_splice`),
every other zip member copied unchanged — Check on 100,000 rows then costs less than a plain
openpyxl load + save (bench/bench_check.py). Whatever that path does not cover (see
:class:`XlsxWorkbook`) switches, explicitly, to the full openpyxl load, where cells are looked up
in the worksheet's cell dict so empty cells are never created.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import os
import re
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import olefile
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

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
from mltakedown.book.xlsx_append import PendingAppend
from mltakedown.book.xlsx_fast import PendingWrite, fast_write_blocker, spliced_parts
from mltakedown.book.xlsx_format import add_result_rules, has_print_setup, print_setup
from mltakedown.book.xlsx_shift import move_rows_on_top
from mltakedown.book.xlsx_splice import MAX_CELL_TEXT as MAX_CELL_TEXT  # re-exported
from mltakedown.book.xlsx_splice import SpliceUnsupported, rewrite_package
from mltakedown.book.xlsx_splice import safe_text as safe_text  # re-exported
from mltakedown.book.xlsx_stream import StreamedBook, StreamUnsupported, match_headers, stream_book
from mltakedown.codes import CATALOGUE, Code, normalise_language, texts, ui_text

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_UI_REL_TYPES = (
    "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility",
    "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility",
)
_log = logging.getLogger(__name__)
_DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*\d*:?[A-Z]*(\d+)"')


# --- Checks before opening ------------------------------------------------------------------------


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed file apart (modification time, size, inode); ``None`` when missing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def lock_file(path: Path) -> Path | None:
    """The owner file beside ``path`` if one exists (the workbook is open): Excel's ``~$name``, or
    LibreOffice's ``.~lock.name#`` (which would save its copy over the results later)."""
    for name in (f"~${path.name}", f"~${path.name[2:]}", f".~lock.{path.name}#"):
        candidate = path.with_name(name)
        if candidate.exists():
            return candidate
    return None


def preflight(path: Path, *, for_write: bool) -> None:
    """Refuse, with a clear error, a file that openpyxl cannot or must not open."""
    if not path.is_file():
        raise WorkbookError(path, "the file does not exist")
    if path.suffix.lower() == ".xls":
        raise NotAWorkbookError(
            path, "this is an old .xls file; open it in Excel and save it as .xlsm or .xlsx"
        )
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise NotAWorkbookError(path, "not an Excel workbook (expected a .xlsx or .xlsm file)")
    if for_write and (lock := lock_file(path)) is not None:
        raise WorkbookLockedError(
            path,
            f"the workbook is open in Excel or LibreOffice ({lock.name} is beside it); close it there and try again",
        )
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic == _OLE_MAGIC:
        _refuse_ole(path)
    if not magic.startswith(_ZIP_MAGIC):
        raise NotAWorkbookError(path, "not an Excel workbook (the file is not a zip package)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise NotAWorkbookError(path, "a zip file but not an Excel workbook (no xl/workbook.xml)")
            _check_takedown_dimension(path, archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise NotAWorkbookError(path, f"the file is damaged (broken zip: {exc})") from exc


def _refuse_ole(path: Path) -> None:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            encrypted = ole.exists("EncryptedPackage")
    except OSError as exc:
        raise NotAWorkbookError(path, f"the file is damaged (unreadable OLE container: {exc})") from exc
    if encrypted:
        raise EncryptedWorkbookError(
            path,
            "the workbook is password-protected; remove the password in Excel (File > Info) and try again",
        )
    raise NotAWorkbookError(path, "this is an old binary Excel file; save it as .xlsm or .xlsx")


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip member of its XML, from workbook.xml and its relationships."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{_RELS_NS}}}Relationship")}
    parts: dict[str, str] = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_DOC_REL_NS}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        parts[sheet.get("name", "")] = member
    return parts


def _check_takedown_dimension(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a missing Takedown sheet, or one whose stored dimension exceeds the row cap."""
    try:
        parts = _sheet_parts(archive)
    except (KeyError, ElementTree.ParseError) as exc:
        raise NotAWorkbookError(path, f"the workbook structure is damaged ({exc})") from exc
    member = next((m for n, m in parts.items() if n.casefold() == L.SHEET_TAKEDOWN.casefold()), None)
    if member is None:
        raise MissingSheetError(
            path,
            f"there is no {L.SHEET_TAKEDOWN!r} sheet; if another sheet holds the list (with Identifier "
            f"and Action columns) run `mltakedown upgrade {path.name}`, or start from `mltakedown new`",
        )
    if member not in archive.namelist():
        raise NotAWorkbookError(
            path, f"the workbook is damaged ({member} is missing)", sheet=L.SHEET_TAKEDOWN
        )
    with archive.open(member) as handle:
        head = handle.read(4096)
    match = _DIMENSION_RE.search(head)
    if match and int(match.group(1)) - L.HEADER_ROW > L.MAX_DATA_ROWS:
        raise TooManyRowsError(
            path,
            f"the sheet uses {int(match.group(1)):,} rows; at most {L.MAX_DATA_ROWS:,} data rows are "
            "accepted (split the list into several workbooks, or delete the unused rows)",
            sheet=L.SHEET_TAKEDOWN,
        )


# --- Cell helpers ---------------------------------------------------------------------------------


def set_value(cell: Cell, value: CellValue) -> None:
    """Write ``value``; text is always stored as text, never as a formula or an error code."""
    if isinstance(value, str):
        # Set the string directly as text: openpyxl's setter would turn "=HYPERLINK(…)" from an
        # API title into a formula and "#N/A" into an error value (and re-check what safe_text did).
        cell._value = safe_text(value)
        cell.data_type = "s"
    elif isinstance(value, dt.datetime) and value.tzinfo is not None:
        cell.value = value.astimezone(dt.UTC).replace(tzinfo=None)  # Excel has no time zones
    else:
        cell.value = value


def _is_formula(cell: Any) -> bool:
    return cell.data_type == "f" or type(cell.value).__name__ in ("ArrayFormula", "DataTableFormula")


def _cell(ws: Worksheet, row: int, col: int) -> Cell:
    """The cell at (row, col), created if missing (``ws.cell`` minus its per-call validation)."""
    cell = ws._cells.get((row, col))
    if cell is None:
        cell = Cell(ws, row=row, column=col)
        ws._cells[(row, col)] = cell
    return cell


def find_sheet(wb: Workbook, name: str) -> Worksheet | None:
    """The sheet called ``name`` (Excel compares sheet names case-insensitively)."""
    for ws in wb.worksheets:
        if ws.title.casefold() == name.casefold():
            return ws
    return None


def header_columns(ws: Worksheet, row: int, path: Path, sheet: str = L.SHEET_TAKEDOWN) -> dict[str, int]:
    """Column key → column index of the header row, matched by text in any language."""
    cells = (
        (col, cell.value)
        for col in range(1, (ws.max_column or 0) + 1)
        if (cell := ws._cells.get((row, col))) is not None
    )
    return match_headers(cells, path, ws.title, row, sheet)


# --- The adapter ----------------------------------------------------------------------------------


@dataclass
class _Styles:
    """Style templates copied onto cells (copying a style array is far cheaper than assigning)."""

    results: dict[Result, Any] = field(default_factory=dict)
    plain: Any = None


class XlsxWorkbook:
    """A takedown workbook file. Implements ``WorkbookPort``.

    Opened with ``fast=True`` (the default) the workbook is read in one streaming pass
    (:mod:`~mltakedown.book.xlsx_stream`) and verdicts are written by splicing the Takedown
    sheet's XML (:mod:`~mltakedown.book.xlsx_splice`), leaving every other part as it was; rows
    appended to the Log and Snapshots sheets are spliced into those sheets' XML the same way
    (:mod:`~mltakedown.book.xlsx_append`). After a fast save the file is streamed again when it
    is next used. The first use of anything the fast path does not cover — the ``wb``/``ws``
    attributes, the Report sheet, a Log or Snapshots sheet to create, a missing output column,
    a summary block that is not the template's, XML the splicer does not know — loads the
    workbook fully with openpyxl, replays the verdicts and rows written so far, and carries on
    there; ``fallback_reason`` says why. Both paths give the same cells
    (tests/book/test_fast_path.py and test_fast_appends.py compare them).
    """

    def __init__(
        self,
        path: Path,
        wb: Workbook | None,
        ui_rels: list[tuple[str, str]],
        *,
        streamed: StreamedBook | None = None,
    ) -> None:
        self._path = path
        self._ui_rels = ui_rels
        self._settings: BookSettings | None = None
        self._styles: _Styles | None = None
        self._wb: Workbook | None = None
        self._ws: Worksheet | None = None
        self._streamed = streamed
        self._pending: list[PendingWrite] = []
        self._appends: list[PendingAppend] = []
        self._stamp = file_stamp(path)
        self.fallback_reason: str | None = None
        """Why the openpyxl path was taken for a workbook opened with ``fast=True`` (else None)."""
        if wb is not None:
            self._bind(wb)
        elif streamed is not None:
            self.columns = dict(streamed.columns)
            self._require_columns(streamed.sheet_title)
        else:
            raise ValueError("XlsxWorkbook needs a loaded workbook or a streamed one")

    def _bind(self, wb: Workbook) -> None:
        ws = find_sheet(wb, L.SHEET_TAKEDOWN)
        if ws is None:  # preflight checked it; a sheet can still be a chartsheet
            raise MissingSheetError(self._path, f"there is no {L.SHEET_TAKEDOWN!r} worksheet")
        self._wb, self._ws = wb, ws
        self.columns = header_columns(ws, L.HEADER_ROW, self._path)
        self._require_columns(ws.title)

    def _require_columns(self, title: str) -> None:
        missing = [c for c in L.TAKEDOWN_COLUMNS if c.required and c.key not in self.columns]
        if missing:
            names = ", ".join(repr(c.header("en")) for c in missing)
            raise MissingColumnError(
                self._path, f"the header row has no {names} column", sheet=title, row=L.HEADER_ROW
            )

    @classmethod
    def open(
        cls, path: Path | str, *, check_template: bool = True, writable: bool = True, fast: bool = True
    ) -> XlsxWorkbook:
        """Open ``path``; refuse bad files and old templates.

        With ``writable`` (the default) a workbook open in Excel is refused up front, since the
        results could not be saved into it; reading only is fine (Excel's last save is on disk).
        With ``fast`` (the default) the workbook is streamed rather than loaded (see the class).
        """
        path = Path(path)
        preflight(path, for_write=writable)
        stamp = file_stamp(path)  # before reading: a change made while it is read must show too
        streamed: StreamedBook | None = None
        reason: str | None = None
        if fast:
            try:
                streamed = stream_book(path)
            except StreamUnsupported as exc:
                reason = str(exc)
        if streamed is not None:
            if check_template:
                version = parse_settings(streamed.settings).template_version or streamed.defined_version
                _require_version(path, version)
            book = cls(path, None, _ui_relationships(path), streamed=streamed)
            book._stamp = stamp
            return book
        wb = _load(path)
        if check_template:
            _require_current_template(path, wb)
        book = cls(path, wb, _ui_relationships(path))
        book._stamp = stamp
        if reason is not None:
            book._note_fallback(reason)
        return book

    @property
    def wb(self) -> Workbook:
        """The openpyxl workbook (loading it now, and leaving the fast path, if it was streamed)."""
        if self._wb is None:
            self._materialise("the openpyxl workbook was asked for")
        assert self._wb is not None
        return self._wb

    @property
    def ws(self) -> Worksheet:
        """The Takedown worksheet (openpyxl; loads the workbook if it was streamed)."""
        if self._ws is None:
            self._materialise("the openpyxl worksheet was asked for")
        assert self._ws is not None
        return self._ws

    @property
    def fast(self) -> bool:
        """Whether the workbook is still on the fast (streamed, spliced) path."""
        return self._streamed is not None

    def _note_fallback(self, reason: str) -> None:
        if self.fallback_reason is None:
            self.fallback_reason = reason
            _log.info("%s: using the openpyxl path (%s)", self._path.name, reason)

    def _materialise(self, reason: str) -> None:
        """Load the workbook with openpyxl and replay the verdicts written on the fast path."""
        self._note_fallback(reason)
        self._require_unchanged()
        self._bind(_load(self._path))
        pending, self._pending = self._pending, []
        appends, self._appends = self._appends, []
        self._streamed = None
        for write in pending:
            self._write_openpyxl(write.outcomes, stage=write.stage, at=write.at)
        for append in appends:
            ws = self._table_sheet(append.sheet, append.columns)
            _append(ws, append.sheet, append.columns, append.rows, self._path, self.language)

    def _on_fast_path(self) -> bool:
        """Whether writes can go to the fast path: streamed, or streamed again after a fast save."""
        if self._streamed is None and self._wb is None:
            # A fast save wrote the file: read it again the cheap way (not with a full load).
            self._require_unchanged()
            try:
                streamed = stream_book(self._path)
            except StreamUnsupported as exc:
                self._materialise(str(exc))
                return False
            self._streamed = streamed
            self.columns = dict(streamed.columns)
        return self._streamed is not None

    # WorkbookPort ------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The workbook file."""
        return self._path

    @property
    def language(self) -> str:
        """The Settings sheet's LANGUAGE (else the system locale's language)."""
        return self.read_settings().language

    @property
    def conditional_colours(self) -> bool:
        """Whether the Result column is coloured by conditional formatting (nothing to paint)."""
        return L.conditional_colours(self.read_settings())

    def read_settings(self) -> BookSettings:
        """The Settings sheet (defaults when the sheet is missing)."""
        if self._settings is None and self._streamed is None and self._wb is None:
            self._on_fast_path()
        if self._settings is None:
            pairs = self._streamed.settings if self._streamed is not None else settings_pairs(self.wb)
            self._settings = parse_settings(pairs)
        return self._settings

    def read_rows(self) -> list[InputRow]:
        """All non-blank data rows, in sheet order, with input values, formulas and prior outputs."""
        if self._streamed is not None and self._pending:
            self._materialise("rows were read back after writing")
        if self._wb is None and self._on_fast_path():
            assert self._streamed is not None
            self._check_row_count(self._streamed.max_row, self._streamed.sheet_title)
            return list(self._streamed.rows)
        self._check_row_count(self.ws.max_row, self.ws.title)
        # One pass over the cells that exist (far fewer than rows × columns on a fresh sheet).
        key_of = {c: k for k, c in self.columns.items()}
        inputs = frozenset(L.INPUT_KEYS)
        found: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        for (r, c), cell in self.ws._cells.items():
            if r >= L.FIRST_DATA_ROW and (key := key_of.get(c)) is not None:
                value = cell._value
                if value is not None and value != "":
                    found[r].append((key, cell))
        rows: list[InputRow] = []
        for r in sorted(found):
            values: dict[str, CellValue] = {}
            formulas: set[str] = set()
            prior: dict[str, CellValue] = {}
            for key, cell in found[r]:
                if key not in inputs:
                    prior[key] = cell._value
                elif _is_formula(cell):
                    formulas.add(key)
                    values[key] = str(getattr(cell.value, "text", cell.value))
                else:
                    values[key] = cell._value
            if values:
                rows.append(InputRow(r, values, frozenset(formulas), prior))
        return rows

    def _check_row_count(self, last: int, title: str) -> None:
        if last - L.HEADER_ROW > L.MAX_DATA_ROWS:
            raise TooManyRowsError(
                self._path,
                f"{last - L.HEADER_ROW:,} rows; at most {L.MAX_DATA_ROWS:,} data rows are accepted",
                sheet=title,
            )

    def write_outcomes(self, outcomes: Sequence[Outcome], *, stage: str) -> None:
        """Write verdicts and output values on their rows, refresh the summary.

        The Result cell is painted with its result's colours, unless the workbook colours it by
        conditional formatting (:attr:`conditional_colours`); then its format is left alone.
        """
        outputs = frozenset(L.OUTPUT_KEYS)
        for outcome in outcomes:  # refuse before writing anything, so a bad batch leaves no trace
            if outcome.row_number < L.FIRST_DATA_ROW:
                raise WorkbookError(
                    self._path, "an outcome names a row above the table", row=outcome.row_number
                )
            if not outputs.issuperset(outcome.values):
                bad = ", ".join(sorted(set(outcome.values) - outputs))
                raise WorkbookError(
                    self._path,
                    f"{bad} is not an output column; inputs are never written",
                    row=outcome.row_number,
                )
        at = dt.datetime.now(dt.UTC)
        if self._wb is None and self._on_fast_path():
            reason = fast_write_blocker(self.columns)
            if reason is None:
                self._pending.append(PendingWrite(list(outcomes), stage, at))
                return
            self._materialise(reason)
        self._write_openpyxl(outcomes, stage=stage, at=at)

    def _write_openpyxl(self, outcomes: Sequence[Outcome], *, stage: str, at: dt.datetime) -> None:
        """The openpyxl path of :meth:`write_outcomes` (outcomes already validated)."""
        self._ensure_output_columns()
        self._refuse_merged_targets(outcomes)
        # A workbook with the Result rules colours itself: the cell keeps its own format.
        styles = None if self.conditional_colours else self._style_templates()
        cols = self.columns
        ws = self.ws
        for outcome in outcomes:
            r = outcome.row_number
            written = {"result", "code", "message", "remedy", *outcome.values}
            result_cell = _cell(ws, r, cols["result"])
            set_value(result_cell, outcome.result.value if outcome.result else None)
            if styles is not None:
                result_cell._style = copy(styles.results[outcome.result] if outcome.result else styles.plain)
            set_value(_cell(ws, r, cols["code"]), outcome.code or None)
            set_value(_cell(ws, r, cols["message"]), outcome.message or None)
            set_value(_cell(ws, r, cols["remedy"]), outcome.remedy or None)
            for key, value in outcome.values.items():
                set_value(_cell(ws, r, cols[key]), value)
            if outcome.clear_others:
                for key in L.OUTPUT_KEYS:
                    if key not in written and (cell := ws._cells.get((r, cols[key]))) is not None:
                        cell.value = None
        self.refresh_summary(stage=stage, at=at)

    def _refuse_merged_targets(self, outcomes: Sequence[Outcome]) -> None:
        """Refuse, before writing anything, when a cell the tool writes is covered by a merge.

        Such a cell cannot hold a value (openpyxl would crash on it, Excel hides it), so the
        verdict would be lost; the user unmerges the range, which changes no value.
        """
        ranges = list(self.ws.merged_cells.ranges)
        if not ranges:
            return
        out_cols = sorted(self.columns[k] for k in L.OUTPUT_KEYS if k in self.columns)
        summary_cols = range(1, len(L.SUMMARY_RESULTS) + 5)
        rows = {o.row_number for o in outcomes}
        for merged in ranges:
            for row in range(merged.min_row, merged.max_row + 1):
                if row in (L.SUMMARY_LABEL_ROW, L.SUMMARY_VALUE_ROW):
                    cols: Iterable[int] = summary_cols
                elif row in rows:
                    cols = out_cols
                else:
                    continue
                for col in cols:
                    inside = merged.min_col <= col <= merged.max_col
                    if inside and (row, col) != (merged.min_row, merged.min_col):
                        raise WorkbookError(
                            self._path,
                            f"the cells {merged.coord} are merged, and the tool writes into "
                            f"{get_column_letter(col)}{row}; unmerge them (Home > Merge & Center) "
                            "and run the step again",
                            sheet=self.ws.title,
                            row=row,
                        )

    def refresh_summary(self, *, stage: str, at: dt.datetime | None = None) -> dict[Result, int]:
        """Count the Result column and write the summary block (rows 1–2)."""
        counts = dict.fromkeys(Result, 0)
        by_value = {r.value: r for r in Result}
        c = self.columns["result"]
        cells = self.ws._cells
        for r in range(L.FIRST_DATA_ROW, self.ws.max_row + 1):
            cell = cells.get((r, c))
            if cell is not None and (result := by_value.get(cell.value)) is not None:
                counts[result] += 1
        lang = self.language
        write_summary_labels(self.ws, lang)
        for offset, result in enumerate(L.SUMMARY_RESULTS, start=2):
            self.ws.cell(L.SUMMARY_VALUE_ROW, offset, counts[result])
        n = len(L.SUMMARY_RESULTS) + 2
        self.ws.cell(L.SUMMARY_VALUE_ROW, n, sum(counts.values()))
        set_value(self.ws.cell(L.SUMMARY_VALUE_ROW, n + 1), stage)
        moment = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
        set_value(self.ws.cell(L.SUMMARY_VALUE_ROW, n + 2), moment.isoformat(sep=" "))
        return counts

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        """Append API calls to the Log sheet (created if missing)."""
        rows: list[dict[str, CellValue]] = [
            {
                "at_utc": e.at,
                "method": e.method,
                "path": e.path,
                "status": e.status,
                "request_id": e.request_id,
                "duration_ms": round(e.duration_ms, 1),
                "row": e.row_number,
                "run_id": e.run_id,
                "note": e.note,
            }
            for e in entries
        ]
        self._append_rows(L.SHEET_LOG, L.LOG_COLUMNS, rows)

    def write_snapshots(self, snapshots: Sequence[SnapshotRow]) -> None:
        """Append item snapshots to the Snapshots sheet (created if missing)."""
        rows: list[dict[str, CellValue]] = [
            {
                "run_id": s.run_id,
                "taken_at": s.taken_at,
                "item_id": s.item_id,
                "variation_id": str(s.variation_id) if s.variation_id is not None else None,
                "site": s.site,
                "status": s.status,
                "sub_status": s.sub_status,
                "available_quantity": s.available_quantity,
                "price": s.price,
                "title": s.title,
                "sha256": s.sha256,
                "file": s.file,
                "raw_json": s.raw_json,
            }
            for s in snapshots
        ]
        self._append_rows(L.SHEET_SNAPSHOTS, L.SNAPSHOT_COLUMNS, rows)

    def _append_rows(self, sheet: str, columns: Sequence[L.Column], rows: list[dict[str, CellValue]]) -> None:
        """Append ``rows`` to a table sheet: kept for the fast save, or written with openpyxl."""
        if not rows:
            return
        if self._wb is None and self._on_fast_path():
            self._appends.append(PendingAppend(sheet, tuple(columns), rows))
            return
        ws = self._table_sheet(sheet, columns)
        _append(ws, sheet, columns, rows, self._path, self.language)

    def write_report(self, grid: Sequence[Sequence[CellValue]], *, sheet_name: str = "Report") -> None:
        """Replace the values of the report sheet (added at the end when missing) with ``grid``."""
        ws = find_sheet(self.wb, sheet_name)
        if ws is None:
            ws = self.wb.create_sheet(sheet_name)
        else:
            ws.delete_rows(1, ws.max_row)
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    set_value(ws.cell(r, c), value)

    def save(self) -> None:
        """Write to a temporary file beside the workbook, then replace the original with it.

        On the fast path only the Takedown sheet, the Log and Snapshots sheets rows were appended
        to, and ``styles.xml`` when a colour or date format is new are rewritten; on the openpyxl
        path the ribbon link openpyxl drops is restored.
        """
        if self._wb is None and not self._pending and not self._appends:
            # Nothing written since the file was streamed (or since the last fast save).
            if lock_file(self._path) is not None:
                raise WorkbookLockedError(
                    self._path,
                    "the workbook was opened in Excel or LibreOffice meanwhile; close it and try again",
                )
            return
        self._require_unchanged()
        if self._streamed is not None:
            try:
                parts = spliced_parts(
                    self._path,
                    self._streamed,
                    self.columns,
                    self._pending,
                    self.language,
                    paint_results=not self.conditional_colours,
                    appends=self._appends,
                )
            except SpliceUnsupported as exc:
                self._materialise(str(exc))
            else:
                replace_atomically(self._path, lambda tmp: rewrite_package(self._path, tmp, parts))
                # The file now differs from what was streamed: the next use streams it again.
                self._streamed = None
                self._pending.clear()
                self._appends.clear()
                self._stamp = file_stamp(self._path)
                return
        save_atomically(self.wb, self._path, self._ui_rels)
        self._stamp = file_stamp(self._path)

    def _require_unchanged(self) -> None:
        """Refuse to write over a file that changed on disk since it was read.

        Saving then would either erase what was saved meanwhile (openpyxl path: the copy in
        memory is written back whole) or splice verdicts into rows that may no longer be the
        rows they were made for (fast path). Nothing is written; run the stage again.
        """
        if file_stamp(self._path) != self._stamp:
            raise WorkbookError(
                self._path,
                "the workbook changed on disk after this step read it (saved from Excel or another "
                "program meanwhile); nothing was written to it — run the step again",
            )

    # Internals ---------------------------------------------------------------------------------

    def _ensure_output_columns(self) -> None:
        """Add a header for every output column the sheet lacks, after the last used column."""
        lang = self.language
        next_col = max([*self.columns.values(), self.ws.max_column]) + 1
        for column in L.TAKEDOWN_COLUMNS:
            if column.owner is L.Owner.OUTPUT and column.key not in self.columns:
                style_header(self.ws, L.HEADER_ROW, next_col, column, lang)
                self.columns[column.key] = next_col
                next_col += 1

    def _style_templates(self) -> _Styles:
        if self._styles is None:
            styles = _Styles()
            scratch = Cell(self.ws)
            for result in Result:
                scratch.fill = PatternFill("solid", fgColor=L.RESULT_FILLS[result])
                scratch.font = Font(bold=True, color=L.RESULT_FONTS[result])
                styles.results[result] = copy(scratch._style)
            plain = Cell(self.ws)
            styles.plain = copy(plain._style)
            self._styles = styles
        return self._styles

    def _table_sheet(self, name: str, columns: Sequence[L.Column]) -> Worksheet:
        ws = find_sheet(self.wb, name)
        if ws is None:
            ws = self.wb.create_sheet(name)
            write_table_headers(ws, columns, self.language)
        return ws


def _append(
    ws: Worksheet,
    sheet: str,
    columns: Sequence[L.Column],
    rows: Iterable[Mapping[str, CellValue]],
    path: Path,
    lang: str,
) -> None:
    """Append rows below the last used row, each value under its header (found in any language).

    A header missing from the sheet is added after the last used column (in the first free
    column of an empty header row), so its values never land under another column's header.
    """
    found = header_columns(ws, 1, path, sheet)
    next_col = max([*found.values(), ws.max_column]) + 1 if found else 1
    for column in columns:
        if column.key not in found:
            while ws._cells.get((1, next_col)) is not None and ws._cells[(1, next_col)].value not in (
                None,
                "",
            ):
                next_col += 1
            set_value(ws.cell(1, next_col), column.header(lang))
            found[column.key] = next_col
            next_col += 1
    r = ws.max_row
    for row in rows:
        r += 1
        for column in columns:
            set_value(ws.cell(r, found[column.key]), row.get(column.key))


def _load(path: Path) -> Workbook:
    """openpyxl load with VBA kept for .xlsm; any openpyxl failure becomes a WorkbookError."""
    try:
        # keep_vba only for .xlsm: with it openpyxl marks the package macro-enabled, and Excel
        # refuses an .xlsx whose content type says it holds macros.
        return load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", keep_links=True)
    except WorkbookError:
        raise
    except Exception as exc:  # openpyxl raises many types for a damaged package
        raise NotAWorkbookError(path, f"the workbook cannot be read ({type(exc).__name__}: {exc})") from exc


def template_version(wb: Workbook) -> str:
    """The template version stamped in ``wb`` (Settings key, else the defined name), or ``""``."""
    version = parse_settings(settings_pairs(wb)).template_version
    if version:
        return version
    name = wb.defined_names.get(L.TEMPLATE_VERSION_NAME)
    return name.attr_text.strip().strip('"') if name is not None and name.attr_text else ""


def _require_current_template(path: Path, wb: Workbook) -> None:
    _require_version(path, template_version(wb))


def _require_version(path: Path, version: str) -> None:
    if version == L.TEMPLATE_VERSION:
        return
    if version.isdigit() and int(version) > int(L.TEMPLATE_VERSION):
        raise TemplateVersionError(
            path,
            f"this workbook uses template version {version}, newer than this mltakedown knows "
            f"({L.TEMPLATE_VERSION}); update mltakedown (pip install -U mltakedown)",
        )
    found = f"template version {version}" if version else "no template version"
    raise TemplateVersionError(
        path,
        f"this workbook has {found} (current: {L.TEMPLATE_VERSION}); migrate it with "
        f"`mltakedown upgrade {path.name}` (every input is kept)",
    )


def settings_pairs(wb: Workbook) -> list[tuple[object, object]]:
    """Column A/B pairs of the Settings sheet (empty when there is no Settings sheet)."""
    ws = find_sheet(wb, L.SHEET_SETTINGS)
    if ws is None:
        return []
    return [
        (row[0], row[1] if len(row) > 1 else None)
        for row in ws.iter_rows(min_row=2, max_col=2, values_only=True)
    ]


# --- Saving ---------------------------------------------------------------------------------------


def _ui_relationships(path: Path) -> list[tuple[str, str]]:
    """The package's ribbon relationships (type, target) before openpyxl rewrites ``_rels/.rels``."""
    with zipfile.ZipFile(path) as archive:
        if "_rels/.rels" not in archive.namelist():
            return []
        try:
            root = ElementTree.fromstring(archive.read("_rels/.rels"))
        except ElementTree.ParseError as exc:
            raise NotAWorkbookError(path, f"the workbook structure is damaged (_rels/.rels: {exc})") from exc
    return [
        (rel.get("Type", ""), rel.get("Target", ""))
        for rel in root.iter(f"{{{_RELS_NS}}}Relationship")
        if rel.get("Type") in _UI_REL_TYPES
    ]


def restore_ui_relationships(path: Path, wanted: Sequence[tuple[str, str]]) -> bool:
    """Re-add ribbon relationships openpyxl dropped (the 2007 ``customUI14`` one); True if changed."""
    if not wanted:
        return False
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        root = ElementTree.fromstring(archive.read("_rels/.rels"))
    present = {
        (r.get("Type"), r.get("Target", "").lstrip("/")) for r in root.iter(f"{{{_RELS_NS}}}Relationship")
    }
    ids = {r.get("Id") for r in root.iter(f"{{{_RELS_NS}}}Relationship")}
    missing = [(t, target) for t, target in wanted if (t, target.lstrip("/")) not in present]
    missing = [(t, target) for t, target in missing if target.lstrip("/") in names]
    if not missing:
        return False
    ElementTree.register_namespace("", _RELS_NS)
    for number, (rel_type, target) in enumerate(missing, start=1):
        rel_id = f"rIdMltUi{number}"
        while rel_id in ids:
            rel_id += "x"
        ElementTree.SubElement(root, f"{{{_RELS_NS}}}Relationship", Id=rel_id, Type=rel_type, Target=target)
    rels = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    rebuilt = path.with_name(path.name + ".rels")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rebuilt, "w") as dst:
        for info in src.infolist():
            data = rels if info.filename == "_rels/.rels" else src.read(info)
            dst.writestr(info, data, compress_type=info.compress_type)
    os.replace(rebuilt, path)
    return True


def save_atomically(wb: Workbook, path: Path, ui_rels: Sequence[tuple[str, str]] = ()) -> None:
    """Save ``wb`` over ``path`` through a temporary file in the same folder and ``os.replace``."""

    def write(tmp: Path) -> None:
        wb.save(tmp)
        restore_ui_relationships(tmp, ui_rels)

    replace_atomically(path, write)


@functools.cache
def _current_umask() -> int:
    # os.umask can only be read by setting it; set it straight back (once per process).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Replace ``path`` with what ``write`` puts in a temporary file beside it (fsync, then rename).

    The original is untouched until the rename, so a crash leaves either the old or the new file.
    A symbolic link is followed: the file it points to is replaced, and the link stays.
    """
    if path.is_symlink():
        path = path.resolve()
    if lock_file(path) is not None:
        raise WorkbookLockedError(
            path, "the workbook was opened in Excel or LibreOffice meanwhile; close it and try again"
        )
    fd, tmp_name = tempfile.mkstemp(prefix=".~mltakedown-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        # Keep the original's permissions; a new workbook gets the usual ones (0666 less the
        # umask), not mkstemp's private 0600, so it can be shared like any other file.
        try:
            os.chmod(tmp, path.stat().st_mode & 0o777)
        except FileNotFoundError:
            os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- Building sheets (new workbooks and upgrades) -------------------------------------------------

_BOLD = Font(bold=True)


def style_header(ws: Worksheet, row: int, col: int, column: L.Column, lang: str) -> None:
    """Write and style one Takedown header cell, and set its column's width and format."""
    cell = ws.cell(row, col)
    set_value(cell, column.header(lang))
    fill = L.INPUT_HEADER_FILL if column.owner is L.Owner.INPUT else L.OUTPUT_HEADER_FILL
    cell.fill = PatternFill("solid", fgColor=fill)
    cell.font = _BOLD
    cell.alignment = Alignment(vertical="center", wrap_text=True)
    letter = get_column_letter(col)
    ws.column_dimensions[letter].width = column.width
    if column.as_text:
        # Column-level Text format: what users type or paste later stays text (no 00123 → 123).
        ws.column_dimensions[letter].number_format = "@"


def write_summary_labels(ws: Worksheet, lang: str) -> None:
    """Row 1 labels of the summary block and the how-to line in row 3."""
    for col, label in enumerate(L.summary_labels(lang), start=1):
        cell = ws.cell(L.SUMMARY_LABEL_ROW, col)
        if cell.value != label:
            set_value(cell, label)
            cell.font = _BOLD
            cell.fill = PatternFill("solid", fgColor=L.SUMMARY_FILL)
    for result_col, result in enumerate(L.SUMMARY_RESULTS, start=2):
        cell = ws.cell(L.SUMMARY_VALUE_ROW, result_col)
        if cell.fill.fgColor.rgb != "00" + L.RESULT_FILLS[result]:
            cell.fill = PatternFill("solid", fgColor=L.RESULT_FILLS[result])
            cell.font = Font(bold=True, color=L.RESULT_FONTS[result])
    note = ws.cell(L.NOTE_ROW, 1)
    if note.value is None:
        set_value(note, L.HOW_TO[lang])
        note.font = Font(italic=True, color="595959")


def add_validations(ws: Worksheet, columns: dict[str, int], lang: str) -> None:
    """Drop-down lists for Action, Reason and Confirm over the whole data area."""
    last = L.FIRST_DATA_ROW + L.MAX_DATA_ROWS - 1
    lists = {
        "action": [labels[lang] for labels in L.ACTION_CHOICES.values()],
        "reason": [labels[lang] for labels in L.REASON_CHOICES.values()],
        "confirm": [L.CONFIRM_CHOICE[lang]],
    }
    for key, choices in lists.items():
        if key not in columns:
            continue
        letter = get_column_letter(columns[key])
        # A warning, not a stop: typed synonyms (PAUSAR, 下架…) are accepted by Check.
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(choices) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            error=texts(Code.ACTION_UNKNOWN, lang).remedy if key == "action" else None,
        )
        dv.add(f"{letter}{L.FIRST_DATA_ROW}:{letter}{last}")
        ws.add_data_validation(dv)


def write_table_headers(ws: Worksheet, columns: Sequence[L.Column], lang: str) -> None:
    """Row-1 headers for Log/Snapshots/Codes style sheets, bold, frozen, with widths."""
    for col, column in enumerate(columns, start=1):
        cell = ws.cell(1, col)
        set_value(cell, column.header(lang))
        cell.font = _BOLD
        cell.fill = PatternFill("solid", fgColor=L.OUTPUT_HEADER_FILL)
        ws.column_dimensions[get_column_letter(col)].width = column.width
    ws.freeze_panes = "A2"


def write_codes_sheet(ws: Worksheet, lang: str) -> None:
    """The Codes sheet: every code of the catalogue with its texts in ``lang``."""
    ws.delete_rows(1, ws.max_row)
    write_table_headers(ws, L.CODES_COLUMNS, lang)
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, (code, facts) in enumerate(CATALOGUE.items(), start=2):
        text = texts(code, lang)
        values = (
            code.value,
            ui_text(f"severity.{facts.severity.value}", lang),
            ui_text("yes" if facts.blocks_write else "no", lang),
            facts.result.value,
            text.message,
            text.remedy,
        )
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c)
            set_value(cell, value)
            cell.alignment = wrap


def write_settings_sheet(ws: Worksheet, lang: str, existing: dict[str, object] | None = None) -> None:
    """The Settings sheet: key, value (existing values kept), note in ``lang``."""
    existing = existing or {}
    for col, header in enumerate(L.SETTINGS_HEADERS, start=1):
        cell = ws.cell(1, col)
        set_value(cell, header[lang])
        cell.font = _BOLD
        cell.fill = PatternFill("solid", fgColor=L.OUTPUT_HEADER_FILL)
    keys_at = {
        str(ws.cell(r, 1).value).strip().upper(): r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value
    }
    next_row = max(ws.max_row, 1) + 1
    for spec in L.SETTINGS:
        default: object = lang if spec.key == "LANGUAGE" else spec.default
        kept = existing.get(spec.key, default)
        value: CellValue = kept if isinstance(kept, str | int | float | dt.date) else str(kept)
        if spec.key == L.TEMPLATE_VERSION_KEY:
            value = L.TEMPLATE_VERSION
        r = keys_at.get(spec.key)
        if r is None:
            r, next_row = next_row, next_row + 1
            set_value(ws.cell(r, 1), spec.key)
        if spec.key == L.TEMPLATE_VERSION_KEY or ws.cell(r, 2).value in (None, ""):
            set_value(ws.cell(r, 2), value if value != "" else None)
        set_value(ws.cell(r, 3), spec.notes[lang])
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["C"].width = 80
    ws.column_dimensions["B"].number_format = "@"
    ws.freeze_panes = "A2"


def write_xlwings_conf(ws: Worksheet, lang: str) -> None:
    """The ``xlwings.conf`` sheet: key in A, value in B (empty = xlwings default), note in C."""
    present = {
        str(ws.cell(r, 1).value).strip().upper() for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value
    }
    r = ws.max_row if present else 0
    for key, value, notes in L.XLWINGS_CONF:
        if key.upper() in present:
            continue
        r += 1
        set_value(ws.cell(r, 1), key)
        set_value(ws.cell(r, 2), value or None)
        set_value(ws.cell(r, 3), notes[lang])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 50
    ws.column_dimensions["C"].width = 70


def stamp_version(wb: Workbook) -> None:
    """The template version as a workbook-level defined name (the Settings key is the other stamp)."""
    if L.TEMPLATE_VERSION_NAME in wb.defined_names:
        del wb.defined_names[L.TEMPLATE_VERSION_NAME]
    wb.defined_names[L.TEMPLATE_VERSION_NAME] = DefinedName(
        L.TEMPLATE_VERSION_NAME, attr_text=f'"{L.TEMPLATE_VERSION}"'
    )


def populate_workbook(wb: Workbook, lang: str) -> None:
    """Lay out every sheet of a fresh takedown workbook in ``wb`` (which must be empty)."""
    lang = normalise_language(lang)
    ws = wb.active if wb.active is not None and wb.active.max_row == 1 else wb.create_sheet()
    assert isinstance(ws, Worksheet)
    ws.title = L.SHEET_TAKEDOWN
    columns: dict[str, int] = {}
    for col, column in enumerate(L.TAKEDOWN_COLUMNS, start=1):
        style_header(ws, L.HEADER_ROW, col, column, lang)
        columns[column.key] = col
    ws.row_dimensions[L.HEADER_ROW].height = 30
    write_summary_labels(ws, lang)
    for col in range(2, len(L.SUMMARY_RESULTS) + 3):
        ws.cell(L.SUMMARY_VALUE_ROW, col, 0)
    add_validations(ws, columns, lang)
    add_result_rules(ws, columns["result"])  # Settings' RESULT_COLOURS default says "conditional"
    ws.freeze_panes = f"A{L.FIRST_DATA_ROW}"
    write_settings_sheet(wb.create_sheet(L.SHEET_SETTINGS), lang)
    write_table_headers(wb.create_sheet(L.SHEET_LOG), L.LOG_COLUMNS, lang)
    write_table_headers(wb.create_sheet(L.SHEET_SNAPSHOTS), L.SNAPSHOT_COLUMNS, lang)
    write_codes_sheet(wb.create_sheet(L.SHEET_CODES), lang)
    write_xlwings_conf(wb.create_sheet(L.SHEET_XLWINGS_CONF), lang)
    for sheet in wb.worksheets:
        print_setup(sheet, L.PRINT_TITLE_ROWS.get(sheet.title))
    stamp_version(wb)


def create_workbook(path: Path | str, lang: str, *, overwrite: bool = False) -> Path:
    """Create a new takedown workbook at ``path`` (.xlsx, or .xlsm through the xlsm builder)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WORKBOOK_SUFFIXES:
        raise NotAWorkbookError(path, "the name must end in .xlsx or .xlsm")
    if path.exists() and not overwrite:
        raise WorkbookError(path, "the file already exists; choose another name or pass --force")
    if not path.parent.is_dir():
        raise WorkbookError(path, f"the folder {path.parent} does not exist")
    if suffix == ".xlsm":
        _make_xlsm(path, normalise_language(lang))
        return path
    wb = Workbook()
    populate_workbook(wb, lang)
    save_atomically(wb, path)
    return path


def _make_xlsm(path: Path, lang: str) -> None:
    """Lay out the sheets, then hand the package to the ``.xlsm`` builder (VBA project + ribbon).

    The builder is ``mltakedown.book.xlsm.make_xlsm(xlsx: Path | bytes, out_path, lang)``; it
    writes to a temporary name here, which is then renamed over ``path``.
    """
    try:
        from mltakedown.book.xlsm import make_xlsm
    except ImportError as exc:
        raise WorkbookError(
            path,
            "creating .xlsm workbooks needs the .xlsm builder, which is not available in this version; "
            "create a .xlsx instead (mltakedown new FILE.xlsx)",
        ) from exc
    wb = Workbook()
    populate_workbook(wb, lang)
    buffer = io.BytesIO()
    wb.save(buffer)
    # Like every save: refused while Excel has the file open (--force over an open workbook).

    def build(tmp: Path) -> None:
        make_xlsm(buffer.getvalue(), tmp, lang)

    replace_atomically(path, build)


# --- Upgrading older workbooks --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpgradeReport:
    """What ``upgrade`` did."""

    path: Path
    from_version: str
    to_version: str
    rows_kept: int
    columns_added: tuple[str, ...]
    rows_inserted: int
    sheets_added: tuple[str, ...]
    colour_rules_added: bool = False
    """The Result colour rules (conditional formatting) were added, and the Settings marker set."""
    print_setup_added: tuple[str, ...] = ()
    """Sheets that got the template's print setup (those that had none)."""

    @property
    def changed(self) -> bool:
        """Whether anything was migrated (False: the workbook was already current)."""
        return bool(
            self.from_version != self.to_version
            or self.columns_added
            or self.rows_inserted
            or self.sheets_added
            or self.colour_rules_added
            or self.print_setup_added
        )


def _find_table(wb: Workbook, path: Path) -> tuple[Worksheet, int]:
    """The sheet and row holding the takedown header (Takedown first, then any sheet)."""
    preferred = find_sheet(wb, L.SHEET_TAKEDOWN)
    candidates = [preferred] if preferred is not None else list(wb.worksheets)
    for ws in candidates:
        for row in range(1, L.HEADER_SEARCH_ROWS + 1):
            found = header_columns(ws, row, path)
            if "identifier" in found and "action" in found:
                return ws, row
    where = f"the {L.SHEET_TAKEDOWN!r} sheet" if preferred is not None else "any sheet"
    raise MissingColumnError(
        path,
        f"no header row with Identifier and Action found in the first {L.HEADER_SEARCH_ROWS} rows of {where}",
    )


def upgrade_workbook(path: Path | str) -> UpgradeReport:
    """Migrate a workbook to the current template in place, keeping every input cell.

    The header row moves to row 4 (rows are inserted above it), missing output columns are added
    after the last used column, the summary block, drop-downs, frozen header, Settings keys,
    Codes, Log, Snapshots and ``xlwings.conf`` sheets are added or refreshed, and the version is
    stamped. The Result colour rules (conditional formatting) are added when missing, with the
    Settings marker ``RESULT_COLOURS = conditional`` (unless the user set another value), and the
    colours earlier runs painted on Result cells are dropped; template sheets without a print setup
    of their own get the template's. A workbook from a newer template is refused.
    """
    path = Path(path)
    preflight_for_upgrade(path)
    wb = _load(path)
    from_version = template_version(wb)
    if from_version.isdigit() and int(from_version) > int(L.TEMPLATE_VERSION):
        raise TemplateVersionError(
            path, f"template version {from_version} is newer than this mltakedown knows; update mltakedown"
        )
    ui_rels = _ui_relationships(path)
    ws, header_row = _find_table(wb, path)
    if header_row > L.HEADER_ROW:
        above = [c for row in ws.iter_rows(max_row=header_row - 1) for c in row if c.value not in (None, "")]
        if above:
            raise WorkbookError(
                path,
                f"the header is on row {header_row} and rows above it hold text; the template needs the "
                f"header on row {L.HEADER_ROW}: delete {header_row - L.HEADER_ROW} row(s) above it and run "
                "upgrade again",
                sheet=ws.title,
            )
    if header_row == L.HEADER_ROW and not from_version:
        _refuse_user_text_in_summary_rows(path, ws)
    inserted = max(0, L.HEADER_ROW - header_row)
    # Like Excel's own row insert: merges, links, validation, colour rules and formulas move too.
    move_rows_on_top(wb, ws, L.HEADER_ROW - header_row, L.SHEET_TAKEDOWN)
    existing = dict(settings_pairs(wb))
    lang_value = existing.get("LANGUAGE") or existing.get("language")
    lang = normalise_language(str(lang_value)) if lang_value else parse_settings([]).language
    columns = header_columns(ws, L.HEADER_ROW, path)
    added: list[str] = []
    next_col = max([*columns.values(), ws.max_column]) + 1
    for column in L.TAKEDOWN_COLUMNS:
        if column.key not in columns:
            style_header(ws, L.HEADER_ROW, next_col, column, lang)
            columns[column.key] = next_col
            added.append(column.key)
            next_col += 1
    _unmerge_summary_rows(ws)
    write_summary_labels(ws, lang)
    if not ws.data_validations.dataValidation:
        add_validations(ws, columns, lang)
    rules_added = add_result_rules(ws, columns["result"])
    ws.freeze_panes = f"A{L.FIRST_DATA_ROW}"
    known = {str(k).strip().upper(): v for k, v in existing.items() if k}
    if rules_added and not str(known.get(L.RESULT_COLOURS_KEY) or "").strip():
        # The rules are in now: say so, so that the adapters stop painting Result cells.
        known[L.RESULT_COLOURS_KEY] = L.RESULT_COLOURS_CONDITIONAL
    sheets_added = _ensure_side_sheets(wb, lang, known)
    if L.conditional_colours(parse_settings(settings_pairs(wb))):
        _clear_painted_results(ws, columns["result"])
    printed = [
        sheet.title
        for sheet in wb.worksheets
        if sheet.title in _TEMPLATE_SHEETS and not has_print_setup(sheet)
    ]
    for title in printed:
        print_setup(wb[title], L.PRINT_TITLE_ROWS.get(title))
    stamp_version(wb)
    rows_kept = sum(
        1
        for r in range(L.FIRST_DATA_ROW, ws.max_row + 1)
        if any(
            ws._cells.get((r, c)) is not None and ws._cells[(r, c)].value not in (None, "")
            for k, c in columns.items()
            if k in L.INPUT_KEYS
        )
    )
    save_atomically(wb, path, ui_rels)
    return UpgradeReport(
        path,
        from_version,
        L.TEMPLATE_VERSION,
        rows_kept,
        tuple(added),
        inserted,
        tuple(sheets_added),
        rules_added,
        tuple(printed),
    )


_TEMPLATE_SHEETS = frozenset(L.SHEETS)


def _unmerge_summary_rows(ws: Worksheet) -> None:
    """Unmerge ranges over the summary block and how-to line: their cells must take values.

    Only the first cell of a merged range holds a value, so unmerging changes no value.
    """
    last_col = len(L.SUMMARY_RESULTS) + 4
    for merged in list(ws.merged_cells.ranges):
        if merged.min_row < L.HEADER_ROW and merged.min_col <= last_col:
            ws.unmerge_cells(merged.coord)


def _refuse_user_text_in_summary_rows(path: Path, ws: Worksheet) -> None:
    """A list never stamped with a template, header already on row 4: rows 1–3 are the user's.

    The summary labels, and at the next Check the summary values, go there; text the user keeps
    there (a title, totals) would be overwritten, so it is refused like text above a lower header.
    """
    template_texts = {
        text
        for texts_by_lang in (L.SUMMARY_TITLE, L.SUMMARY_TOTAL, L.SUMMARY_STAGE, L.SUMMARY_AT, L.HOW_TO)
        for text in texts_by_lang.values()
    } | {r.value for r in L.SUMMARY_RESULTS}
    total_col = len(L.SUMMARY_RESULTS) + 2

    def written_by_a_run(row: int, col: int, value: object) -> bool:
        """Counts, total, stage and time that an earlier run put in the summary's value row."""
        if row != L.SUMMARY_VALUE_ROW or not 2 <= col <= total_col + 2:
            return False
        return col > total_col or isinstance(value, int | float)

    for row in ws.iter_rows(min_row=1, max_row=L.HEADER_ROW - 1):
        for cell in row:
            if written_by_a_run(cell.row, cell.column, cell.value):
                continue
            if cell.value not in (None, "") and cell.value not in template_texts:
                raise WorkbookError(
                    path,
                    f"{cell.coordinate} holds {str(cell.value)[:40]!r}, but rows 1-{L.HEADER_ROW - 1} are "
                    "where the summary goes; move that text elsewhere (or below the list) and run upgrade "
                    "again",
                    sheet=ws.title,
                )


def _clear_painted_results(ws: Worksheet, result_col: int) -> None:
    """Drop the colours earlier runs painted on Result cells (the rules colour them now).

    A painted fill would otherwise outlive its result: a cell emptied later would keep the old
    colour. Only cells painted with one of the layout's result fills are touched.
    """
    # Compared without the alpha byte: openpyxl writes 00, Excel and LibreOffice save FF.
    painted = {rgb.upper() for rgb in L.RESULT_FILLS.values()}
    plain_fill, plain_font = PatternFill(), Font()
    for (r, c), cell in ws._cells.items():
        if (
            c == result_col
            and r >= L.FIRST_DATA_ROW
            and cell.has_style
            and str(cell.fill.fgColor.rgb)[-6:].upper() in painted
        ):
            cell.fill = plain_fill
            cell.font = plain_font


def preflight_for_upgrade(path: Path) -> None:
    """Like :func:`preflight`, but a workbook without a Takedown sheet may still be upgraded."""
    try:
        preflight(path, for_write=True)
    except MissingSheetError:
        return


def _ensure_side_sheets(wb: Workbook, lang: str, existing: dict[str, object]) -> list[str]:
    added: list[str] = []

    def sheet(name: str) -> tuple[Worksheet, bool]:
        ws = find_sheet(wb, name)
        if ws is None:
            added.append(name)
            return wb.create_sheet(name), True
        return ws, False

    settings, _ = sheet(L.SHEET_SETTINGS)
    write_settings_sheet(settings, lang, existing)
    for name, columns in ((L.SHEET_LOG, L.LOG_COLUMNS), (L.SHEET_SNAPSHOTS, L.SNAPSHOT_COLUMNS)):
        ws, new = sheet(name)
        if new:
            write_table_headers(ws, columns, lang)
    codes, _ = sheet(L.SHEET_CODES)
    write_codes_sheet(codes, lang)
    conf, _ = sheet(L.SHEET_XLWINGS_CONF)
    write_xlwings_conf(conf, lang)
    return added
