"""Orders and shipments (pre-checks), questions, Product Ads advertisers and ad groups."""

from __future__ import annotations

from mltakedown.sandbox import seed
from mltakedown.sandbox.seed import TRICKY

from .conftest import Sandbox


async def _shipment_statuses(sb: Sandbox, item_id: str) -> list[str]:
    orders = (await sb.get("/orders/search", seller="1001", item=item_id, **{"order.status": "paid"})).json()
    statuses = []
    for order in orders["results"]:
        response = await sb.client.get(
            f"/shipments/{order['shipping']['id']}",
            headers={**sb.auth(seed.TOKEN_A), "x-format-new": "true"},
        )
        assert response.status_code == 200
        statuses.append(response.json()["status"])
    return sorted(statuses)


async def test_orders_and_shipments_per_item(sb: Sandbox) -> None:
    assert await _shipment_statuses(sb, TRICKY["order_pending_item"]) == ["pending"]
    assert await _shipment_statuses(sb, TRICKY["order_handling_item"]) == ["handling"]
    assert await _shipment_statuses(sb, TRICKY["order_ready_to_ship_item"]) == [
        "ready_to_ship",
        "ready_to_ship",
    ]
    assert await _shipment_statuses(sb, TRICKY["order_shipped_only_item"]) == ["delivered", "shipped"]


async def test_cancelled_orders_are_hidden_and_paging(sb: Sandbox) -> None:
    assert (await sb.get("/orders/search", seller="1001", item=TRICKY["active_mlb"])).json()["results"] == []
    everything = (await sb.get("/orders/search", seller="1001")).json()
    assert everything["paging"]["total"] == 8
    page = (await sb.get("/orders/search", seller="1001", limit=3, offset=6)).json()
    assert len(page["results"]) == 2
    assert all("_item_ids" not in o for o in everything["results"])
    assert all(o["status"] != "cancelled" for o in everything["results"])


async def test_orders_of_another_seller_are_403(sb: Sandbox) -> None:
    response = await sb.get("/orders/search", seller="2002")
    assert response.status_code == 403
    shipment = sb.world.orders[0]["shipping"]["id"]
    assert (await sb.get(f"/shipments/{shipment}", token=seed.TOKEN_B)).status_code == 403
    assert (await sb.get("/shipments/1")).status_code == 404


async def test_questions(sb: Sandbox) -> None:
    item = TRICKY["questions_item"]
    by_item_id = (
        await sb.get("/questions/search", item_id=item, status="UNANSWERED", api_version="4")
    ).json()
    by_item = (await sb.get("/questions/search", item=item, status="UNANSWERED", api_version="4")).json()
    assert by_item_id["total"] == by_item["total"] == 2
    assert {q["item_id"] for q in by_item_id["questions"]} == {item}
    mine = (await sb.get("/my/received_questions/search", status="UNANSWERED")).json()
    assert mine["total"] == 3
    theirs = (await sb.get("/my/received_questions/search", token=seed.TOKEN_B, status="UNANSWERED")).json()
    assert theirs["total"] == 0


async def test_advertisers(sb: Sandbox) -> None:
    response = await sb.client.get(
        "/advertising/advertisers",
        params={"product_id": "PADS"},
        headers={**sb.auth(seed.TOKEN_A), "Api-Version": "1"},
    )
    sites = {a["site_id"]: a["advertiser_id"] for a in response.json()["advertisers"]}
    assert sites == {"MLM": 90001, "MLB": 90002, "MLA": 90003}
    none = await sb.get("/advertising/advertisers", token=seed.TOKEN_B, product_id="PADS")
    assert none.status_code == 404
    assert none.json() == {
        "status": 404,
        "error": "not_found",
        "description": "No permissions found for user_id 2002",
    }


async def test_ad_group_search_shape_and_effective_status(sb: Sandbox) -> None:
    ids = [TRICKY["active_ad_item"], TRICKY["hold_ad_item"], TRICKY["active_mco"]]
    path = "/advertising/MLM/advertisers/90001/product_ads/ad_groups/search"
    body = (await sb.get(path, **{"filters[item_ids]": ",".join(ids)})).json()
    assert body["paging"] == {"total": 2, "offset": 0, "limit": 50}
    by_item = {g["item_ids"][0]: g for g in body["results"]}
    active = by_item[TRICKY["active_ad_item"]]
    assert set(active) >= {"id", "status", "campaign_id", "item_ids", "grouping_type"}
    assert (active["status"], active["effective_status"], active["grouping_type"]) == (
        "active",
        "active",
        "ITEM",
    )
    held = by_item[TRICKY["hold_ad_item"]]  # its item is paused by the seller
    assert (held["status"], held["effective_status"]) == ("active", "hold")
    # Pausing the listing holds the ad without changing the ad group's own status.
    await sb.put(f"/items/{TRICKY['active_ad_item']}", {"status": "paused"})
    again = (await sb.get(path, **{"filters[item_ids]": TRICKY["active_ad_item"]})).json()["results"][0]
    assert (again["status"], again["effective_status"]) == ("active", "hold")


async def test_ad_group_search_rules(sb: Sandbox) -> None:
    path = "/advertising/MLB/advertisers/90002/product_ads/ad_groups/search"
    assert (await sb.get(path, **{"filters[item_id]": TRICKY["paused_ad_item"]})).status_code == 400
    too_many = ",".join(f"MLB{n}" for n in range(51))
    assert (await sb.get(path, **{"filters[item_ids]": too_many})).status_code == 400
    assert (await sb.get(path, token=seed.TOKEN_B, **{"filters[item_ids]": "x"})).status_code == 403
    wrong_site = "/advertising/MLA/advertisers/90002/product_ads/ad_groups/search"
    assert (await sb.get(wrong_site, **{"filters[item_ids]": "x"})).status_code == 404
    paused = (await sb.get(path, **{"filters[item_ids]": TRICKY["paused_ad_item"]})).json()["results"][0]
    assert (paused["status"], paused["effective_status"]) == ("paused", "paused")


async def test_set_ad_group_status(sb: Sandbox) -> None:
    response = await sb.put("/marketplace/advertising/MLB/product_ads/ad_groups/AG1003", {"status": "active"})
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert sb.world.ad_groups["AG1003"]["status"] == "active"
    assert (
        await sb.put("/marketplace/advertising/MLB/product_ads/ad_groups/AG1003", {"status": "x"})
    ).status_code == 400
    assert (
        await sb.put("/marketplace/advertising/MLB/product_ads/ad_groups/AG9", {"status": "paused"})
    ).status_code == 404
    other = await sb.put(
        "/marketplace/advertising/MLB/product_ads/ad_groups/AG1003", {"status": "paused"}, token=seed.TOKEN_B
    )
    assert other.status_code == 403
    assert [w.status for w in sb.world.writes] == [200, 400, 404, 403]
