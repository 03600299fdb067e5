"""Request ids, request counts, the writes log, per-app rate limiting and seeded fault injection."""

from __future__ import annotations

import uuid

import httpx
import pytest

from mltakedown.sandbox import seed
from mltakedown.sandbox.seed import TRICKY

from .conftest import Sandbox, open_sandbox


async def test_every_response_has_a_request_id(sb: Sandbox) -> None:
    responses = [
        await sb.get("/users/me"),
        await sb.get("/items/MLM1"),
        await sb.get("/users/me", token="bad"),
        await sb.get("/no/such/path"),
        await sb.put(f"/items/{TRICKY['closed_old']}", {"status": "active"}),
    ]
    ids = [r.headers["x-request-id"] for r in responses]
    assert [r.status_code for r in responses] == [200, 404, 401, 404, 400]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i) for i in ids)


async def test_request_counts_by_route_template(sb: Sandbox) -> None:
    await sb.get("/users/me")
    await sb.get(f"/items/{TRICKY['active_mlm']}")
    await sb.get(f"/items/{TRICKY['active_mlb']}")
    await sb.get("/items", ids=TRICKY["active_mlm"])
    await sb.put(f"/items/{TRICKY['active_mlm']}", {"status": "paused"})
    await sb.get("/users/1001/items/search")
    assert dict(sb.world.request_counts) == {
        "GET /users/me": 1,
        "GET /items/{id}": 2,
        "GET /items": 1,
        "PUT /items/{id}": 1,
        "GET /users/{user_id}/items/search": 1,
    }


async def test_writes_log(sb: Sandbox) -> None:
    item = TRICKY["active_mlm"]
    await sb.put(f"/items/{item}", {"status": "paused"})
    await sb.put(f"/items/{TRICKY['under_review_held']}", {"status": "paused"})
    [ok] = sb.world.writes_for(item)
    assert (ok.method, ok.path, ok.item, ok.body, ok.status) == (
        "PUT",
        f"/items/{item}",
        item,
        {"status": "paused"},
        200,
    )
    assert [w.status for w in sb.world.writes] == [200, 400]
    assert sb.world.writes_for(TRICKY["under_review_held"], ok_only=True) == []


async def test_rate_limit_per_application() -> None:
    async with open_sandbox(rate_per_second=2.0) as sb:
        statuses = [(await sb.get("/users/me")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = await sb.get("/users/me", token=seed.TOKEN_B)  # same application (sandbox-app)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json() in (
            {"message": "Too Many Requests", "error": "too_many_requests", "status": 429, "cause": []},
            {"message": "local rate limited", "error": "local_rate_limited", "status": 429, "cause": []},
        )
        assert "x-request-id" in limited.headers
        # Another application has its own budget.
        sb.world.tokens.apps["other-app"] = "other-secret"
        other = sb.world.issue_tokens(1001, "other-app")["access_token"]
        assert (await sb.get("/users/me", token=other)).status_code == 200
        # The bucket refills with (world) time.
        sb.world.clock.advance(1.0)
        assert (await sb.get("/users/me")).status_code == 200


async def _statuses(seed_value: int, n: int = 60) -> list[int]:
    async with open_sandbox(fail_rate=0.3, seed=seed_value) as sb:
        return [(await sb.get("/users/me")).status_code for _ in range(n)]


async def test_fault_injection_is_repeatable() -> None:
    first, second, other = await _statuses(7), await _statuses(7), await _statuses(8)
    assert first == second
    assert first != other
    assert {s for s in first if s != 200} <= {500, 502, 503, 504}
    assert 5 <= sum(s != 200 for s in first) <= 35


async def test_server_error_bodies() -> None:
    async with open_sandbox(fail_rate=1.0) as sb:
        seen = {}
        for _ in range(40):
            response = await sb.get("/users/me")
            seen[response.status_code] = response.json()
        assert seen[503] == {
            "message": "Service unavailable",
            "error": "service_not_available",
            "status": 503,
            "cause": [],
        }
        assert seen[500]["error"] == "internal_server_error"
        assert seen[502]["error"] == "bad_gateway" and seen[504]["error"] == "gateway_timeout"
        assert sb.world.writes == []


async def test_dropped_connection_surfaces_as_transport_error() -> None:
    async with open_sandbox(drop_rate=1.0) as sb:
        with pytest.raises(httpx.TransportError):
            await sb.put(f"/items/{TRICKY['active_mlm']}", {"status": "paused"})
        assert sb.world.items[TRICKY["active_mlm"]]["status"] == "active"
        assert sb.world.request_counts["PUT /items/{id}"] == 1


async def test_ghost_write_applies_but_answers_504() -> None:
    async with open_sandbox(ghost_write_rate=1.0) as sb:
        response = await sb.put(f"/items/{TRICKY['active_mlm']}", {"status": "paused"})
        assert response.status_code == 504
        assert sb.world.items[TRICKY["active_mlm"]]["status"] == "paused"
        assert (await sb.get("/users/me")).status_code == 200  # reads are never ghosted


async def test_latency() -> None:
    import time

    async with open_sandbox(latency_ms=30) as sb:
        start = time.perf_counter()
        await sb.get("/users/me")
        assert time.perf_counter() - start >= 0.03
