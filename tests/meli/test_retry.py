"""Retry policy: 429/5xx/409 retried with backoff and Retry-After, other 4xx never; transport
failures retried only when that cannot duplicate a write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from mltakedown.meli import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    ServerError,
)
from mltakedown.meli.retry import add_jitter, parse_retry_after, should_retry_status

from .conftest import Harness, json_response

ITEM = {"id": "MLM1", "status": "active"}

SyncHandler = Callable[[httpx.Request], httpx.Response]


def flaky(failures: list[httpx.Response]) -> tuple[list[httpx.Request], SyncHandler]:
    """A handler that answers the given failures first, then the item."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(failures):
            return failures[len(seen) - 1]
        return json_response(ITEM, request_id=f"ok-{len(seen)}")

    return seen, handler


@pytest.mark.parametrize("status", [409, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(harness: Harness, status: int) -> None:
    seen, handler = flaky([json_response({"error": "x", "status": status}, status, request_id="bad")])
    async with harness.client(handler) as api:
        item = await api.get_item("MLM1")
    assert item.id == "MLM1"
    assert len(seen) == 2
    assert [c.attempt for c in harness.calls] == [1, 2]
    assert [c.status for c in harness.calls] == [status, 200]
    assert harness.calls[0].error == "x"
    assert harness.calls[0].request_id == "bad"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_4xx_are_not_retried(harness: Harness, status: int) -> None:
    seen, handler = flaky([json_response({"error": "nope", "status": status}, status)] * 5)
    async with harness.client(handler) as api:
        with pytest.raises(Exception) as caught:
            await api.set_item_status("MLM1", "paused")
    assert len(seen) == 1
    assert getattr(caught.value, "status_code", None) == status
    if status in (400, 403, 404):
        assert isinstance(caught.value, BadRequestError | PermissionDeniedError | NotFoundError)


async def test_backoff_is_exponential_and_capped(harness: Harness) -> None:
    seen, handler = flaky([json_response({"error": "boom"}, 500)] * 10)
    policy = RetryPolicy(max_retries=5, initial_delay=1.0, max_delay=5.0)
    async with harness.client(handler, retry=policy) as api:
        with pytest.raises(ServerError):
            await api.me()
    assert len(seen) == 6
    assert harness.backoff_sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert [c.attempt for c in harness.calls] == [1, 2, 3, 4, 5, 6]


async def test_conflict_uses_longer_initial_delay(harness: Harness) -> None:
    seen, handler = flaky([json_response({"error": "conflict"}, 409)] * 2)
    async with harness.client(handler, retry=RetryPolicy(conflict_initial_delay=2.0)) as api:
        await api.set_item_status("MLM1", "closed")
    assert harness.backoff_sleeps == [2.0, 4.0]


async def test_429_retry_after_pauses_the_shared_limiter(harness: Harness) -> None:
    seen, handler = flaky([json_response({"error": "too_many_requests"}, 429, headers={"retry-after": "3"})])
    start = harness.clock.now
    async with harness.client(handler) as api:
        await api.get_item("MLM1")
    assert len(seen) == 2
    # The pause was global (limiter) rather than a private sleep of this call.
    assert harness.backoff_sleeps == []
    assert harness.limiter.paused_until == pytest.approx(start + 3)
    assert harness.clock.now == pytest.approx(start + 3)


async def test_429_pause_holds_back_other_callers(harness: Harness) -> None:
    import asyncio

    seen_paths: list[tuple[str, float]] = []
    first = True

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal first
        seen_paths.append((request.url.path, harness.clock.now))
        if first:
            first = False
            return json_response({"error": "local_rate_limited"}, 429, headers={"retry-after": "5"})
        return json_response({**ITEM, "id": request.url.path.rsplit("/", 1)[-1]})

    start = harness.clock.now
    async with harness.client(handler) as api:
        await api.get_item("MLM1")
        await asyncio.gather(api.get_item("MLM2"), api.get_item("MLM3"))
    later = [t for path, t in seen_paths if path != "/items/MLM1"]
    assert later and all(t >= start + 5 for t in later)


async def test_retry_after_is_capped(harness: Harness) -> None:
    seen, handler = flaky([json_response({"error": "x"}, 503, headers={"retry-after": "3600"})])
    async with harness.client(handler, retry=RetryPolicy(max_retry_after=7.0)) as api:
        await api.get_item("MLM1")
    assert harness.backoff_sleeps == [7.0]


def test_parse_retry_after_variants() -> None:
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-4") == 0.0


def test_should_retry_status_table() -> None:
    assert [s for s in (200, 400, 401, 403, 404, 408, 409, 429, 500, 503, 599) if should_retry_status(s)] == [
        409,
        429,
        500,
        503,
        599,
    ]


def test_jitter_stays_within_bounds() -> None:
    values = [add_jitter(4.0) for _ in range(200)]
    assert all(3.0 <= v <= 4.0 for v in values)


def raising(exc_factory: type[Exception], times: int) -> tuple[list[httpx.Request], SyncHandler]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= times:
            raise exc_factory("simulated", request=request)  # type: ignore[call-arg]
        return json_response(ITEM)

    return seen, handler


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError, httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError]
)
async def test_transport_errors_retried_for_gets(harness: Harness, exc: type[Exception]) -> None:
    seen, handler = raising(exc, 2)
    async with harness.client(handler) as api:
        await api.get_item("MLM1")
    assert len(seen) == 3
    assert harness.calls[0].status is None
    assert harness.calls[0].error
    assert [c.attempt for c in harness.calls] == [1, 2, 3]


@pytest.mark.parametrize("exc", [httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_idempotent_puts_retry_after_dropped_connection(harness: Harness, exc: type[Exception]) -> None:
    seen, handler = raising(exc, 1)
    async with harness.client(handler) as api:
        await api.set_item_status("MLM1", "paused")
        await api.set_item_stock("MLM1", 0)
    assert len(seen) == 3


@pytest.mark.parametrize("exc", [httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_relist_is_not_retried_when_ambiguous(harness: Harness, exc: type[Exception]) -> None:
    seen, handler = raising(exc, 1)
    async with harness.client(handler) as api:
        with pytest.raises(APIConnectionError) as caught:
            await api.relist_item("MLM1", price=10.0, quantity=1, listing_type_id="gold_special")
    assert len(seen) == 1
    assert caught.value.request_sent is True
    if exc is httpx.ReadTimeout:
        assert isinstance(caught.value, APITimeoutError)


async def test_relist_retried_when_connection_never_opened(harness: Harness) -> None:
    seen, handler = raising(httpx.ConnectError, 1)
    async with harness.client(handler) as api:
        item = await api.relist_item("MLM1", price=10.0, quantity=1, listing_type_id="gold_special")
    assert item.id == "MLM1"
    assert len(seen) == 2


async def test_transport_retries_exhausted_raise(harness: Harness) -> None:
    seen, handler = raising(httpx.ConnectError, 99)
    async with harness.client(handler, retry=RetryPolicy(max_retries=2)) as api:
        with pytest.raises(APIConnectionError) as caught:
            await api.me()
    assert len(seen) == 3
    assert caught.value.code == "connect_error"
    assert "GET /users/me" in str(caught.value)


async def test_invalid_url_is_not_retried(harness: Harness) -> None:
    seen, handler = raising(httpx.UnsupportedProtocol, 99)
    async with harness.client(handler) as api:
        with pytest.raises(APIConnectionError):
            await api.me()
    assert len(seen) == 1
