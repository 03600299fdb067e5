"""The per-attempt call record handed to the ``on_call`` hook (Log sheet, journal, benchmarks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["CallRecord", "OnCall"]


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt, successful or not. Never contains a token."""

    at: datetime
    """When the attempt started (UTC)."""
    method: str
    """HTTP method."""
    path: str
    """URL path without the query string."""
    status: int | None
    """HTTP status, or None when no answer came (transport failure)."""
    request_id: str | None
    """The response's ``x-request-id``."""
    duration_ms: float
    """Time from sending to the full answer (or the failure)."""
    attempt: int
    """1 for the first attempt of a call, 2 for its first retry, ..."""
    error: str | None
    """The API's error code, or our transport code (``connect_error``, ``read_timeout``, ...)."""
    query: str = ""
    """The query string (ids, filters); useful in the Log sheet."""


OnCall = Callable[[CallRecord], None]
"""Signature of the hook; it runs synchronously, so keep it quick."""
