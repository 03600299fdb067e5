"""Shared helpers for the API-client tests: a fake clock, a mock-transport client factory,
and the token-store and canned-answer helpers the OAuth tests share."""

from __future__ import annotations

import asyncio
import heapq
import json
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mltakedown.meli import (
    CallRecord,
    ClientConfig,
    FileTokenStore,
    MeliClient,
    RateLimiter,
    RetryPolicy,
    TokenSet,
)
from mltakedown.meli import retry as retry_module

Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)

API_URL = "https://api.test"


class FakeClock:
    """Virtual time: ``sleep`` parks the caller until a driver task advances ``now`` to its
    wake-up time, once every runnable task has had its turn. No real waiting happens."""

    SETTLE_YIELDS = 50

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._driver: asyncio.Task[None] | None = None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._seq += 1
        heapq.heappush(self._waiters, (self.now + seconds, self._seq, future))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        await future

    async def _drive(self) -> None:
        while self._waiters:
            for _ in range(self.SETTLE_YIELDS):
                await asyncio.sleep(0)
            target, _, future = heapq.heappop(self._waiters)
            self.now = max(self.now, target)
            if not future.done():
                future.set_result(None)


def json_response(
    data: Any, status: int = 200, *, request_id: str = "req-1", headers: dict[str, str] | None = None
) -> httpx.Response:
    """A JSON response with an ``x-request-id``."""
    return httpx.Response(
        status,
        content=json.dumps(data).encode(),
        headers={"content-type": "application/json", "x-request-id": request_id, **(headers or {})},
    )


def unauthorized() -> httpx.Response:
    """ML's 401 for an access token it no longer accepts."""
    return json_response({"code": "unauthorized", "message": "invalid access token"}, 401)


def mock_http(handler: Handler) -> httpx.AsyncClient:
    """A bare HTTP client on ``API_URL`` whose requests all go to ``handler``."""
    return httpx.AsyncClient(base_url=API_URL, transport=httpx.MockTransport(handler))


def stored_tokens(path: Path, tokens: TokenSet, alias: str = "acme") -> FileTokenStore:
    """A file token store at ``path`` already holding ``tokens`` for ``alias``."""
    store = FileTokenStore(path)
    store.save(alias, tokens)
    return store


@dataclass
class Harness:
    """Builds clients over ``httpx.MockTransport`` with a fake clock and recorded calls."""

    clock: FakeClock = field(default_factory=FakeClock)
    calls: list[CallRecord] = field(default_factory=list)
    backoff_sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(math.inf, clock=self.clock, sleep=self.clock.sleep)

    async def _sleep(self, seconds: float) -> None:
        self.backoff_sleeps.append(seconds)
        await asyncio.sleep(0)

    def client(
        self,
        handler: Handler,
        *,
        tokens: Any = "APP_USR-TEST",
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
    ) -> MeliClient:
        return MeliClient(
            config=ClientConfig(api_url=API_URL),
            tokens=tokens,
            transport=httpx.MockTransport(handler),
            on_call=self.calls.append,
            rate=limiter or self.limiter,
            retry=retry or RetryPolicy(),
            sleep=self._sleep,
        )


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Harness:
    """A fresh harness; jitter is neutralised so delays are exact."""
    monkeypatch.setattr(retry_module, "add_jitter", lambda delay: delay)
    return Harness()
