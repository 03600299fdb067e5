"""The shared limiter on a fake clock: spacing, burst, global pause, sharing across clients."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest

from mltakedown.meli import ClientConfig, MeliClient, RateLimiter, shared_limiter

from .conftest import FakeClock, json_response


async def _acquire_times(limiter: RateLimiter, clock: FakeClock, n: int) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(clock.now)

    await asyncio.gather(*(one() for _ in range(n)))
    return sorted(times)


async def test_spacing_holds_concurrent_callers_to_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    start = clock.now
    times = await _acquire_times(limiter, clock, 50)
    assert times[0] == start
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g == pytest.approx(0.2) for g in gaps)
    # 50 starts in 9.8 s: exactly 5/s sustained.
    assert times[-1] - start == pytest.approx(9.8)
    assert limiter.acquired == 50


async def test_burst_allows_back_to_back_starts_then_spaces() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, burst=3, clock=clock, sleep=clock.sleep)
    start = clock.now
    times = await _acquire_times(limiter, clock, 6)
    assert [round(t - start, 3) for t in times] == [0.0, 0.0, 0.0, 0.1, 0.2, 0.3]


async def test_idle_time_does_not_bank_more_than_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    clock.now += 100
    start = clock.now
    times = await _acquire_times(limiter, clock, 3)
    assert [round(t - start, 3) for t in times] == [0.0, 0.5, 1.0]


async def test_pause_holds_everyone_including_already_scheduled() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    start = clock.now
    await limiter.acquire()  # slot at start; next free slot at start+1
    waiting = asyncio.ensure_future(limiter.acquire())  # sleeps until start+1
    await asyncio.sleep(0)
    limiter.pause_for(10)  # a 429 arrives meanwhile
    await waiting
    assert clock.now >= start + 10
    after = clock.now
    await limiter.acquire()
    assert clock.now == pytest.approx(after + 1)


async def test_infinite_rate_never_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(math.inf, clock=clock, sleep=clock.sleep)
    await _acquire_times(limiter, clock, 100)
    assert clock.sleeps == []


def test_invalid_rates_are_rejected() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(5, burst=0)


def test_shared_limiter_is_one_object_per_application() -> None:
    a = shared_limiter("app-shared-test", 5.0)
    assert shared_limiter("app-shared-test", 5.0) is a
    assert shared_limiter("other-app-test", 5.0) is not a
    assert shared_limiter("app-shared-test", 7.0) is a and a.rate == 7.0


async def test_clients_of_one_application_share_the_limiter() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response({"id": 1})

    config = ClientConfig(api_url="https://api.test", client_id="app-clients-share", rate=1000.0)
    transport = httpx.MockTransport(handler)
    async with (
        MeliClient(config, tokens="T", transport=transport) as one,
        MeliClient(config, tokens="T", transport=transport) as two,
    ):
        assert one.limiter is two.limiter
        before = one.limiter.acquired
        await asyncio.gather(*(c.me() for c in (one, two, one, two)))
        assert one.limiter.acquired - before == 4


async def test_client_calls_pass_through_the_limiter_at_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5.0, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(clock.now)
        return json_response({"id": 1})

    start = clock.now
    async with MeliClient(
        ClientConfig(api_url="https://api.test"),
        tokens="T",
        transport=httpx.MockTransport(handler),
        rate=limiter,
    ) as api:
        await asyncio.gather(*(api.me() for _ in range(20)))
    assert len(stamps) == 20
    assert max(stamps) - start == pytest.approx(19 * 0.2)
