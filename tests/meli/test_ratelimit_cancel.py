"""Cancelled waiters give their start slots back to the shared limiter.

A ``TaskGroup`` that cancels the siblings of a failed multiget, or a stopped run, must not leave
the application's limiter booked for seconds ahead with slots nobody will use.
"""

from __future__ import annotations

import asyncio

import pytest

from mltakedown.meli import RateLimiter

from .conftest import FakeClock


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_cancelled_waiters_do_not_delay_the_next_caller() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    await limiter.acquire()  # the slot at t0 is used
    start = clock.now
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(100)]
    await _settle()  # every waiter has booked a slot: 0.2 s … 20 s ahead
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert all(task.cancelled() for task in waiters)

    await limiter.acquire()
    assert clock.now - start == pytest.approx(0.2), "the next caller queued behind 100 dead slots"
    assert limiter.acquired == 2


async def test_given_back_slots_keep_the_spacing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    start = clock.now
    keep = [asyncio.create_task(limiter.acquire()) for _ in range(3)]  # 0.2, 0.4, 0.6
    doomed = [asyncio.create_task(limiter.acquire()) for _ in range(3)]  # 0.8, 1.0, 1.2
    await _settle()
    doomed[1].cancel()  # frees 1.0
    await _settle()
    times: list[float] = []

    async def timed() -> None:
        await limiter.acquire()
        times.append(clock.now - start)

    late = [asyncio.create_task(timed()) for _ in range(2)]  # 1.0 (given back), then 1.4
    await asyncio.gather(*keep, doomed[0], doomed[2], *late)
    assert [round(t, 3) for t in sorted(times)] == [1.0, 1.4]


async def test_slots_before_a_pause_are_not_given_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    start = clock.now
    doomed = [asyncio.create_task(limiter.acquire()) for _ in range(5)]
    await _settle()
    limiter.pause_for(3.0)  # a 429: nobody before start + 3
    for task in doomed:
        task.cancel()
    await asyncio.gather(*doomed, return_exceptions=True)
    await limiter.acquire()
    assert clock.now - start >= 3.0
