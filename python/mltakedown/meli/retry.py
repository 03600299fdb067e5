"""Retry policy: which failures are retried, and how long to wait before the next attempt.

Pure functions plus a small frozen :class:`RetryPolicy`; the constants are in
:mod:`mltakedown.meli.constants`. Randomness is isolated in :func:`add_jitter` so tests can
replace it with the identity.

Policy (ml-api.md §0.11, §7):

* 429, 409 and 5xx are retried with exponential backoff and jitter, honouring ``Retry-After``
  (seconds or an HTTP date), capped at ``MAX_RETRY_AFTER``.
* Except for a non-idempotent request (a POST such as relist): there a 500, 502 or 504 may come
  from a gateway that gave up while the backend went on and applied the request (the sandbox's
  "ghost writes" emulate this), so retrying could create a second listing. Only 409, 429 and 503
  (refused before any work) are retried for those; the rest is raised for the engine to reconcile.
* Other 4xx are never retried: repeating a refused write cannot change the answer.
* Transport failures where the request never left (connect errors, pool timeouts) are always
  retried. Failures after the request was sent (dropped connection, read timeout) are retried
  only for idempotent requests: GETs and PUTs that *set* a state (status, stock). A POST such
  as relist raises instead, and the engine reconciles by reading the item back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from mltakedown.meli.constants import (
    CONFLICT_INITIAL_DELAY,
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
)
from mltakedown.meli.errors import APIConnectionError

__all__ = [
    "RetryPolicy",
    "add_jitter",
    "may_have_been_applied",
    "parse_retry_after",
    "should_retry_status",
    "should_retry_transport",
]

RETRY_STATUSES = frozenset({409, 429})

UNPROCESSED_SERVER_STATUSES = frozenset({503})
"""5xx answers that mean the request was refused before any work was done."""


def should_retry_status(status_code: int, *, idempotent: bool = True) -> bool:
    """True for the statuses worth another attempt: 409, 429 and every 5xx.

    For a non-idempotent request only the answers that prove nothing happened qualify: 409,
    429 and 503. A 500/502/504 may have been applied behind the gateway.
    """
    if status_code in RETRY_STATUSES:
        return True
    if status_code >= 500:
        return idempotent or status_code in UNPROCESSED_SERVER_STATUSES
    return False


def may_have_been_applied(status_code: int) -> bool:
    """True for error statuses after which a write's effect is unknown (5xx other than 503)."""
    return status_code >= 500 and status_code not in UNPROCESSED_SERVER_STATUSES


def should_retry_transport(error: APIConnectionError, *, idempotent: bool) -> bool:
    """True when a transport failure may be retried without risking a double write."""
    if error.code in _PERMANENT_TRANSPORT_CODES:
        return False
    return idempotent or not error.request_sent


# Local mistakes (bad URL, unsupported scheme, stream misuse) fail the same way every time.
_PERMANENT_TRANSPORT_CODES = frozenset({"invalid_request", "too_many_redirects", "decoding_error"})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def add_jitter(delay: float) -> float:
    """Spread retries out: a random delay between 75% and 100% of ``delay``."""
    return delay * (1.0 - 0.25 * random.random())


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how patiently one call is retried."""

    max_retries: int = DEFAULT_MAX_RETRIES
    """Retries after the first attempt."""
    initial_delay: float = INITIAL_RETRY_DELAY
    """First backoff in seconds (doubled per attempt)."""
    conflict_initial_delay: float = CONFLICT_INITIAL_DELAY
    """First backoff after a 409."""
    max_delay: float = MAX_RETRY_DELAY
    """Cap of the exponential backoff."""
    max_retry_after: float = MAX_RETRY_AFTER
    """Cap of a server-sent ``Retry-After``."""

    def backoff(self, retry_number: int, *, status_code: int | None = None) -> float:
        """Exponential backoff with jitter before retry ``retry_number`` (1-based)."""
        base = self.conflict_initial_delay if status_code == 409 else self.initial_delay
        delay = min(self.max_delay, base * (2 ** max(0, retry_number - 1)))
        return add_jitter(delay)

    def delay(self, retry_number: int, *, status_code: int | None, retry_after: float | None) -> float:
        """The wait before retry ``retry_number``: ``Retry-After`` (capped) when sent, else backoff."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff(retry_number, status_code=status_code)
