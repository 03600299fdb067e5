"""The client against the sandbox emulator: in-process through ``httpx.ASGITransport`` and once
over real loopback HTTP (uvicorn on 127.0.0.1, random port). Request counts come from the
sandbox's own per-endpoint counter, so batching claims are measured, not assumed."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from mltakedown.meli import (
    CallRecord,
    ClientConfig,
    FileTokenStore,
    MeliClient,
    NotFoundError,
    OAuthApp,
    PermissionDeniedError,
    RateLimiter,
    RetryPolicy,
    TokenManager,
    TokenProvider,
    TokenSet,
    generate_pkce,
)
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox.seed import CLIENT_ID, CLIENT_SECRET, REFRESH_A, SELLER_A, TOKEN_A, TRICKY

SANDBOX_URL = "http://sandbox.test"
SEARCH = "GET /users/{user_id}/items/search"
MULTIGET = "GET /items"
FAST = RetryPolicy(initial_delay=0.001, conflict_initial_delay=0.001, max_delay=0.01)


def asgi_client(
    app: Starlette,
    tokens: TokenProvider | str = TOKEN_A,
    *,
    on_call: Callable[[CallRecord], None] | None = None,
    retry: RetryPolicy = FAST,
    rate: RateLimiter | None = None,
) -> MeliClient:
    """A client wired to ``app`` in-process, unlimited unless ``rate`` is given."""
    return MeliClient(
        ClientConfig(api_url=SANDBOX_URL, client_id=CLIENT_ID),
        tokens=tokens,
        transport=httpx.ASGITransport(app=app),
        on_call=on_call,
        rate=rate or RateLimiter(math.inf),
        retry=retry,
    )


def counts(app: Starlette) -> dict[str, int]:
    return dict(app.state.world.request_counts)


async def _seeded_catalogue_size() -> int:
    app = create_app(SandboxOptions())
    async with asgi_client(app) as api:
        return await api.count_items(SELLER_A)


async def test_scan_of_5000_items_takes_at_most_51_requests() -> None:
    extra = 5000 - await _seeded_catalogue_size()
    app = create_app(SandboxOptions(extra_items=extra))
    async with asgi_client(app) as api:
        assert await api.count_items(SELLER_A) == 5000
        before = counts(app).get(SEARCH, 0)
        ids = await api.scan_item_ids(SELLER_A)
    assert len(ids) == len(set(ids)) == 5000
    assert counts(app)[SEARCH] - before <= 51


async def test_multiget_of_1000_items_takes_50_requests() -> None:
    app = create_app(SandboxOptions(extra_items=1100))
    async with asgi_client(app) as api:
        ids = (await api.scan_item_ids(SELLER_A))[:1000]
        assert len(ids) == 1000
        results = await api.get_items(ids)
    assert counts(app)[MULTIGET] == 50
    assert [r.id for r in results] == ids
    assert all(r.ok and r.item is not None and r.item.seller_id == SELLER_A for r in results)


async def test_multiget_maps_missing_items_and_search_by_sku() -> None:
    app = create_app(SandboxOptions())
    async with asgi_client(app) as api:
        wanted = [TRICKY["active_mlm"], "MLM1", TRICKY["multi_variation"]]
        results = await api.get_items(wanted)
        assert [r.code for r in results] == [200, 404, 200]
        missing = results[1].error
        assert isinstance(missing, NotFoundError) and missing.request_id
        multi = results[2].item
        assert multi is not None and len(multi.variations) > 1
        assert TRICKY["multi_variation_sku"] in {v.seller_sku for v in multi.variations}
        assert await api.search_item_ids(SELLER_A, seller_sku=TRICKY["active_sku"]) == [TRICKY["active_mlm"]]
        ambiguous = await api.search_item_ids(SELLER_A, seller_sku=TRICKY["ambiguous_sku"])
        assert {TRICKY["ambiguous_sku_classic"], TRICKY["ambiguous_sku_premium"]} <= set(ambiguous)
        assert await api.search_item_ids(SELLER_A, sku=TRICKY["custom_field_only_sku"]) == [
            TRICKY["custom_field_only"]
        ]
        with pytest.raises(NotFoundError) as caught:
            await api.get_item("MLM1")
        assert caught.value.request_id and caught.value.request_id in str(caught.value)


async def test_write_round_trip_and_errors() -> None:
    app = create_app(SandboxOptions())
    world = app.state.world
    item_id = TRICKY["active_mlm"]
    async with asgi_client(app) as api:
        paused = await api.set_item_status(item_id, "paused")
        assert paused.status == "paused"
        assert len(world.writes_for(item_id)) == 1
        active = await api.set_item_status(item_id, "active")
        assert active.status == "active"
        with pytest.raises(Exception) as caught:
            await api.set_item_status(TRICKY["under_review_warning"], "paused")
        assert "item.status.not_modifiable" in getattr(caught.value, "cause_codes", [])
        with pytest.raises(PermissionDeniedError):
            await api.set_item_status(TRICKY["seller_b_item"], "paused")
        me = await api.me()
        assert me.id == SELLER_A


async def test_orders_shipments_questions_and_ads() -> None:
    app = create_app(SandboxOptions())
    async with asgi_client(app) as api:
        orders = await api.search_orders(SELLER_A, item_id=TRICKY["order_ready_to_ship_item"])
        assert orders
        shipment_id = orders[0].shipment_id
        assert shipment_id is not None
        shipment = await api.get_shipment(shipment_id)
        assert shipment.is_unshipped
        questions = await api.unanswered_questions(TRICKY["questions_item"])
        assert questions and all(q.status == "UNANSWERED" for q in questions)
        assert await api.seller_unanswered_questions()
        advertiser = await api.get_advertiser("MLM")
        assert advertiser is not None
        groups = await api.search_ad_groups("MLM", advertiser.advertiser_id, [TRICKY["active_mlm"]])
        assert [g.id for g in groups] == ["AG1001"]
        paused = await api.set_ad_group_status("MLM", "AG1001", "paused")
        assert paused.status == "paused"


async def test_expired_token_refreshes_through_the_sandbox(tmp_path: Path) -> None:
    app = create_app(SandboxOptions())
    store = FileTokenStore(tmp_path / "tokens.json")
    store.save(
        "acme",
        TokenSet(TOKEN_A, REFRESH_A, expires_at=datetime.now(UTC) + timedelta(hours=6), user_id=SELLER_A),
    )
    oauth = OAuthApp(CLIENT_ID, CLIENT_SECRET, "https://example.test/cb", site_id="MLM")
    manager = TokenManager(store, "acme", oauth)
    records: list[CallRecord] = []
    async with asgi_client(app, tokens=manager, on_call=records.append) as api:
        assert (await api.me()).id == SELLER_A
        app.state.world.clock.advance(21601)  # the server now considers TOKEN_A expired
        assert (await api.me()).id == SELLER_A
    assert manager.refresh_count == 1
    stored = store.load("acme")
    assert stored is not None and stored.refresh_token != REFRESH_A and stored.access_token != TOKEN_A
    # The refresh itself is a call too: it lands in the hook (the Log sheet) between the two.
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/users/me", 200),
        ("GET", "/users/me", 401),
        ("POST", "/oauth/token", 200),
        ("GET", "/users/me", 200),
    ]


async def test_authorization_code_flow_with_pkce() -> None:
    app = create_app(SandboxOptions())
    pkce = generate_pkce()
    oauth = OAuthApp(
        CLIENT_ID, CLIENT_SECRET, "https://example.test/cb", site_id="MLM", auth_host=SANDBOX_URL
    )
    url = oauth.authorization_url("state-1", pkce.challenge)
    async with httpx.AsyncClient(base_url=SANDBOX_URL, transport=httpx.ASGITransport(app=app)) as http:
        redirect = await http.get(url)
        assert redirect.status_code == 302
        query = parse_qs(urlsplit(redirect.headers["location"]).query)
        assert query["state"] == ["state-1"]
        tokens = await oauth.exchange_code(query["code"][0], pkce.verifier, http=http)
    assert tokens.user_id == SELLER_A and tokens.refresh_token


@pytest.fixture
def loopback_sandbox() -> Iterator[tuple[Starlette, str]]:
    app = create_app(SandboxOptions(extra_items=300))
    with serve_in_thread(app) as url:
        assert url.startswith("http://127.0.0.1:")
        yield app, url


@pytest.mark.slow
async def test_over_loopback_http(loopback_sandbox: tuple[Starlette, str]) -> None:
    app, url = loopback_sandbox
    async with MeliClient(
        ClientConfig(api_url=url, client_id="loopback-test"), tokens=TOKEN_A, rate=RateLimiter(math.inf)
    ) as api:
        assert (await api.me()).id == SELLER_A
        ids = await api.scan_item_ids(SELLER_A)
        results = await api.get_items(ids[:200])
        paused = await api.set_item_status(TRICKY["active_mlb"], "paused")
    assert len(ids) >= 300
    assert all(r.ok for r in results)
    assert paused.status == "paused"
    assert counts(app)[MULTIGET] == 10


async def test_injected_faults_are_absorbed_by_retries() -> None:
    """5xx answers, dropped connections and lost write answers: reads and state-setting writes
    still succeed; the sandbox saw the retries."""
    app = create_app(
        SandboxOptions(extra_items=200, fail_rate=0.2, drop_rate=0.1, ghost_write_rate=0.1, seed=7)
    )
    records: list[CallRecord] = []
    retry = RetryPolicy(max_retries=8, initial_delay=0.001, max_delay=0.005)
    async with asgi_client(app, on_call=records.append, retry=retry) as api:
        ids = await api.scan_item_ids(SELLER_A, status="active")
        results = await api.get_items(ids[:200])
        generated = [
            r.id for r in results if r.item is not None and (r.item.seller_sku or "").startswith("ACME-GEN-")
        ][:20]
        for item_id in generated:
            assert (await api.set_item_status(item_id, "paused")).status == "paused"
    assert all(r.ok for r in results)
    failed = [r for r in records if r.status is None or r.status >= 500]
    assert failed, "the fault injection should have hit some attempts"
    assert {r.error for r in records if r.status is None} <= {"connection_dropped"}


async def test_server_rate_limit_429_is_absorbed_with_a_global_pause() -> None:
    """A client that outruns the server's bucket gets 429s, pauses everyone, and completes."""
    app = create_app(SandboxOptions(rate_per_second=20.0))
    records: list[CallRecord] = []
    limiter = RateLimiter(math.inf)
    async with asgi_client(app, on_call=records.append, rate=limiter) as api:
        users = await asyncio.gather(*(api.me() for _ in range(30)))
    assert all(u.id == SELLER_A for u in users)
    assert any(r.status == 429 for r in records)
    assert limiter.paused_until > 0
