"""Errors about a workbook file as a whole: they name the file, and the sheet, row and column if known.

Per-row problems are never exceptions (they are codes on the row); these are for the cases where
the file cannot be used at all: not a workbook, encrypted, open in Excel, no Takedown sheet, an
old template, too many rows. The CLI maps every :class:`WorkbookError` to exit status 2.
"""

from __future__ import annotations

from pathlib import Path


class WorkbookError(Exception):
    """A workbook cannot be read or written. ``str()`` gives ``file, sheet, row, column: what``."""

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.problem = problem
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = [self.path.name]
        if self.sheet is not None:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.problem}"


class WorkbookLockedError(WorkbookError):
    """Excel (or another program) has the workbook open: an ``~$name`` lock file sits beside it."""


class NotAWorkbookError(WorkbookError):
    """The file is not an Excel ``.xlsx``/``.xlsm`` workbook (or its zip container is damaged)."""


class EncryptedWorkbookError(WorkbookError):
    """The workbook is password-protected (an encrypted OLE package), so it cannot be read."""


class MissingSheetError(WorkbookError):
    """A sheet the tool needs (``Takedown``) is not in the workbook."""


class MissingColumnError(WorkbookError):
    """A required input column header is not on the Takedown sheet's header row."""


class TemplateVersionError(WorkbookError):
    """The workbook was made from an older, unknown or newer template than this tool's."""


class TooManyRowsError(WorkbookError):
    """The Takedown sheet holds more rows than the tool accepts."""
