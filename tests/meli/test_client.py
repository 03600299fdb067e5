"""The typed calls of ARCHITECTURE.md §1 against httpx.MockTransport: paths, params, headers,
bodies, batching and paging."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

import mltakedown.meli as meli
from mltakedown.meli import (
    ClientConfig,
    InvalidResponseError,
    Item,
    NotFoundError,
    PermissionDeniedError,
    SearchLimitError,
)

from .conftest import Harness, json_response


def q(request: httpx.Request) -> dict[str, str]:
    """The query string as a flat dict."""
    return {k: v[-1] for k, v in parse_qs(request.url.query.decode(), keep_blank_values=True).items()}


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def item_json(item_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "site_id": "MLM", "seller_id": 1001, "status": "active", **extra}


# -- exported surface ------------------------------------------------------------------------


def test_all_matches_public_names() -> None:
    public = {name for name in vars(meli) if not name.startswith("_")}
    modules = {name for name, value in vars(meli).items() if type(value).__name__ == "module"}
    assert set(meli.__all__) == public - modules
    for name in meli.__all__:
        assert getattr(meli, name) is not None


def test_config_from_env() -> None:
    config = ClientConfig.from_env(
        {
            "MLTAKEDOWN_API_URL": "http://127.0.0.1:9999/",
            "MLTAKEDOWN_ACCESS_TOKEN": "APP_USR-X",
            "MLTAKEDOWN_RATE": "2.5",
            "MLTAKEDOWN_CLIENT_ID": "app",
            "MLTAKEDOWN_CLIENT_SECRET": "sec",
        }
    )
    assert config.api_url == "http://127.0.0.1:9999"
    assert config.rate == 2.5 and config.client_id == "app"
    assert "APP_USR-X" not in repr(config) and "sec" not in repr(config)
    default = ClientConfig.from_env({})
    assert default.api_url == "https://api.mercadolibre.com" and default.rate == 5.0
    assert default.access_token is None
    with pytest.raises(ValueError):
        ClientConfig.from_env({"MLTAKEDOWN_RATE": "fast"})
    with pytest.raises(ValueError):
        ClientConfig(rate=0)


# -- account and items -----------------------------------------------------------------------


async def test_me_sends_bearer_and_parses_user(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer APP_USR-TEST"
        assert request.url.path == "/users/me"
        return json_response(
            {
                "id": 1001,
                "nickname": "ACME_CN",
                "site_id": "MLM",
                "country_id": "MX",
                "tags": ["normal"],
                "x": 1,
            }
        )

    async with harness.client(handler) as api:
        user = await api.me()
    assert (user.id, user.nickname, user.site_id) == (1001, "ACME_CN", "MLM")
    assert user.model_extra == {"x": 1}  # unknown fields are kept


async def test_get_item_helpers(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/items/MLM1" and q(request) == {"include_attributes": "all"}
        return json_response(
            item_json(
                "MLM1",
                attributes=[{"id": "BRAND", "value_name": "X"}, {"id": "SELLER_SKU", "value_name": "SKU-1"}],
                shipping={"logistic_type": "fulfillment", "mode": "me2"},
                variations=[
                    {
                        "id": 11,
                        "available_quantity": 3,
                        "attributes": [{"id": "SELLER_SKU", "value_name": "V-11"}],
                    },
                    {"id": 12, "available_quantity": 0},
                ],
                health=0.8,
                last_updated="2026-11-20T10:00:00.000Z",
            )
        )

    async with harness.client(handler) as api:
        item = await api.get_item("MLM1")
    assert item.seller_sku == "SKU-1" and item.is_full
    assert [v.seller_sku for v in item.variations] == ["V-11", None]
    assert item.model_dump()["health"] == 0.8
    assert item.last_updated is not None and item.last_updated.year == 2026


async def test_multiget_1000_ids_in_50_chunks_in_order(harness: Harness) -> None:
    ids = [f"MLM{n}" for n in range(1000, 2000)]
    missing = set(ids[5::97])
    requests: list[list[str]] = []
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        params = q(request)
        assert request.url.path == "/items" and params["include_attributes"] == "all"
        chunk = params["ids"].split(",")
        requests.append(chunk)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        entries = [
            {
                "code": 404,
                "body": {
                    "message": f"Item with id {i} not found",
                    "error": "not_found",
                    "status": 404,
                    "cause": [],
                },
            }
            if i in missing
            else {"code": 200, "body": item_json(i)}
            for i in chunk
        ]
        return json_response(entries, request_id=f"mg-{chunk[0]}")

    async with harness.client(handler) as api:
        results = await api.get_items(ids)
    assert len(requests) == 50
    assert all(len(chunk) <= 20 for chunk in requests)
    assert peak > 1  # chunks run concurrently
    assert [r.id for r in results] == ids
    for result in results:
        if result.id in missing:
            assert result.code == 404 and result.item is None
            assert isinstance(result.error, NotFoundError)
            assert result.error.path == f"/items/{result.id}"
            assert result.error.request_id and result.error.request_id.startswith("mg-")
        else:
            assert result.ok and isinstance(result.item, Item) and result.item.id == result.id


async def test_multiget_accepts_bulk_shape_duplicates_and_missing(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        chunk = q(request)["ids"].split(",")
        assert chunk == ["MLM1", "MLM2", "MLM3", "MLM4"]  # duplicates fetched once
        return json_response(
            [
                # announced /items/bulk shape: status_code + id at the root; order shuffled
                {
                    "id": "MLM2",
                    "status_code": 403,
                    "body": {"message": "forbidden", "error": "forbidden", "status": 403},
                },
                {"id": "MLM1", "status_code": 200, "body": item_json("MLM1")},
                {"id": "MLM3", "status_code": 200, "body": item_json("MLM3")},
            ]
        )

    async with harness.client(handler) as api:
        results = await api.get_items(["MLM1", "MLM2", "MLM1", "MLM3", "MLM4"])
    assert [r.id for r in results] == ["MLM1", "MLM2", "MLM1", "MLM3", "MLM4"]
    assert [r.code for r in results] == [200, 403, 200, 200, 0]
    assert isinstance(results[1].error, PermissionDeniedError)
    assert isinstance(results[4].error, InvalidResponseError)
    assert results[4].error.code == "missing_from_multiget"


async def test_multiget_whole_call_failure_raises(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response({"message": "forbidden", "error": "forbidden", "status": 403}, 403)

    async with harness.client(handler) as api:
        with pytest.raises(PermissionDeniedError):
            await api.get_items([f"MLM{n}" for n in range(45)])


# -- seller item search ------------------------------------------------------------------------


def search_handler(total: int, seen: list[dict[str, str]]) -> Any:
    ids = [f"MLM{n}" for n in range(total)]

    def handler(request: httpx.Request) -> httpx.Response:
        params = q(request)
        seen.append(params)
        assert request.url.path == "/users/1001/items/search"
        limit, offset = int(params["limit"]), int(params.get("offset", 0))
        return json_response(
            {
                "seller_id": "1001",
                "paging": {"limit": limit, "offset": offset, "total": total},
                "results": ids[offset : offset + limit],
            }
        )

    return ids, handler


async def test_search_by_seller_sku_pages_by_100(harness: Harness) -> None:
    seen: list[dict[str, str]] = []
    ids, handler = search_handler(250, seen)
    async with harness.client(handler) as api:
        found = await api.search_item_ids(1001, seller_sku="SKU-1", status="active", catalog_listing=False)
    assert found == ids
    assert sorted(int(p["offset"]) for p in seen) == [0, 100, 200]
    assert all(p["limit"] == "100" for p in seen)
    assert all(
        p["seller_sku"] == "SKU-1" and p["status"] == "active" and p["catalog_listing"] == "false"
        for p in seen
    )
    assert all("sku" not in p for p in seen)


async def test_search_by_sku_uses_custom_field_filter(harness: Harness) -> None:
    seen: list[dict[str, str]] = []
    _, handler = search_handler(3, seen)
    async with harness.client(handler) as api:
        await api.search_item_ids(1001, sku="CF-9", tags=["a", "b"], user_product_id="MLMU1")
    assert seen == [{"sku": "CF-9", "tags": "a,b", "user_product_id": "MLMU1", "limit": "100", "offset": "0"}]


async def test_search_beyond_offset_cap_tells_caller_to_scan(harness: Harness) -> None:
    seen: list[dict[str, str]] = []
    _, handler = search_handler(1500, seen)
    async with harness.client(handler) as api:
        with pytest.raises(SearchLimitError) as caught:
            await api.search_item_ids(1001, status="active")
    assert caught.value.total == 1500
    assert len(seen) == 1
    assert "scan" in str(caught.value)


async def test_search_exactly_1000_pages_fully(harness: Harness) -> None:
    seen: list[dict[str, str]] = []
    ids, handler = search_handler(1000, seen)
    async with harness.client(handler) as api:
        assert await api.search_item_ids(1001) == ids
    assert len(seen) == 10


async def test_scan_follows_scroll_id_until_null(harness: Harness) -> None:
    pages = [["A1", "A2"], ["B1", "B2"], ["C1"]]
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = q(request)
        seen.append(params)
        index = 0 if "scroll_id" not in params else int(params["scroll_id"][1:])
        scroll = f"s{index + 1}" if index + 1 < len(pages) else None
        return json_response({"scroll_id": scroll, "results": pages[index], "paging": {"total": 5}})

    async with harness.client(handler) as api:
        assert await api.scan_item_ids(1001, status="active") == ["A1", "A2", "B1", "B2", "C1"]
    assert [p.get("scroll_id") for p in seen] == [None, "s1", "s2"]
    assert all(p["search_type"] == "scan" and p["limit"] == "100" and p["status"] == "active" for p in seen)
    assert all("offset" not in p for p in seen)


async def test_scan_stops_on_empty_page(harness: Harness) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        results = ["X1"] if calls == 1 else []
        return json_response({"scroll_id": f"s{calls}", "results": results})

    async with harness.client(handler) as api:
        assert await api.scan_item_ids(1001) == ["X1"]
    assert calls == 2


async def test_count_items_uses_limit_1(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert q(request) == {"status": "paused", "limit": "1"}
        return json_response({"paging": {"total": 4321, "limit": 1, "offset": 0}, "results": ["MLM1"]})

    async with harness.client(handler) as api:
        assert await api.count_items(1001, status="paused") == 4321


# -- writes ------------------------------------------------------------------------------------


async def test_item_writes_send_the_documented_bodies(harness: Harness) -> None:
    seen: list[tuple[str, str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, body(request)))
        return json_response(item_json("MLM9" if request.url.path.endswith("relist") else "MLM1"))

    async with harness.client(handler) as api:
        await api.set_item_status("MLM1", "paused")
        await api.delete_item("MLM1")
        await api.set_variation_stock("MLM1", {11: 0}, keep=[10, 11, 12])
        await api.set_item_stock("MLM1", 0)
        relisted = await api.relist_item(
            "MLM1",
            price=99.5,
            quantity=3,
            listing_type_id="gold_special",
            variations=[{"id": 11, "quantity": 1}],
        )
        with pytest.raises(ValueError):
            await api.set_item_status("MLM1", "deleted")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await api.set_item_stock("MLM1", -1)
    assert relisted.id == "MLM9"
    assert seen == [
        ("PUT", "/items/MLM1", {"status": "paused"}),
        ("PUT", "/items/MLM1", {"deleted": "true"}),
        ("PUT", "/items/MLM1", {"variations": [{"id": 10}, {"id": 11, "available_quantity": 0}, {"id": 12}]}),
        ("PUT", "/items/MLM1", {"available_quantity": 0}),
        (
            "POST",
            "/items/MLM1/relist",
            {
                "price": 99.5,
                "quantity": 3,
                "listing_type_id": "gold_special",
                "variations": [{"id": 11, "quantity": 1}],
            },
        ),
    ]


# -- orders, shipments, questions --------------------------------------------------------------


async def test_search_orders_pages_and_filters(harness: Harness) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = q(request)
        seen.append(params)
        offset = int(params["offset"])
        results = [
            {
                "id": n,
                "status": "paid",
                "shipping": {"id": 5000 + n},
                "order_items": [{"item": {"id": "MLM1"}, "quantity": 1}],
            }
            for n in range(offset, min(offset + 50, 120))
        ]
        return json_response({"paging": {"total": 120, "offset": offset, "limit": 50}, "results": results})

    async with harness.client(handler) as api:
        orders = await api.search_orders(1001, item_id="MLM1", statuses=("paid", "confirmed"))
    assert [o.id for o in orders] == list(range(120))
    assert orders[3].shipment_id == 5003
    assert orders[0].order_items[0].item.id == "MLM1"
    assert sorted(int(p["offset"]) for p in seen) == [0, 50, 100]
    assert all(
        p["seller"] == "1001" and p["order.status"] == "paid,confirmed" and p["item"] == "MLM1" for p in seen
    )


async def test_get_shipment_sends_new_format_header(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/shipments/777"
        assert request.headers["x-format-new"] == "true"
        return json_response({"id": 777, "status": "ready_to_ship", "substatus": "printed"})

    async with harness.client(handler) as api:
        shipment = await api.get_shipment(777)
    assert shipment.is_unshipped


async def test_questions_per_item_and_seller_wide(harness: Harness) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = q(request)
        seen.append((request.url.path, params))
        offset = int(params["offset"])
        questions = [
            {"id": n, "item_id": "MLM1", "status": "UNANSWERED", "text": "?"}
            for n in range(offset, min(offset + 50, 60))
        ]
        return json_response({"total": 60, "limit": 50, "questions": questions})

    async with harness.client(handler) as api:
        per_item = await api.unanswered_questions("MLM1")
        seller = await api.seller_unanswered_questions()
    assert len(per_item) == 60 and len(seller) == 60
    item_calls = [p for path, p in seen if path == "/questions/search"]
    assert len(item_calls) == 2
    assert all(
        p["item_id"] == "MLM1" and p["status"] == "UNANSWERED" and p["api_version"] == "4" for p in item_calls
    )
    seller_calls = [p for path, p in seen if path == "/my/received_questions/search"]
    assert len(seller_calls) == 2 and all(p["status"] == "UNANSWERED" for p in seller_calls)


# -- Product Ads -------------------------------------------------------------------------------


async def test_get_advertiser_picks_site_and_sends_api_version_1(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/advertising/advertisers"
        assert q(request) == {"product_id": "PADS"}
        assert request.headers["api-version"] == "1"
        return json_response(
            {
                "advertisers": [
                    {"advertiser_id": 1, "site_id": "MLB"},
                    {"advertiser_id": 2, "site_id": "MLM", "advertiser_name": "A"},
                ]
            }
        )

    async with harness.client(handler) as api:
        advertiser = await api.get_advertiser("MLM")
        assert advertiser is not None and advertiser.advertiser_id == 2
        assert await api.get_advertiser("MCO") is None


async def test_get_advertiser_404_is_none(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(
            {"status": 404, "error": "not_found", "description": "No permissions found for user_id 1"}, 404
        )

    async with harness.client(handler) as api:
        assert await api.get_advertiser("MLM") is None


async def test_search_ad_groups_chunks_by_50_and_dedupes(harness: Harness) -> None:
    item_ids = [f"MLM{n}" for n in range(120)]
    seen: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/advertising/MLM/advertisers/77/product_ads/ad_groups/search"
        assert request.headers["api-version"] == "2"
        chunk = q(request)["filters[item_ids]"].split(",")
        seen.append(chunk)
        # one shared group appears in every chunk's answer
        results = [{"id": "AG-shared", "status": "active", "campaign_id": 5, "item_ids": ["MLM0", "MLM119"]}]
        results += [
            {"id": f"AG-{i}", "status": "paused", "campaign_id": 6, "item_ids": [i], "grouping_type": "ITEM"}
            for i in chunk[:2]
        ]
        return json_response(
            {"paging": {"total": len(results), "offset": 0, "limit": 50}, "results": results}
        )

    async with harness.client(handler) as api:
        groups = await api.search_ad_groups("MLM", 77, item_ids)
    assert [len(c) for c in seen] == [50, 50, 20]
    assert sorted(sum(seen, [])) == sorted(item_ids)
    assert [g.id for g in groups].count("AG-shared") == 1
    assert len(groups) == 1 + 6


async def test_set_ad_group_status(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "PUT"
        assert request.url.path == "/marketplace/advertising/MLM/product_ads/ad_groups/AG-1"
        assert request.headers["api-version"] == "2"
        assert body(request) == {"status": "paused", "campaign_id": 5}
        return json_response({"id": "AG-1", "status": "paused", "campaign_id": 5, "item_ids": ["MLM1"]})

    async with harness.client(handler) as api:
        group = await api.set_ad_group_status("MLM", "AG-1", "paused", campaign_id=5)
    assert group.status == "paused"


# -- call hook ---------------------------------------------------------------------------------


async def test_call_hook_reports_every_attempt(harness: Harness) -> None:
    answers = iter(
        [
            json_response({"error": "internal_server_error"}, 500, request_id="r1"),
            json_response(item_json("MLM1"), request_id="r2"),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    async with harness.client(handler) as api:
        await api.get_item("MLM1")
    first, second = harness.calls
    assert (first.method, first.path, first.status, first.request_id, first.attempt, first.error) == (
        "GET",
        "/items/MLM1",
        500,
        "r1",
        1,
        "internal_server_error",
    )
    assert (second.status, second.request_id, second.attempt, second.error) == (200, "r2", 2, None)
    assert first.at.tzinfo is not None and first.duration_ms >= 0
    assert first.query == "include_attributes=all"
    assert "APP_USR" not in repr(first)


async def test_failing_hook_does_not_fail_the_call(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(item_json("MLM1"))

    def bad_hook(record: meli.CallRecord) -> None:
        raise RuntimeError("sheet closed")

    async with harness.client(handler) as api:
        api._requester.on_call = bad_hook
        assert (await api.get_item("MLM1")).id == "MLM1"


async def test_access_token_from_config_is_used_statically(harness: Harness) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return json_response({"id": 7})

    config = ClientConfig.from_env(
        {"MLTAKEDOWN_API_URL": "https://api.test", "MLTAKEDOWN_ACCESS_TOKEN": "APP_USR-ENV"}
    )
    async with meli.MeliClient(config, transport=httpx.MockTransport(handler), rate=harness.limiter) as api:
        assert (await api.me()).id == 7
    assert seen == ["Bearer APP_USR-ENV"]
