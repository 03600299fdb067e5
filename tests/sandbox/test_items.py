"""Item reads: owner vs public view, multiget and bulk shapes, limits, attribute selection, 403s."""

from __future__ import annotations

from mltakedown.sandbox import seed
from mltakedown.sandbox.seed import TRICKY

from .conftest import Sandbox

FORBIDDEN = {
    "message": "The caller is not authorized to access this resource",
    "error": "forbidden",
    "status": 403,
    "cause": [],
}


async def test_owner_sees_exact_stock_public_sees_bucket(sb: Sandbox) -> None:
    item_id = TRICKY["active_mlm"]  # 140 in stock
    own = (await sb.get(f"/items/{item_id}")).json()
    other = (await sb.get(f"/items/{item_id}", token=seed.TOKEN_B)).json()
    anonymous = (await sb.get(f"/items/{item_id}", token=None)).json()
    assert own["available_quantity"] == 140
    assert other["available_quantity"] == anonymous["available_quantity"] == 100
    assert own["seller_id"] == 1001 and own["currency_id"] == "MXN"
    assert own["permalink"].startswith("https://articulo.mercadolibre.com.mx/MLM-2156300011-")
    assert not any(k.startswith("_") for k in own)


async def test_unknown_item_404_body(sb: Sandbox) -> None:
    response = await sb.get("/items/MLM1")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Item with id MLM1 not found",
        "error": "not_found",
        "status": 404,
        "cause": [],
    }


async def test_variation_attributes_only_with_include_attributes_all(sb: Sandbox) -> None:
    path = f"/items/{TRICKY['multi_variation']}"
    plain = (await sb.get(path)).json()
    full = (await sb.get(path, include_attributes="all")).json()
    assert all("attributes" not in v for v in plain["variations"])
    skus = [a["value_name"] for v in full["variations"] for a in v["attributes"] if a["id"] == "SELLER_SKU"]
    assert TRICKY["multi_variation_sku"] in skus and len(skus) == 4


async def test_attributes_filter(sb: Sandbox) -> None:
    body = (await sb.get(f"/items/{TRICKY['paused_by_seller']}", attributes="id,status,sub_status")).json()
    assert body == {"id": TRICKY["paused_by_seller"], "status": "paused", "sub_status": ["paused_by_seller"]}


async def test_multiget_keeps_request_order_and_reports_missing(sb: Sandbox) -> None:
    ids = [TRICKY["active_mlb"], "MLB999", TRICKY["active_mlm"], TRICKY["seller_b_item"]]
    response = await sb.get("/items", ids=",".join(ids), attributes="id,status,available_quantity")
    assert response.status_code == 200
    entries = response.json()
    assert [e["code"] for e in entries] == [200, 404, 200, 200]
    assert [e["body"].get("id") for e in entries] == [ids[0], None, ids[2], ids[3]]
    assert entries[1]["body"] == {
        "message": "Item with id MLB999 not found",
        "error": "not_found",
        "status": 404,
        "cause": [],
    }
    assert set(entries[0]["body"]) == {"id", "status", "available_quantity"}
    assert entries[2]["body"]["available_quantity"] == 140  # own item: exact
    assert entries[3]["body"]["available_quantity"] == 1  # seller B's item: bucket


async def test_multiget_limit_is_20(sb: Sandbox) -> None:
    ids = [seed.item_id("MLM", k) for k in range(11, 32)]
    assert (await sb.get("/items", ids=",".join(ids[:20]))).status_code == 200
    too_many = await sb.get("/items", ids=",".join(ids))
    assert too_many.status_code == 400
    assert too_many.json()["status"] == 400 and too_many.json()["cause"] == []


async def test_bulk_shape(sb: Sandbox) -> None:
    ids = [TRICKY["active_mla"], "MLA1"]
    entries = (await sb.get("/items/bulk", ids=",".join(ids), attributes="body.id,body.status")).json()
    assert entries[0] == {"id": ids[0], "status_code": 200, "body": {"id": ids[0], "status": "active"}}
    assert entries[1]["id"] == "MLA1" and entries[1]["status_code"] == 404


async def test_multiget_with_bad_token_is_401(sb: Sandbox) -> None:
    assert (await sb.get("/items", token="bad", ids=TRICKY["active_mlm"])).status_code == 401


async def test_writes_on_another_sellers_item_are_403(sb: Sandbox) -> None:
    target = TRICKY["seller_b_lookalike"]
    response = await sb.put(f"/items/{target}", {"status": "paused"})
    assert response.status_code == 403 and response.json() == FORBIDDEN
    assert (
        await sb.post(
            f"/items/{target}/relist", {"price": 1, "quantity": 1, "listing_type_id": "gold_special"}
        )
    ).status_code == 403
    assert sb.world.items[target]["status"] == "active"
    assert [(w.item, w.status) for w in sb.world.writes] == [(target, 403), (target, 403)]
