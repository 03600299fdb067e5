"""Append rows to the Log and Snapshots sheets by splicing their XML, for the fast write path.

:func:`appended_parts` does for a workbook on the fast path what ``xlsx._append`` does on the
openpyxl path: each value goes under its header (matched in any language), a header the sheet
lacks is added in row 1 (plain text, after the last used column), and rows go below the last row
that holds a cell. The sheet is read once with openpyxl's worksheet parser (shared strings,
dates… read as a full load reads them) and its part rewritten with
:func:`~mltakedown.book.xlsx_splice.splice_sheet_parts`; every other part stays as it was.

What would make the two paths differ is refused (``SpliceUnsupported``), and the caller falls
back to openpyxl: a sheet that does not exist (it must be created, with its header styling),
merged cells, hyperlinks or comments (openpyxl creates cells for them, which moves the last row).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet._reader import WorkSheetParser

from mltakedown.book import layout as L
from mltakedown.book.errors import WorkbookError
from mltakedown.book.ports import CellValue
from mltakedown.book.xlsx_splice import (
    CellEdit,
    SpliceUnsupported,
    StyleBook,
    date_edit,
    safe_text,
    splice_sheet_parts,
)
from mltakedown.book.xlsx_stream import match_headers


@dataclass(frozen=True, slots=True)
class PendingAppend:
    """One ``append_log``/``write_snapshots`` call waiting for ``save`` (or an openpyxl replay)."""

    sheet: str
    """The sheet's name as the layout spells it (found case-insensitively)."""
    columns: tuple[L.Column, ...]
    rows: list[dict[str, CellValue]]


@dataclass(slots=True)
class _Table:
    """What appending needs to know of a sheet: its part, row 1, and the last used row and column."""

    member: str
    title: str
    header: dict[int, object] = field(default_factory=dict)
    max_row: int = 1
    max_column: int = 1


def appended_parts(
    path: Path, appends: Sequence[PendingAppend], styles: StyleBook, lang: str
) -> dict[str, bytes | list[bytes]]:
    """The new parts of the sheets ``appends`` add rows to (``styles`` gets their date formats)."""
    by_sheet: dict[str, list[PendingAppend]] = defaultdict(list)
    for append in appends:
        by_sheet[append.sheet.casefold()].append(append)
    tables = _read_tables(path, [group[0].sheet for group in by_sheet.values()])
    parts: dict[str, bytes | list[bytes]] = {}
    with zipfile.ZipFile(path) as archive:
        for key, group in by_sheet.items():
            table = tables[key]
            xml = archive.read(table.member)
            _refuse_cell_making_extras(archive, table.member, xml)
            edits = _edits(table, group, path, lang)
            parts[table.member] = splice_sheet_parts(xml, edits, styles)
    return parts


def _read_tables(path: Path, sheets: Sequence[str]) -> dict[str, _Table]:
    """Row 1 and the extent of each named sheet, parsed as openpyxl's full load parses it."""
    try:
        wb = load_workbook(path, read_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a damaged package
        raise SpliceUnsupported(f"the workbook cannot be streamed ({type(exc).__name__})") from exc
    tables: dict[str, _Table] = {}
    try:
        worksheets = {ws.title.casefold(): ws for ws in wb.worksheets}
        for name in sheets:
            ws = worksheets.get(name.casefold())
            if ws is None:
                raise SpliceUnsupported(f"there is no {name} worksheet: it must be created")
            table = _Table(ws._worksheet_path, ws.title)
            with ws._get_source() as source:  # openpyxl's private API, as in xlsx_stream
                parser = WorkSheetParser(
                    source,
                    ws._shared_strings,
                    data_only=False,
                    epoch=wb.epoch,
                    date_formats=wb._date_formats,
                    timedelta_formats=wb._timedelta_formats,
                )
                for number, cells in parser.parse():
                    _take(table, number, cells)
            tables[name.casefold()] = table
    finally:
        wb.close()
    return tables


def _take(table: _Table, number: int, cells: list[dict[str, Any]]) -> None:
    """Note one parsed row: openpyxl's ``max_row``/``max_column`` count every cell, even empty."""
    for cell in cells:
        table.max_row = max(table.max_row, number)
        table.max_column = max(table.max_column, cell["column"])
        if number == 1:
            table.header[cell["column"]] = cell["value"]


def _refuse_cell_making_extras(archive: zipfile.ZipFile, member: str, xml: bytes) -> None:
    """openpyxl's load makes cells for merged ranges, hyperlinks and comments: refuse those sheets."""
    if b"<mergeCell " in xml or b"<hyperlink " in xml:
        raise SpliceUnsupported(f"{member} has merged cells or hyperlinks")
    folder, name = posixpath.split(member)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels in archive.namelist() and b"relationships/comments" in archive.read(rels):
        raise SpliceUnsupported(f"{member} has comments")


def _edits(
    table: _Table, appends: Sequence[PendingAppend], path: Path, lang: str
) -> dict[int, dict[int, CellEdit]]:
    """The cells ``xlsx._append`` would write, call after call, as splice edits."""
    edits: dict[int, dict[int, CellEdit]] = defaultdict(dict)
    for append in appends:
        try:
            found = match_headers(table.header.items(), path, table.title, 1, append.sheet)
        except WorkbookError as exc:
            raise SpliceUnsupported(f"the {table.title} header cannot be read ({exc})") from exc
        next_col = max([*found.values(), table.max_column]) + 1 if found else 1
        for column in append.columns:
            if column.key in found:
                continue
            while table.header.get(next_col) not in (None, ""):
                next_col += 1
            header = safe_text(column.header(lang))
            edits[1][next_col] = CellEdit(header)
            table.header[next_col] = header
            table.max_column = max(table.max_column, next_col)
            found[column.key] = next_col
            next_col += 1
        for values in append.rows:
            table.max_row += 1
            row = edits[table.max_row]
            for column in append.columns:
                row[found[column.key]] = _cell_edit(values.get(column.key))
    return edits


def _cell_edit(value: CellValue) -> CellEdit:
    """The edit that writes ``value`` as ``set_value`` does on the openpyxl path."""
    if isinstance(value, dt.date):
        return date_edit(value)
    if isinstance(value, str):
        return CellEdit(safe_text(value))
    return CellEdit(value)
