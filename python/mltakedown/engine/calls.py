"""The call log: every API attempt as a Log-sheet entry, tagged with the row it was made for.

Pass one :class:`CallLog` to the client as ``on_call`` and to the stage as ``calls``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar

from mltakedown.book.ports import LogEntry
from mltakedown.meli.calls import CallRecord

_scope: ContextVar[tuple[int | None, str]] = ContextVar("mltakedown_call_scope", default=(None, ""))


class CallLog:
    """The ``on_call`` hook of the client: every attempt becomes a Log-sheet entry.

    Calls made inside :meth:`scope` are tagged with the row number and a note (the write id and
    operation); the tag travels with the asyncio task, so concurrent rows do not mix.
    """

    def __init__(self, run_id: str = "") -> None:
        self.run_id = run_id
        self.entries: list[LogEntry] = []
        self.requests = 0
        self.first_at: dt.datetime | None = None
        self.last_at: dt.datetime | None = None
        self._request_ids: dict[str, str] = {}
        self._drained = 0

    def __call__(self, record: CallRecord) -> None:
        row, note = _scope.get()
        self.requests += 1
        self.first_at = record.at if self.first_at is None else min(self.first_at, record.at)
        self.last_at = record.at if self.last_at is None else max(self.last_at, record.at)
        if note and record.request_id:
            self._request_ids[note] = record.request_id
        text = note
        if record.error:
            text = f"{note} {record.error}".strip()
        if record.attempt > 1:
            text = f"{text} (attempt {record.attempt})".strip()
        self.entries.append(
            LogEntry(
                at=record.at,
                method=record.method,
                path=record.path + (f"?{record.query}" if record.query else ""),
                status=record.status,
                request_id=record.request_id or "",
                duration_ms=record.duration_ms,
                row_number=row,
                run_id=self.run_id,
                note=text,
            )
        )

    @contextlib.contextmanager
    def scope(self, row_number: int | None, note: str) -> Iterator[None]:
        """Tag the calls made inside the block with ``row_number`` and ``note``."""
        token = _scope.set((row_number, note))
        try:
            yield
        finally:
            _scope.reset(token)

    def request_id(self, note: str) -> str | None:
        """The request ID of the last answered call made under ``note``."""
        return self._request_ids.get(note)

    def drain(self) -> list[LogEntry]:
        """Entries not handed out yet (for appending to the Log sheet in pieces)."""
        fresh = self.entries[self._drained :]
        self._drained = len(self.entries)
        return fresh
