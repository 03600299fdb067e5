"""PUT /items/{id}: the status machine of ml-api.md §4 with its exact error bodies; relist."""

from __future__ import annotations

from typing import Any

from mltakedown.sandbox.clock import DAY
from mltakedown.sandbox.seed import TRICKY

from .conftest import Sandbox, open_sandbox

NOT_MODIFIABLE = {
    "department": "items",
    "cause_id": 340,
    "type": "error",
    "code": "item.status.not_modifiable",
    "message": "status is not modifiable.",
}
NO_STOCK = {
    "department": "items",
    "cause_id": 323,
    "type": "error",
    "code": "item.status.invalid",
    "references": ["item.status", "item.available_quantity"],
    "message": "Is not possible to activate an item without stock.",
}


async def _put(sb: Sandbox, key: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = await sb.put(f"/items/{TRICKY[key]}", body)
    payload: dict[str, Any] = response.json()
    return response.status_code, payload


async def test_pause_then_activate(sb: Sandbox) -> None:
    code, item = await _put(sb, "active_mlm", {"status": "paused"})
    assert code == 200 and item["status"] == "paused" and item["sub_status"] == ["paused_by_seller"]
    assert item["id"] == TRICKY["active_mlm"] and item["available_quantity"] == 140  # full item back
    code, item = await _put(sb, "active_mlm", {"status": "active"})
    assert code == 200 and item["status"] == "active" and item["sub_status"] == []


async def test_close_is_final(sb: Sandbox) -> None:
    code, item = await _put(sb, "active_mla", {"status": "closed"})
    assert code == 200 and item["status"] == "closed"
    for body in ({"status": "active"}, {"status": "paused"}, {"available_quantity": 3}):
        code, error = await _put(sb, "active_mla", body)
        assert code == 400
        assert error == {
            "message": f"Cannot update item {TRICKY['active_mla']} [status:closed, has_bids:false]",
            "error": "validation_error",
            "status": 400,
            "cause": [],
        }


async def test_closed_with_sales_reports_has_bids(sb: Sandbox) -> None:
    code, error = await _put(sb, "closed_recent", {"status": "active"})
    assert code == 400 and error["message"].endswith("[status:closed, has_bids:true]")


async def test_delete_only_when_closed(sb: Sandbox) -> None:
    code, error = await _put(sb, "active_mco", {"deleted": "true"})
    assert code == 400 and error["error"] == "validation_error"
    assert (await _put(sb, "active_mco", {"status": "closed"}))[0] == 200
    code, item = await _put(sb, "active_mco", {"deleted": "true"})
    assert code == 200 and item["status"] == "closed" and item["sub_status"] == ["deleted"]
    # Gone from the seller's lists.
    found = (await sb.get("/users/1001/items/search", seller_sku="ACME-CS-0003")).json()
    assert found["results"] == []


async def test_platform_controlled_statuses_refuse_status_changes(sb: Sandbox) -> None:
    for key, status in (
        ("under_review_warning", "under_review"),
        ("under_review_held", "under_review"),
        ("under_review_pending_documentation", "under_review"),
        ("under_review_forbidden", "under_review"),
        ("inactive", "inactive"),
    ):
        code, error = await _put(sb, key, {"status": "paused"})
        assert code == 400, key
        assert error == {
            "message": f"Cannot update item {TRICKY[key]} [status:{status}, has_bids:false]",
            "error": "validation_error",
            "status": 400,
            "cause": [NOT_MODIFIABLE],
        }


async def test_stock_on_platform_controlled_items_is_field_not_updatable(sb: Sandbox) -> None:
    code, error = await _put(sb, "under_review_held", {"available_quantity": 0})
    assert code == 400 and error["error"] == "validation_error"
    assert [c["code"] for c in error["cause"]] == ["field_not_updatable"]
    assert error["cause"][0]["message"] == "available_quantity is not modifiable."
    # waiting_for_patch still takes stock edits (but not status changes).
    code, item = await _put(sb, "under_review_waiting_for_patch", {"available_quantity": 3})
    assert code == 200 and item["available_quantity"] == 3 and item["status"] == "under_review"
    code, _ = await _put(sb, "under_review_forbidden", {"available_quantity": 3})
    assert code == 400


async def test_activate_without_stock_is_323(sb: Sandbox) -> None:
    code, error = await _put(sb, "zero_stock", {"status": "active"})
    assert code == 400
    assert error == {
        "message": "Validation error",
        "error": "validation_error",
        "status": 400,
        "cause": [NO_STOCK],
    }
    code, item = await _put(sb, "zero_stock", {"available_quantity": 5, "status": "active"})
    assert code == 200 and item["status"] == "active"


async def test_stock_zero_auto_pauses_and_restock_resumes(sb: Sandbox) -> None:
    code, item = await _put(sb, "active_mlc", {"available_quantity": 0})
    assert code == 200 and (item["status"], item["sub_status"]) == ("paused", ["out_of_stock"])
    code, item = await _put(sb, "active_mlc", {"available_quantity": 7})
    assert (item["status"], item["sub_status"], item["available_quantity"]) == ("active", [], 7)
    code, item = await _put(sb, "paused_out_of_stock", {"available_quantity": 2})
    assert item["status"] == "active"


async def test_restock_keeps_a_seller_pause(sb: Sandbox) -> None:
    await _put(sb, "active_mlb", {"available_quantity": 0})
    code, item = await _put(sb, "active_mlb", {"status": "paused"})
    assert item["sub_status"] == ["paused_by_seller", "out_of_stock"]
    code, item = await _put(sb, "active_mlb", {"available_quantity": 9})
    assert (item["status"], item["sub_status"]) == ("paused", ["paused_by_seller"])


async def test_moderation_penalty_can_be_reactivated(sb: Sandbox) -> None:
    code, item = await _put(sb, "paused_moderation_penalty", {"status": "active"})
    assert code == 200 and item["status"] == "active" and "moderation_penalty" not in item["tags"]


async def test_variation_stock_write_and_omitted_variation_is_deleted(sb: Sandbox) -> None:
    before = await sb.item(TRICKY["multi_variation"])
    v = [x["id"] for x in before["variations"]]
    body = {"variations": [{"id": v[0], "available_quantity": 0}, {"id": v[1]}, {"id": v[2]}]}
    code, item = await _put(sb, "multi_variation", body)
    assert code == 200
    assert [x["id"] for x in item["variations"]] == v[:3]
    assert [x["available_quantity"] for x in item["variations"]] == [0, 8, 15]
    assert item["available_quantity"] == 23 and item["status"] == "active"
    code, error = await _put(sb, "multi_variation", {"variations": [{"id": 42, "available_quantity": 1}]})
    assert code == 400 and error["cause"][0]["code"] == "item.variations.id.invalid"
    code, error = await _put(sb, "multi_variation", {"available_quantity": 1})
    assert code == 400


async def test_all_variations_to_zero_pauses(sb: Sandbox) -> None:
    item = await sb.item(TRICKY["single_variation"])
    code, after = await _put(
        sb, "single_variation", {"variations": [{"id": item["variations"][0]["id"], "available_quantity": 0}]}
    )
    assert code == 200 and (after["status"], after["sub_status"]) == ("paused", ["out_of_stock"])


async def test_full_items_refuse_stock_but_pause(sb: Sandbox) -> None:
    code, error = await _put(sb, "full_item", {"available_quantity": 0})
    assert code == 400 and error["cause"][0]["code"] == "field_not_updatable"
    code, item = await _put(sb, "full_item", {"status": "paused"})
    assert code == 200 and item["status"] == "paused" and item["inventory_id"] == TRICKY["full_inventory_id"]
    assert item["available_quantity"] == 320


async def test_invalid_status_value(sb: Sandbox) -> None:
    code, error = await _put(sb, "active_mlm", {"status": "under_review"})
    assert code == 400 and error["cause"][0]["code"] == "item.status.invalid"


async def test_conflict_window() -> None:
    async with open_sandbox(conflict_window_s=3.0) as sb:
        assert (await _put(sb, "active_mlm", {"status": "paused"}))[0] == 200
        code, error = await _put(sb, "active_mlm", {"status": "active"})
        assert code == 409
        assert error == {
            "message": "item optimistic locking error: conflict",
            "error": "conflict",
            "status": 409,
            "cause": [],
        }
        assert (await _put(sb, "active_mlb", {"status": "paused"}))[0] == 200  # other items unaffected
        sb.world.clock.advance(3.1)
        assert (await _put(sb, "active_mlm", {"status": "active"}))[0] == 200


async def test_last_updated_and_stop_time_move(sb: Sandbox) -> None:
    before = await sb.item(TRICKY["active_mlm"])
    sb.world.clock.advance(3600)
    code, item = await _put(sb, "active_mlm", {"status": "closed"})
    assert item["last_updated"] > before["last_updated"]
    assert item["stop_time"] < before["stop_time"]


async def test_closing_turns_unanswered_questions_closed(sb: Sandbox) -> None:
    await _put(sb, "questions_item", {"status": "closed"})
    found = (await sb.get("/questions/search", item_id=TRICKY["questions_item"], status="UNANSWERED")).json()
    assert found["total"] == 0


async def test_relist_within_60_days_makes_new_item(sb: Sandbox) -> None:
    old = TRICKY["closed_recent"]
    response = await sb.post(
        f"/items/{old}/relist", {"price": 999.0, "quantity": 4, "listing_type_id": "gold_special"}
    )
    assert response.status_code == 201
    new = response.json()
    assert new["id"] != old and new["id"].startswith("MLM")
    assert (new["status"], new["parent_item_id"], new["available_quantity"], new["price"]) == (
        "active",
        old,
        4,
        999.0,
    )
    assert new["id"][3:] in new["permalink"]
    assert (await sb.item(new["id"]))["seller_id"] == 1001
    old_view = await sb.item(old)
    assert (
        old_view["status"] == "closed"
        and {"id": new["id"], "variation_id": None, "stock_relation": 0} in old_view["item_relations"]
    )


async def test_relist_refused_outside_window_and_when_not_closed(sb: Sandbox) -> None:
    body = {"price": 10, "quantity": 1, "listing_type_id": "gold_special"}
    late = await sb.post(f"/items/{TRICKY['closed_old']}/relist", body)
    assert late.status_code == 400 and late.json()["cause"][0]["code"] == "item.relist.expired"
    active = await sb.post(f"/items/{TRICKY['active_mlm']}/relist", body)
    assert active.status_code == 400
    deleted = await sb.post(f"/items/{TRICKY['deleted']}/relist", body)
    assert deleted.status_code == 400
    # The window runs on the world clock: 51 more days make the recent one 61 days old.
    sb.world.clock.advance(51 * DAY)
    fresh = sb.world.issue_tokens(1001)["access_token"]  # the seeded token expired meanwhile
    assert (await sb.post(f"/items/{TRICKY['closed_recent']}/relist", body, token=fresh)).status_code == 400


async def test_relist_a_variation_item(sb: Sandbox) -> None:
    await _put(sb, "multi_variation", {"status": "closed"})
    before = await sb.item(TRICKY["multi_variation"])
    first = before["variations"][0]["id"]
    response = await sb.post(
        f"/items/{TRICKY['multi_variation']}/relist",
        {
            "price": 200,
            "listing_type_id": "gold_pro",
            "variations": [{"id": first, "price": 200, "quantity": 2}],
        },
    )
    assert response.status_code == 201
    new = response.json()
    assert [v["available_quantity"] for v in new["variations"]] == [2, 8, 15, 6]
    assert first not in [v["id"] for v in new["variations"]]
