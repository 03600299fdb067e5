"""Client-side rate limiter shared by every call of one application.

ML limits requests mainly per application (client_id), about 5/s. A :class:`RateLimiter`
hands out start times spaced ``1/rate`` apart (a GCRA / virtual-scheduling bucket with a
configurable burst), so any number of concurrent coroutines, across several ``MeliClient``
instances that share the limiter, stay at the limit instead of provoking 429 storms.

When the server still answers 429, :meth:`RateLimiter.pause_for` blocks *every* caller until
the pause ends (a global back-off), and calls that had already been given a start time inside
the pause re-queue behind it.

Reservation and bookkeeping are synchronous (no ``await`` between reading and updating the
state), so the limiter needs no asyncio lock and is not tied to one event loop.

A caller cancelled while it waits for its slot (a ``TaskGroup`` cancelling the siblings of a
failed multiget, a run stopped by the user) gives the slot back: the next caller takes the
earliest such unused slot instead of queueing behind it, so a hundred cancelled waiters do not
leave a twenty-second hole in which nobody may call. Reusing a slot keeps the spacing exact.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import threading
import time
from collections.abc import Awaitable, Callable

from mltakedown.meli.constants import DEFAULT_RATE

__all__ = ["RateLimiter", "shared_limiter"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Spaces request starts ``1/rate`` seconds apart, allowing ``burst`` back-to-back starts.

    ``clock`` and ``sleep`` are injectable so tests can run on a fake clock.
    ``rate=math.inf`` disables spacing (pauses from 429s still apply).
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self._clock = clock
        self._sleep = sleep
        self._burst = burst
        self._rate = rate
        self._interval = 0.0 if math.isinf(rate) else 1.0 / rate
        self._tat = clock()  # theoretical arrival time of the next request
        self._paused_until = 0.0
        self._pause_epoch = 0
        self._unused: list[float] = []  # heap of future start slots given back by cancelled waiters
        self.acquired = 0
        """How many start slots were handed out (for benchmarks and tests)."""

    @property
    def rate(self) -> float:
        """Configured requests per second."""
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Change the rate; slots already handed out are kept."""
        if not rate > 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        self._rate = rate
        self._interval = 0.0 if math.isinf(rate) else 1.0 / rate

    def _reserve(self) -> tuple[float, float]:
        """Claim the next start slot; return (its start, how long to wait for it)."""
        now = self._clock()
        while self._unused:
            start = heapq.heappop(self._unused)
            if start >= now:  # a slot given back and still ahead: take it over as it is
                return start, start - now
        # GCRA: a request may start once ``tat - (burst - 1) * interval`` has passed.
        tat = max(self._tat, now)
        start = max(now, tat - (self._burst - 1) * self._interval, self._paused_until)
        self._tat = max(tat, start) + self._interval
        return start, start - now

    def _give_back(self, start: float, epoch: int) -> None:
        """A cancelled waiter's slot becomes free for the next caller (unless a pause voided it)."""
        if epoch == self._pause_epoch and start > self._clock():
            heapq.heappush(self._unused, start)

    async def acquire(self) -> None:
        """Wait until this caller may send one request."""
        while True:
            epoch = self._pause_epoch
            start, delay = self._reserve()
            if delay > 0:
                try:
                    await self._sleep(delay)
                except asyncio.CancelledError:
                    self._give_back(start, epoch)
                    raise
            # A 429 seen by another caller while we slept moves everybody behind the pause.
            if epoch == self._pause_epoch or self._clock() >= self._paused_until:
                self.acquired += 1
                return

    def pause_for(self, seconds: float) -> None:
        """Stop all callers for ``seconds`` from now (the server said 429)."""
        if seconds <= 0:
            return
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._pause_epoch += 1
            self._unused.clear()  # slots before the end of the pause are void
            # Restart the schedule at the end of the pause so callers resume at the steady rate.
            self._tat = max(self._tat, until)

    @property
    def paused_until(self) -> float:
        """Clock value until which callers are held back (0 when never paused)."""
        return self._paused_until


_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def shared_limiter(app_key: str | None, rate: float = DEFAULT_RATE) -> RateLimiter:
    """Return the process-wide limiter of one application (keyed by client_id).

    Every ``MeliClient`` of the same application gets the same object, because ML counts
    requests per application, not per connection. A different ``rate`` updates the limiter.
    """
    key = app_key or "default"
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(rate)
        elif limiter.rate != rate:
            limiter.set_rate(rate)
        return limiter
