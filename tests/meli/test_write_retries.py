"""Retries of writes never duplicate a listing and never turn a maybe-applied write into a
clean, final failure.

A 500/502/504 may come from a gateway that gave up while the backend applied the request (the
sandbox's "ghost writes"). For ``POST /items/{id}/relist`` a retry then creates a second
listing; for a close or delete, the retry is refused ("Cannot update item [status:closed]")
although the first attempt did the job.
"""

from __future__ import annotations

import math

import httpx
import pytest

from mltakedown.meli import (
    APIConnectionError,
    ClientConfig,
    MeliClient,
    RateLimiter,
    RetryPolicy,
    ServerError,
)
from mltakedown.meli.retry import may_have_been_applied, should_retry_status
from mltakedown.sandbox import SandboxOptions, create_app
from mltakedown.sandbox.seed import CLIENT_ID, TOKEN_A, TRICKY

from .conftest import Harness, json_response

ITEM = {"id": "MLM1", "status": "closed"}
RELISTED = {"id": "MLM2", "status": "active"}
CLOSED_REFUSAL = {
    "message": "Cannot update item MLM1 [status:closed, has_bids:false]",
    "error": "validation_error",
    "status": 400,
    "cause": [],
}


def relist_kwargs() -> dict[str, object]:
    return {"price": 10.0, "quantity": 1, "listing_type_id": "gold_special"}


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_relist_is_not_retried_after_an_ambiguous_5xx(harness: Harness, status: int) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return json_response({"error": "gateway_timeout", "status": status}, status)
        return json_response(RELISTED, 201)

    async with harness.client(handler) as api:
        with pytest.raises(ServerError) as caught:
            await api.relist_item("MLM1", **relist_kwargs())  # type: ignore[arg-type]
    assert len(seen) == 1, "a second relist POST could create a second live listing"
    assert caught.value.status_code == status


@pytest.mark.parametrize("status", [409, 429, 503])
async def test_relist_is_retried_when_the_answer_proves_nothing_happened(
    harness: Harness, status: int
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return json_response({"error": "x", "status": status}, status)
        return json_response(RELISTED, 201)

    async with harness.client(handler) as api:
        item = await api.relist_item("MLM1", **relist_kwargs())  # type: ignore[arg-type]
    assert item.id == "MLM2"
    assert len(seen) == 2


def test_retry_tables() -> None:
    statuses = (400, 409, 429, 500, 502, 503, 504)
    assert [s for s in statuses if should_retry_status(s, idempotent=False)] == [409, 429, 503]
    assert [s for s in statuses if should_retry_status(s)] == [409, 429, 500, 502, 503, 504]
    assert [s for s in statuses if may_have_been_applied(s)] == [500, 502, 504]


async def test_relist_ghost_write_in_the_sandbox_makes_exactly_one_new_listing() -> None:
    app = create_app(SandboxOptions(ghost_write_rate=1.0))
    world = app.state.world
    before = set(world.items)
    client = MeliClient(
        ClientConfig(api_url="http://sandbox.test", client_id=CLIENT_ID),
        tokens=TOKEN_A,
        transport=httpx.ASGITransport(app=app),
        rate=RateLimiter(math.inf),
        retry=RetryPolicy(initial_delay=0.001, conflict_initial_delay=0.001, max_delay=0.01),
    )
    async with client as api:
        with pytest.raises(ServerError):
            await api.relist_item(TRICKY["closed_recent"], **relist_kwargs())  # type: ignore[arg-type]
    assert len(set(world.items) - before) == 1
    assert len(world.writes_for(TRICKY["closed_recent"])) == 1


async def test_close_whose_answer_was_lost_then_refused_stays_ambiguous(harness: Harness) -> None:
    """504 (applied behind the gateway), then the retry meets "already closed": not a final 400."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return json_response({"error": "gateway_timeout", "status": 504}, 504, request_id="r504")
        return json_response(CLOSED_REFUSAL, 400, request_id="r400")

    async with harness.client(handler) as api:
        with pytest.raises(ServerError) as caught:
            await api.set_item_status("MLM1", "closed")
    assert len(seen) == 2
    err = caught.value
    assert err.status_code == 504 and err.request_id == "r504"
    assert "may have been applied" in err.message
    assert "HTTP 400 [validation_error]" in err.message and "status:closed" in err.message
    assert getattr(err.__cause__, "status_code", None) == 400


async def test_delete_after_a_dropped_answer_then_refused_stays_a_transport_error(harness: Harness) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ReadTimeout("no answer", request=request)
        return json_response(CLOSED_REFUSAL, 400)

    async with harness.client(handler) as api:
        with pytest.raises(APIConnectionError) as caught:
            await api.delete_item("MLM1")
    assert len(seen) == 2
    assert caught.value.request_sent is True
    assert "retry was refused" in caught.value.message


async def test_a_clean_refusal_is_still_a_plain_400(harness: Harness) -> None:
    """Without an earlier ambiguous attempt nothing changes: the 400 is the answer."""
    from mltakedown.meli import BadRequestError

    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(CLOSED_REFUSAL, 400)

    async with harness.client(handler) as api:
        with pytest.raises(BadRequestError):
            await api.set_item_status("MLM1", "closed")


async def test_a_503_before_a_refusal_is_not_ambiguous(harness: Harness) -> None:
    """503 means refused before any work: the later 400 is the real answer."""
    from mltakedown.meli import BadRequestError

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return json_response({"error": "service_not_available"}, 503)
        return json_response(CLOSED_REFUSAL, 400)

    async with harness.client(handler) as api:
        with pytest.raises(BadRequestError):
            await api.set_item_status("MLM1", "closed")
    assert len(seen) == 2


async def test_reads_are_unaffected(harness: Harness) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return json_response({"error": "gateway_timeout"}, 504)
        return json_response({"message": "Item with id MLM1 not found", "error": "not_found"}, 404)

    from mltakedown.meli import NotFoundError

    async with harness.client(handler) as api:
        with pytest.raises(NotFoundError):
            await api.get_item("MLM1")
    assert len(seen) == 2


async def test_a_call_that_gives_up_on_429_still_holds_the_others_back(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response({"error": "too_many_requests"}, 429, headers={"retry-after": "4"})

    from mltakedown.meli import RateLimitError

    start = harness.clock.now
    async with harness.client(handler, retry=RetryPolicy(max_retries=0)) as api:
        with pytest.raises(RateLimitError):
            await api.get_item("MLM1")
    assert harness.limiter.paused_until == pytest.approx(start + 4)
