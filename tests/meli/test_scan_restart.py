"""A scan whose scroll id is refused (it expired after 5 minutes, or a retried page spent it)
starts over instead of failing the whole Pull, and never yields an id twice."""

from __future__ import annotations

import math

import httpx
import pytest

from mltakedown.meli import BadRequestError, ClientConfig, MeliClient, RateLimiter, RetryPolicy
from mltakedown.sandbox import SandboxOptions, create_app
from mltakedown.sandbox.seed import CLIENT_ID, SELLER_A, TOKEN_A

from .conftest import Harness, json_response

FAST = RetryPolicy(initial_delay=0.001, conflict_initial_delay=0.001, max_delay=0.01)


async def test_a_slow_consumer_whose_scroll_expires_still_gets_every_id_once() -> None:
    app = create_app(SandboxOptions(extra_items=450))
    world = app.state.world
    client = MeliClient(
        ClientConfig(api_url="http://sandbox.test", client_id=CLIENT_ID),
        tokens=TOKEN_A,
        transport=httpx.ASGITransport(app=app),
        rate=RateLimiter(math.inf),
        retry=FAST,
    )
    async with client as api:
        expected = await api.search_item_ids(SELLER_A)
        got: list[str] = []
        pages = 0
        async for page in api.iter_scan_pages(SELLER_A):
            got.extend(page)
            pages += 1
            if pages == 2:
                world.clock.advance(301)  # the consumer took more than 5 minutes with page 2
    assert len(got) == len(set(got)), "an id was yielded twice"
    assert sorted(got) == sorted(expected)


async def test_a_refused_first_page_is_not_restarted(harness: Harness) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return json_response({"error": "bad_request", "message": "Invalid filter", "status": 400}, 400)

    async with harness.client(handler) as api:
        with pytest.raises(BadRequestError):
            await api.scan_item_ids(1001, status="nonsense")
    assert calls == 1


async def test_restarts_are_bounded(harness: Harness) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if "scroll_id" in request.url.params:
            return json_response({"error": "invalid_scroll_id", "status": 400}, 400)
        return json_response({"results": [f"MLM{calls}"], "scroll_id": "s", "paging": {"total": 99}})

    async with harness.client(handler) as api:
        with pytest.raises(BadRequestError):
            await api.scan_item_ids(1001)
    assert calls == 6  # first page + refused scroll, three times (two restarts)
