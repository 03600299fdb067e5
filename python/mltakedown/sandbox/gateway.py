"""The edge of the emulated API: request ids, request counts, rate limiting and fault injection.

A pure ASGI middleware so it can delay, refuse, drop or falsify a response before (or after) the
routes run. Every request draws the same number of random numbers from the world's seeded RNG,
so the same request sequence meets the same faults on every run.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import JSON, RATE_LIMIT_BODIES, SERVER_ERROR_BODIES
from .world import World

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
FAULT_STATUSES = (500, 502, 503, 504)


@dataclass
class TokenBucket:
    """Per-application token buckets on the world clock (burst = one second of budget)."""

    rate: float
    levels: dict[str, tuple[float, float]] = field(default_factory=dict)  # client → (tokens, at)

    def take(self, client: str, now: float) -> float:
        """Spend one token; return 0 when allowed, else the seconds until one is available."""
        capacity = max(1.0, self.rate)
        tokens, at = self.levels.get(client, (capacity, now))
        tokens = min(capacity, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self.levels[client] = (tokens - 1.0, now)
            return 0.0
        self.levels[client] = (tokens, now)
        return (1.0 - tokens) / self.rate


@dataclass(frozen=True)
class Draw:
    """The random decisions for one request (always drawn, used or not)."""

    drop: bool
    fail: bool
    fail_status: int
    ghost: bool
    rate_body: int


class Gateway:
    """ASGI middleware wrapping the sandbox routes."""

    def __init__(self, app: ASGIApp, world: World, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.world = world
        self.routes = routes
        rate = world.options.rate_per_second
        self.bucket = TokenBucket(rate) if rate else None

    def route_name(self, scope: Scope) -> str:
        """``"GET /items/{id}"``: the method and the route template a request matched."""
        method = str(scope["method"])
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return f"{method} {getattr(route, 'path', '?')}"
        return f"{method} <unmatched>"

    def _draw(self) -> Draw:
        rng, opts = self.world.rng, self.world.options
        return Draw(
            drop=rng.random() < opts.drop_rate,
            fail=rng.random() < opts.fail_rate,
            fail_status=rng.choice(FAULT_STATUSES),
            ghost=rng.random() < opts.ghost_write_rate,
            rate_body=rng.randrange(len(RATE_LIMIT_BODIES)),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        world = self.world
        request_id = str(uuid.uuid4())
        world.request_counts[self.route_name(scope)] += 1
        draw = self._draw()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        if world.options.latency_ms:
            await asyncio.sleep(world.options.latency_ms / 1000)
        if self.bucket is not None:
            client = world.client_of(Headers(scope=scope).get("authorization")) or "anonymous"
            wait = self.bucket.take(client, world.clock.now())
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                await _json(send_with_id, 429, RATE_LIMIT_BODIES[draw.rate_body], {"retry-after": retry})
                return
        if draw.drop:
            # Start a response and die: over uvicorn the client sees the connection close mid-response;
            # under httpx.ASGITransport the transport re-raises this very error, as a real drop would.
            await send_with_id(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
            )
            raise httpx.RemoteProtocolError("sandbox: connection dropped (fault injection)")
        if draw.fail:
            await _json(send_with_id, draw.fail_status, SERVER_ERROR_BODIES[draw.fail_status])
            return
        if draw.ghost and scope["method"] in WRITE_METHODS and not str(scope["path"]).startswith("/oauth"):
            # The write happens, the answer is lost: the client must reconcile by reading.
            await self.app(scope, receive, _discard)
            await _json(send_with_id, 504, SERVER_ERROR_BODIES[504])
            return
        await self.app(scope, receive, send_with_id)


async def _discard(message: Message) -> None:
    del message


async def _json(send: Send, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
