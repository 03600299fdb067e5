"""A controllable clock: real time plus an offset that tests can advance."""

from __future__ import annotations

import time
from datetime import UTC, datetime

DAY = 86400.0


class Clock:
    """Wall-clock seconds (epoch) that move with real time and can be pushed forward.

    Token expiry, scroll expiry, the relist window and the 409 window all read this clock, so a
    test can expire a token with ``clock.advance(21601)`` instead of sleeping.
    """

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        """Current emulated time, in epoch seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the emulated time forward."""
        self._offset += seconds


def iso(ts: float) -> str:
    """Mercado Libre's timestamp format, e.g. ``2026-05-03T14:12:55.000Z``."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
