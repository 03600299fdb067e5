"""Client follow-ups the engine uses: one-request counts, all advertisers in one call (cached
per client), and the scan as an async iterator of pages. Mock transport first, then against
the sandbox, whose own request counter checks the request claims."""

from __future__ import annotations

import asyncio
import math
from urllib.parse import parse_qs

import httpx
import pytest

from mltakedown.meli import PermissionDeniedError
from mltakedown.sandbox import SandboxOptions, create_app
from mltakedown.sandbox.seed import SELLER_A

from .conftest import Harness, json_response
from .test_against_sandbox import asgi_client, counts


def q(request: httpx.Request) -> dict[str, str]:
    """The query string as a flat dict."""
    return {k: v[-1] for k, v in parse_qs(request.url.query.decode(), keep_blank_values=True).items()}


# -- counts ------------------------------------------------------------------------------------


async def test_count_orders_is_one_limit_1_search_reading_paging_total(harness: Harness) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, q(request)))
        return json_response({"paging": {"total": 7345, "offset": 0, "limit": 1}, "results": [{"id": 1}]})

    async with harness.client(handler) as api:
        assert await api.count_orders(1001) == 7345
        assert await api.count_orders(1001, statuses=("paid", "confirmed")) == 7345
    assert seen == [
        ("/orders/search", {"seller": "1001", "order.status": "paid", "limit": "1", "offset": "0"}),
        ("/orders/search", {"seller": "1001", "order.status": "paid,confirmed", "limit": "1", "offset": "0"}),
    ]


async def test_count_unanswered_questions_reads_the_top_level_total(harness: Harness) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, q(request)))
        # The questions search has no "paging" object: its total sits at the top level.
        return json_response({"total": 213, "limit": 1, "questions": [{"id": 5, "item_id": "MLM1"}]})

    async with harness.client(handler) as api:
        assert await api.count_unanswered_questions() == 213
    assert seen == [("/my/received_questions/search", {"status": "UNANSWERED", "limit": "1", "offset": "0"})]


# -- advertisers -------------------------------------------------------------------------------


async def test_get_advertisers_one_call_serves_every_site(harness: Harness) -> None:
    calls: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        await asyncio.sleep(0.01)  # let the concurrent callers pile up behind the first request
        assert request.headers["api-version"] == "1" and q(request) == {"product_id": "PADS"}
        return json_response(
            {
                "advertisers": [
                    {"advertiser_id": 1, "site_id": "MLB"},
                    {"advertiser_id": 2, "site_id": "mlm"},
                    {"advertiser_id": 3, "site_id": "MLA"},
                ]
            }
        )

    async with harness.client(handler) as api:
        sites = ["MLM", "MLB", "MLA", "MCO", "MLC"]
        found = await asyncio.gather(*(api.get_advertiser(site) for site in sites))
        every = await api.get_advertisers()
        assert len(calls) == 1  # five sites and a listing, one request
        assert [a.advertiser_id if a else None for a in found] == [2, 1, 3, None, None]
        assert [a.advertiser_id for a in every] == [1, 2, 3]
        every.clear()  # the caller's copy: the cache is untouched
        assert len(await api.get_advertisers()) == 3
        await api.get_advertisers(refresh=True)
        assert len(calls) == 2


async def test_advertiser_without_site_stands_for_any_site_but_an_exact_one_wins(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response({"advertisers": [{"advertiser_id": 9}, {"advertiser_id": 2, "site_id": "MLM"}]})

    async with harness.client(handler) as api:
        mlm, mco = await api.get_advertiser("MLM"), await api.get_advertiser("MCO")
    assert mlm is not None and mlm.advertiser_id == 2
    assert mco is not None and mco.advertiser_id == 9


async def test_no_product_ads_404_is_kept_as_empty(harness: Harness) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return json_response(
            {"status": 404, "error": "not_found", "description": "No permissions found for user_id 1"}, 404
        )

    async with harness.client(handler) as api:
        assert await api.get_advertisers() == []
        assert await api.get_advertiser("MLM") is None
    assert calls == 1


async def test_permission_denied_is_raised_and_not_kept(harness: Harness) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return json_response({"status": 403, "error": "forbidden", "message": "PolicyAgent"}, 403)
        return json_response({"advertisers": [{"advertiser_id": 4, "site_id": "MLM"}]})

    async with harness.client(handler) as api:
        with pytest.raises(PermissionDeniedError):
            await api.get_advertisers()
        advertiser = await api.get_advertiser("MLM")  # asks again: a refusal is not an answer
    assert advertiser is not None and advertiser.advertiser_id == 4
    assert calls == 2


# -- scan pages --------------------------------------------------------------------------------


async def test_scan_pages_arrive_one_by_one_before_the_next_is_requested(harness: Harness) -> None:
    pages = [["A1", "A2"], ["B1", "A2", "B2"], ["C1"]]
    requested: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = q(request)
        requested.append(params.get("scroll_id"))
        assert params["search_type"] == "scan" and params["limit"] == "100" and params["status"] == "active"
        index = 0 if "scroll_id" not in params else int(params["scroll_id"][1:])
        scroll = f"s{index + 1}" if index + 1 < len(pages) else None
        return json_response({"scroll_id": scroll, "results": pages[index], "paging": {"total": 5}})

    received: list[tuple[list[str], int]] = []
    async with harness.client(handler) as api:
        async for page in api.iter_scan_pages(1001, status="active"):
            received.append((page, len(requested)))
    # Each page is handed over while it is the last one requested, so a caller can multiget
    # it while the next scan page is on its way. An id seen on an earlier page is not repeated.
    assert received == [(["A1", "A2"], 1), (["B1", "B2"], 2), (["C1"], 3)]
    assert requested == [None, "s1", "s2"]


async def test_scan_pages_end_on_an_empty_page_without_yielding_it(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        first = "scroll_id" not in q(request)
        return json_response({"scroll_id": "next", "results": ["X1"] if first else []})

    async with harness.client(handler) as api:
        assert [page async for page in api.iter_scan_pages(1001)] == [["X1"]]
        assert await api.scan_item_ids(1001) == ["X1"]


# -- against the sandbox -----------------------------------------------------------------------


async def test_counts_match_the_full_listings_in_the_sandbox() -> None:
    app = create_app(SandboxOptions())
    async with asgi_client(app) as api:
        paid = await api.search_orders(SELLER_A, statuses=("paid",))
        questions = await api.seller_unanswered_questions()
        before = counts(app)
        assert await api.count_orders(SELLER_A) == len(paid) > 0
        assert await api.count_unanswered_questions() == len(questions) > 0
    sent = {k: v - before.get(k, 0) for k, v in counts(app).items() if v != before.get(k, 0)}
    assert sent == {"GET /orders/search": 1, "GET /my/received_questions/search": 1}


async def test_sandbox_advertisers_every_site_in_one_request() -> None:
    app = create_app(SandboxOptions())
    async with asgi_client(app) as api:
        every = await api.get_advertisers()
        per_site = [await api.get_advertiser(a.site_id or "") for a in every]
    assert every and per_site == every
    assert counts(app)["GET /advertising/advertisers"] == 1


async def test_sandbox_scan_pages_cover_the_catalogue_once() -> None:
    app = create_app(SandboxOptions(extra_items=1200))
    async with asgi_client(app) as api:
        total = await api.count_items(SELLER_A)
        pages = [page async for page in api.iter_scan_pages(SELLER_A)]
    ids = [i for page in pages for i in page]
    assert len(ids) == len(set(ids)) == total > 1000
    assert all(0 < len(page) <= 100 for page in pages)
    assert len(pages) == math.ceil(total / 100)
