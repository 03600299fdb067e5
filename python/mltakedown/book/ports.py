"""The interface between the engine and a workbook, whatever holds it.

The engine reads :class:`InputRow` objects and writes :class:`Outcome` objects through a
:class:`WorkbookPort`. Two adapters implement it: :mod:`mltakedown.book.xlsx` (openpyxl, files on
disk, the headless path) and :mod:`mltakedown.book.live` (xlwings, the workbook open in Excel).
The engine never knows which one it talks to.

Cells are addressed by *column key* (``identifier``, ``status_before``…), never by letter: the
layout (:mod:`mltakedown.book.layout`) maps keys to header texts, and the adapters find the
columns by header text, in any order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

CellValue = str | int | float | bool | dt.datetime | dt.date | None
"""A value as it sits in a cell (openpyxl and xlwings both give these types)."""


def cell_text(value: object) -> str:
    """A cell's value as stripped text: ``""`` for an empty cell, whole floats without ``.0``
    (Excel stores every number as a float, so an item ID typed as a number reads ``1234.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class Result(StrEnum):
    """The verdict shown in a row's Result column."""

    OK = "OK"
    SKIPPED = "SKIPPED"
    WARNING = "WARNING"
    BLOCKED = "BLOCKED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class InputRow:
    """One data row of the Takedown sheet, as typed by the user.

    ``values`` holds the raw cell values of the input columns by key (absent columns are
    missing from the mapping). ``formulas`` names the input keys whose cell holds a formula
    (the value is then the formula text, e.g. ``"=A1"``), so Check can refuse it.
    ``outputs`` holds what the tool wrote on this row last time (status after, new item ID…),
    which Restore and re-runs read back.
    """

    row_number: int
    values: dict[str, CellValue]
    formulas: frozenset[str] = frozenset()
    outputs: dict[str, CellValue] = field(default_factory=dict)

    def text(self, key: str) -> str:
        """The cell as stripped text (``""`` when empty); numbers are rendered without ``.0``."""
        return cell_text(self.values.get(key))


@dataclass(slots=True)
class Outcome:
    """What the tool writes back on one row.

    ``values`` maps output column keys to values (only the keys given are written; an output
    column not named is cleared when ``clear_others`` is true). Result, code, message and
    remedy have their own fields because every stage sets them.
    """

    row_number: int
    result: Result | None = None
    code: str = ""
    message: str = ""
    remedy: str = ""
    values: dict[str, CellValue] = field(default_factory=dict)
    clear_others: bool = False


@dataclass(frozen=True, slots=True)
class BookSettings:
    """The Settings sheet, parsed. Unknown keys are kept in ``extra``."""

    account_alias: str = ""
    seller_id: int | None = None
    default_site: str = ""
    language: str = "en"
    pause_ads_with_listing: bool = True
    template_version: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One API call, for the Log sheet."""

    at: dt.datetime
    method: str
    path: str
    status: int | None
    request_id: str
    duration_ms: float
    row_number: int | None = None
    run_id: str = ""
    note: str = ""

    def cells(self) -> dict[str, CellValue]:
        """The Log sheet's cells of this call, by column key (every adapter writes these)."""
        return {
            "at_utc": self.at,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "request_id": self.request_id,
            "duration_ms": round(self.duration_ms, 1),
            "row": self.row_number,
            "run_id": self.run_id,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """The state of an item before the tool first wrote to it, for the Snapshots sheet."""

    run_id: str
    taken_at: dt.datetime
    item_id: str
    variation_id: int | None
    site: str
    status: str
    sub_status: str
    available_quantity: int | None
    price: float | None
    title: str
    sha256: str
    file: str
    raw_json: str

    def cells(self) -> dict[str, CellValue]:
        """The Snapshots sheet's cells of this snapshot, by column key (every adapter writes these).

        The variation ID goes in as text: Excel would round an 18-digit number.
        """
        return {
            "run_id": self.run_id,
            "taken_at": self.taken_at,
            "item_id": self.item_id,
            "variation_id": None if self.variation_id is None else str(self.variation_id),
            "site": self.site,
            "status": self.status,
            "sub_status": self.sub_status,
            "available_quantity": self.available_quantity,
            "price": self.price,
            "title": self.title,
            "sha256": self.sha256,
            "file": self.file,
            "raw_json": self.raw_json,
        }


@dataclass(frozen=True, slots=True)
class SummaryCounts:
    """Counts per result, for the summary block above the table."""

    counts: dict[Result, int]
    stage: str
    at: dt.datetime


@runtime_checkable
class WorkbookPort(Protocol):
    """What the engine needs from a workbook. Implemented by the openpyxl and xlwings adapters."""

    @property
    def path(self) -> Path:
        """Where the workbook lives (the journal and snapshots go beside it)."""
        ...

    @property
    def language(self) -> str:
        """The workbook's message language (zh, es, pt or en)."""
        ...

    def read_rows(self) -> list[InputRow]:
        """All data rows of the Takedown sheet, in sheet order, blank rows excluded."""
        ...

    def read_settings(self) -> BookSettings:
        """The Settings sheet."""
        ...

    def write_outcomes(self, outcomes: Sequence[Outcome], *, stage: str) -> None:
        """Write result, code, message, remedy and output values on the given rows, with colours,
        and refresh the summary block. Input cells are never touched."""
        ...

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        """Append API calls to the Log sheet."""
        ...

    def write_snapshots(self, snapshots: Sequence[SnapshotRow]) -> None:
        """Append snapshots to the Snapshots sheet."""
        ...

    def save(self) -> None:
        """Make the changes durable (an atomic file replace, or nothing for live Excel)."""
        ...
