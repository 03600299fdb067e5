"""A workbook held in memory: the :class:`~mltakedown.book.ports.WorkbookPort` without a file.

For running the stages where the file is beside the point: benchmarks that measure the API side,
tests that read as "rows in, outcomes out", scripts that build rows themselves. The journal, the
plan and the snapshots still go to the folder beside :attr:`MemoryWorkbook.path` (the engine keeps
them there), so that folder must exist; the workbook file itself is never created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mltakedown.book.ports import BookSettings, InputRow, LogEntry, Outcome, SnapshotRow


@dataclass
class MemoryWorkbook:
    """Rows in; outcomes (the last per row), Log entries, snapshot rows and saves kept in lists."""

    path: Path
    """Where the workbook would be; the engine's state folder is made beside it."""
    rows: list[InputRow]
    settings: BookSettings = field(default_factory=BookSettings)
    language: str = "en"
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    """The last outcome written to each row, in the order rows were first written."""
    stages: list[str] = field(default_factory=list)
    """The stage of every :meth:`write_outcomes` call, in order."""
    log: list[LogEntry] = field(default_factory=list)
    snapshots: list[SnapshotRow] = field(default_factory=list)
    saves: int = 0

    def read_rows(self) -> list[InputRow]:
        """A copy of the row list (the rows themselves are shared)."""
        return list(self.rows)

    def read_settings(self) -> BookSettings:
        """The settings given."""
        return self.settings

    def write_outcomes(self, outcomes: Sequence[Outcome], *, stage: str) -> None:
        """Keep each row's outcome (a later stage's replaces an earlier one's)."""
        self.stages.append(stage)
        for outcome in outcomes:
            self.outcomes[outcome.row_number] = outcome

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        """Keep the Log-sheet entries."""
        self.log.extend(entries)

    def write_snapshots(self, snapshots: Sequence[SnapshotRow]) -> None:
        """Keep the Snapshots-sheet rows."""
        self.snapshots.extend(snapshots)

    def save(self) -> None:
        """Count the save (nothing to write)."""
        self.saves += 1
