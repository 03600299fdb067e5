"""Seller item search: filters, offset paging limits, scan with renewed scroll ids, 403."""

from __future__ import annotations

from typing import Any

from mltakedown.sandbox import seed
from mltakedown.sandbox.seed import TRICKY

from .conftest import Sandbox, open_sandbox

SEARCH = "/users/1001/items/search"


async def _ids(sb: Sandbox, **params: Any) -> list[str]:
    response = await sb.get(SEARCH, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["seller_id"] == "1001" and body["paging"]["total"] == len(body["results"])
    results: list[str] = body["results"]
    return results


async def test_seller_sku_item_and_variation_level(sb: Sandbox) -> None:
    assert await _ids(sb, seller_sku="ACME-BT-0001") == [TRICKY["active_mlm"]]  # not seller B's twin
    assert await _ids(sb, seller_sku=TRICKY["multi_variation_sku"]) == [TRICKY["multi_variation"]]
    assert await _ids(sb, seller_sku=TRICKY["single_variation_sku"]) == [TRICKY["single_variation"]]
    assert sorted(await _ids(sb, seller_sku=TRICKY["ambiguous_sku"])) == sorted(
        [TRICKY["ambiguous_sku_classic"], TRICKY["ambiguous_sku_premium"]]
    )


async def test_sku_forms_match_exactly(sb: Sandbox) -> None:
    assert await _ids(sb, seller_sku="00123") == [TRICKY["leading_zeros"]]
    assert await _ids(sb, seller_sku="123") == []
    assert await _ids(sb, seller_sku="7501234567890") == [TRICKY["ean"]]
    assert await _ids(sb, seller_sku="7.50123E+12") == []
    assert await _ids(sb, seller_sku="Acme Rl 0042 Negro") == [TRICKY["spaced"]]
    assert await _ids(sb, seller_sku="ACME RL 0042 NEGRO") == []


async def test_sku_parameter_searches_seller_custom_field_only(sb: Sandbox) -> None:
    assert await _ids(sb, seller_sku=TRICKY["custom_field_only_sku"]) == []
    assert await _ids(sb, sku=TRICKY["custom_field_only_sku"]) == [TRICKY["custom_field_only"]]


async def test_status_tags_catalog_and_user_product_filters(sb: Sandbox) -> None:
    pending = await _ids(sb, status="pending")
    assert set(pending) == {
        TRICKY[k]
        for k in (
            "under_review_warning",
            "under_review_held",
            "under_review_pending_documentation",
            "under_review_forbidden",
            "under_review_waiting_for_patch",
        )
    }
    assert await _ids(sb, status="paused", tags="moderation_penalty") == [TRICKY["paused_moderation_penalty"]]
    assert await _ids(sb, catalog_listing="true") == [TRICKY["catalog_listing"]]
    assert TRICKY["catalog_listing"] not in await _ids(sb, catalog_listing="false")
    assert await _ids(sb, user_product_id=TRICKY["user_product_id"]) == [
        TRICKY["user_product_item"],
        TRICKY["user_product_sibling"],
    ]
    closed = await _ids(sb, status="closed")
    assert TRICKY["closed_recent"] in closed and TRICKY["deleted"] not in closed


async def test_search_of_another_seller_is_403(sb: Sandbox) -> None:
    response = await sb.get("/users/2002/items/search")
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert (await sb.get("/users/2002/items/search", token=seed.TOKEN_B)).status_code == 200


async def test_offset_paging_limits() -> None:
    async with open_sandbox(extra_items=1200) as sb:
        first = (await sb.get(SEARCH, limit=100, offset=0)).json()
        assert first["paging"]["total"] > 1200 and len(first["results"]) == 100
        second = (await sb.get(SEARCH, limit=100, offset=100)).json()
        assert not set(first["results"]) & set(second["results"])
        assert (await sb.get(SEARCH, limit=100, offset=900)).status_code == 200
        beyond = await sb.get(SEARCH, limit=100, offset=901)
        assert beyond.status_code == 400 and beyond.json()["status"] == 400
        assert (await sb.get(SEARCH, limit=101)).status_code == 400
        default = (await sb.get(SEARCH)).json()
        assert default["paging"]["limit"] == 50 and len(default["results"]) == 50


async def test_scan_walks_everything_with_renewed_scroll_ids() -> None:
    async with open_sandbox(extra_items=1234) as sb:
        total = (await sb.get(SEARCH, limit=1)).json()["paging"]["total"]
        seen: list[str] = []
        scroll_ids: list[str] = []
        response = (await sb.get(SEARCH, search_type="scan", limit=100)).json()
        while response["results"]:
            seen += response["results"]
            scroll_ids.append(response["scroll_id"])
            response = (
                await sb.get(SEARCH, search_type="scan", limit=100, scroll_id=response["scroll_id"])
            ).json()
        assert response["scroll_id"] is None
        assert len(seen) == len(set(seen)) == total
        assert len(set(scroll_ids)) == len(scroll_ids)
        # An id is good for one call only.
        stale = await sb.get(SEARCH, search_type="scan", limit=100, scroll_id=scroll_ids[0])
        assert stale.status_code == 400


async def test_scroll_expires_after_five_minutes(sb: Sandbox) -> None:
    first = (await sb.get(SEARCH, search_type="scan", limit=5)).json()
    sb.world.clock.advance(299)
    second = (await sb.get(SEARCH, search_type="scan", limit=5, scroll_id=first["scroll_id"])).json()
    assert len(second["results"]) == 5
    sb.world.clock.advance(301)
    expired = await sb.get(SEARCH, search_type="scan", limit=5, scroll_id=second["scroll_id"])
    assert expired.status_code == 400


async def test_scan_with_filters(sb: Sandbox) -> None:
    body = (await sb.get(SEARCH, search_type="scan", limit=100, status="paused")).json()
    assert TRICKY["paused_by_seller"] in body["results"] and TRICKY["active_mlm"] not in body["results"]


async def test_deleted_variation_sku_is_no_longer_found(sb: Sandbox) -> None:
    item = await sb.item(TRICKY["multi_variation"])
    keep = [{"id": v["id"]} for v in item["variations"][:3]]  # drops the AZU-G variation
    assert await _ids(sb, seller_sku=TRICKY["multi_variation_sku"]) == [TRICKY["multi_variation"]]
    assert (await sb.put(f"/items/{TRICKY['multi_variation']}", {"variations": keep})).status_code == 200
    assert await _ids(sb, seller_sku=TRICKY["multi_variation_sku"]) == []
    assert await _ids(sb, seller_sku="ACME-TS-0009-NEG-M") == [TRICKY["multi_variation"]]


async def test_relisted_item_is_found_by_sku(sb: Sandbox) -> None:
    body = {"price": 10, "quantity": 1, "listing_type_id": "gold_special"}
    new = (await sb.post(f"/items/{TRICKY['closed_recent']}/relist", body)).json()
    assert await _ids(sb, seller_sku="ACME-DR-0012") == [TRICKY["closed_recent"], new["id"]]
