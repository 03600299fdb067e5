"""Reading back what a saved workbook says about a run: Takedown outputs, Snapshots, Settings.

``verify-record`` and ``mltakedown report FILE`` work on a saved file, so they read it with
openpyxl (read-only, values only). Columns are found by header text in any language through
:func:`mltakedown.book.layout.header_keys`, like every other reader of the workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from mltakedown.book.layout import (
    HEADER_SEARCH_ROWS,
    SHEET_SETTINGS,
    SHEET_SNAPSHOTS,
    SHEET_TAKEDOWN,
    header_keys,
    normalise_header,
)
from mltakedown.book.ports import cell_text
from mltakedown.report.sheet import JOURNAL_HEAD_CELL, JOURNAL_LINES_CELL, REPORT_SHEET, RUN_ID_CELL


class WorkbookReadError(RuntimeError):
    """The file is not a takedown workbook (no Takedown sheet or no header row)."""


@dataclass(slots=True)
class SheetRow:
    """One data row: its sheet row number and its values by column key."""

    row: int
    values: dict[str, Any]

    def text(self, key: str) -> str:
        """The cell as stripped text (``""`` when empty; whole floats without ``.0``)."""
        return cell_text(self.values.get(key))


@dataclass(slots=True)
class WorkbookRecord:
    """What the workbook holds about its runs."""

    path: Path
    rows: list[SheetRow] = field(default_factory=list)
    snapshots: list[SheetRow] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    report_run_id: str = ""
    """The run ID the Report sheet describes ("" when the workbook has no Report sheet)."""
    report_journal_head: str = ""
    """The journal's last line digest when the Report sheet was written."""
    report_journal_lines: int = 0


def _table(ws: Any, sheet: str) -> list[SheetRow]:
    mapping = header_keys(sheet)
    rows = ws.iter_rows(values_only=True)
    columns: dict[int, str] = {}
    header_at = 0
    for number, cells in enumerate(rows, start=1):
        found = {
            i: mapping[normalise_header(c)] for i, c in enumerate(cells) if normalise_header(c) in mapping
        }
        if len(found) >= 2:
            columns, header_at = found, number
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if not columns:
        return []
    table = []
    for number, cells in enumerate(rows, start=header_at + 1):
        values = {key: cells[i] for i, key in columns.items() if i < len(cells)}
        if any(v not in (None, "") for v in values.values()):
            table.append(SheetRow(number, values))
    return table


def read_workbook_record(path: Path) -> WorkbookRecord:
    """Read the Takedown rows, the Snapshots sheet, the Settings and the Report sheet's run ID."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file it cannot read
        raise WorkbookReadError(f"{path.name} cannot be read as a workbook: {exc}") from exc
    try:
        if SHEET_TAKEDOWN not in workbook.sheetnames:
            raise WorkbookReadError(f"{path.name} has no {SHEET_TAKEDOWN!r} sheet")
        record = WorkbookRecord(path)
        record.rows = _table(workbook[SHEET_TAKEDOWN], SHEET_TAKEDOWN)
        if SHEET_SNAPSHOTS in workbook.sheetnames:
            record.snapshots = _table(workbook[SHEET_SNAPSHOTS], SHEET_SNAPSHOTS)
        if SHEET_SETTINGS in workbook.sheetnames:
            for cells in workbook[SHEET_SETTINGS].iter_rows(min_col=1, max_col=2, values_only=True):
                if cells and cells[0] is not None:
                    record.settings[str(cells[0]).strip().upper()] = (
                        "" if cells[1] is None else str(cells[1]).strip()
                    )
        if REPORT_SHEET in workbook.sheetnames:
            ws = workbook[REPORT_SHEET]
            record.report_run_id = str(ws[RUN_ID_CELL].value or "").strip()
            record.report_journal_head = str(ws[JOURNAL_HEAD_CELL].value or "").strip()
            lines = ws[JOURNAL_LINES_CELL].value
            record.report_journal_lines = int(lines) if isinstance(lines, int | float) else 0
        return record
    finally:
        workbook.close()
