"""The item status machine of ml-api.md §4: ``PUT /items/{id}`` and ``POST /items/{id}/relist``.

Pure functions over the :class:`~.world.World`; they raise :class:`~.errors.ApiError` with the
exact bodies the real API returns.

Choice documented here: ml-api.md's state table shows ``sub_status []`` after a seller pause while
its sub-status list names ``paused_by_seller`` as "the seller's manual pause". We set
``sub_status ["paused_by_seller"]`` on a seller pause, because the restock rule ("restocking
reactivates unless the seller paused it") needs that marker to be visible to clients.
"""

from __future__ import annotations

import copy
from typing import Any

from .clock import DAY, iso
from .errors import (
    ACTIVATE_WITHOUT_STOCK,
    STATUS_NOT_MODIFIABLE,
    bad_request,
    cannot_update,
    conflict,
    field_not_updatable,
    item_cause,
    validation_error,
)
from .world import Caller, World

JSON = dict[str, Any]

RELIST_WINDOW_S = 60 * DAY
SETTABLE_STATUSES = ("active", "paused", "closed")
# Statuses Mercado Libre controls: no status change, no stock change (ml-api.md §4).
PLATFORM_STATUSES = ("under_review", "inactive", "payment_required")
# Sub-statuses that block every edit, stock included.
HARD_BLOCK_SUB = ("forbidden", "banned", "freezed", "suspended", "suspended_for_prevention")
# Under review but still accepting stock edits (community report, ml-api.md §4).
STOCK_EDITABLE_SUB = ("waiting_for_patch",)
_KNOWN_FIELDS = {"status", "available_quantity", "variations", "deleted", "price"}


def update_item(world: World, caller: Caller, item_id: str, body: Any) -> JSON:
    """Apply a ``PUT /items/{id}`` body and return the updated internal record."""
    item = world.owned_item(caller, item_id)
    if not isinstance(body, dict) or not body:
        raise bad_request("The body must be a non-empty JSON object", "bad_request")
    unknown = sorted(set(body) - _KNOWN_FIELDS)
    if unknown:
        raise validation_error(f"Unsupported fields for this sandbox: {', '.join(unknown)}")
    now = world.clock.now()
    window = world.options.conflict_window_s
    if window > 0 and now - world.last_write_at.get(item_id, float("-inf")) < window:
        raise conflict()

    has_bids = int(item["sold_quantity"]) > 0
    status = str(item["status"])
    subs: list[str] = list(item["sub_status"])
    if status == "closed":
        if "deleted" in body and "deleted" not in subs:
            return _delete(world, item, body, now)
        raise cannot_update(item_id, status, has_bids)
    if "deleted" in body:
        raise validation_error(
            f"Item {item_id} must be closed before it can be deleted",
            [item_cause(324, "item.deleted.invalid", "Only closed items can be deleted.", ["item.deleted"])],
        )
    _check_platform_control(item, body, has_bids)

    work = copy.deepcopy(item)
    stock_changed = _apply_stock(world, work, body)
    if "price" in body:
        work["price"] = _number(body["price"], "price")
    if stock_changed:
        _auto_pause_or_resume(work)
    if "status" in body:
        _apply_status(work, str(body["status"]), now)

    work["last_updated"] = iso(now)
    if work["status"] == "closed":
        # A closed item's unanswered questions can no longer be answered (ml-api.md §10).
        for question in world.questions:
            if question["item_id"] == item_id and question["status"] == "UNANSWERED":
                question["status"] = "CLOSED_UNANSWERED"
    item.clear()
    item.update(work)
    world.last_write_at[item_id] = now
    return item


def _check_platform_control(item: JSON, body: JSON, has_bids: bool) -> None:
    status = str(item["status"])
    subs: list[str] = list(item["sub_status"])
    touches_stock = "available_quantity" in body or "variations" in body
    blocked_hard = any(s in HARD_BLOCK_SUB for s in subs)
    if status not in PLATFORM_STATUSES and not blocked_hard:
        return
    if "status" in body:
        raise cannot_update(item["id"], status, has_bids, [STATUS_NOT_MODIFIABLE])
    if touches_stock:
        stock_ok = (
            status == "under_review" and any(s in STOCK_EDITABLE_SUB for s in subs) and not blocked_hard
        )
        if not stock_ok:
            raise field_not_updatable("available_quantity")
        return
    raise cannot_update(item["id"], status, has_bids, [STATUS_NOT_MODIFIABLE])


def _delete(world: World, item: JSON, body: JSON, now: float) -> JSON:
    if str(body["deleted"]).lower() != "true":
        raise bad_request('deleted must be the string "true"', "bad_request")
    item["sub_status"] = ["deleted"]
    item["last_updated"] = iso(now)
    world.last_write_at[item["id"]] = now
    return item


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise validation_error(f"{name} must be a number")
    return float(value)


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise validation_error(
            "Validation error",
            [
                item_cause(
                    21,
                    "item.available_quantity.invalid",
                    "available_quantity must be a non-negative integer.",
                    ["item.available_quantity"],
                )
            ],
        )
    return value


def _apply_stock(world: World, item: JSON, body: JSON) -> bool:
    """Apply ``available_quantity`` / ``variations``; return whether stock was written."""
    if "available_quantity" not in body and "variations" not in body:
        return False
    if item["shipping"].get("logistic_type") == "fulfillment":
        # FULL stock sits in a Mercado Libre warehouse and cannot be edited via the API.
        raise field_not_updatable(
            "available_quantity", "Stock of fulfillment items is managed by Mercado Libre."
        )
    if "variations" in body:
        _apply_variations(world, item, body["variations"])
    if "available_quantity" in body:
        if item["variations"]:
            raise validation_error(
                "Validation error",
                [
                    item_cause(
                        22,
                        "item.available_quantity.invalid",
                        "Items with variations take available_quantity per variation.",
                        ["item.available_quantity"],
                    )
                ],
            )
        item["available_quantity"] = _quantity(body["available_quantity"])
    return True


def _apply_variations(world: World, item: JSON, entries: Any) -> None:
    """``{"variations":[{"id":..,"available_quantity":..},{"id":..}]}``: omitted ids are deleted."""
    if not isinstance(entries, list) or not entries:
        raise validation_error("variations must be a non-empty list")
    by_id = {int(v["id"]): v for v in item["variations"]}
    if not by_id:
        raise validation_error(f"Item {item['id']} has no variations")
    kept: list[JSON] = []
    for entry in entries:
        if not isinstance(entry, dict) or "id" not in entry:
            raise validation_error("Each variation needs an id")
        try:
            variation = by_id[int(entry["id"])]
        except (KeyError, TypeError, ValueError):
            raise validation_error(
                "Validation error",
                [
                    item_cause(
                        30,
                        "item.variations.id.invalid",
                        f"Variation {entry['id']} does not exist.",
                        ["item.variations.id"],
                    )
                ],
            ) from None
        if "available_quantity" in entry:
            variation["available_quantity"] = _quantity(entry["available_quantity"])
        kept.append(variation)
    if len(kept) != len(by_id):
        world.catalog_version += 1  # variation SKUs disappear with the deleted variations
    item["variations"] = kept  # a variation left out of the list is deleted, as on the real API
    item["available_quantity"] = sum(int(v["available_quantity"]) for v in kept)


def _auto_pause_or_resume(item: JSON) -> None:
    """Stock 0 on an active item pauses it (out_of_stock); restock resumes unless the seller paused."""
    qty = int(item["available_quantity"])
    subs: list[str] = list(item["sub_status"])
    if item["status"] == "active" and qty == 0:
        item["status"] = "paused"
        item["sub_status"] = ["out_of_stock"]
    elif item["status"] == "paused" and qty > 0 and "out_of_stock" in subs:
        if "paused_by_seller" in subs:
            item["sub_status"] = [s for s in subs if s != "out_of_stock"]
        else:
            item["status"] = "active"
            item["sub_status"] = []


def _apply_status(item: JSON, target: str, now: float) -> None:
    if target not in SETTABLE_STATUSES:
        raise validation_error(
            "Validation error",
            [item_cause(323, "item.status.invalid", f"Invalid status {target}.", ["item.status"])],
        )
    if target == "paused":
        subs = [s for s in item["sub_status"] if s not in ("paused_by_seller",)]
        item["status"] = "paused"
        item["sub_status"] = ["paused_by_seller", *subs]
    elif target == "active":
        if int(item["available_quantity"]) <= 0:
            raise validation_error("Validation error", [ACTIVATE_WITHOUT_STOCK])
        item["status"] = "active"
        item["sub_status"] = []
        # A moderation_penalty pause is lifted by the seller's reactivation (ml-api.md §4).
        item["tags"] = [t for t in item["tags"] if t != "moderation_penalty"]
    else:
        item["status"] = "closed"
        item["sub_status"] = []
        item["stop_time"] = iso(now)
        item["_closed_at"] = now


def relist_item(world: World, caller: Caller, item_id: str, body: Any) -> JSON:
    """``POST /items/{id}/relist``: a closed item (≤ 60 days, not deleted) becomes a new item."""
    item = world.owned_item(caller, item_id)
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object")
    now = world.clock.now()
    closed_at = item.get("_closed_at")
    if item["status"] != "closed" or closed_at is None:
        raise validation_error(
            f"Item {item_id} is not closed and cannot be relisted",
            [
                item_cause(
                    901, "item.relist.invalid_status", "Only closed items can be relisted.", ["item.status"]
                )
            ],
        )
    if "deleted" in item["sub_status"] or now - float(closed_at) > RELIST_WINDOW_S:
        raise validation_error(
            f"Item {item_id} cannot be relisted",
            [
                item_cause(
                    902,
                    "item.relist.expired",
                    "Items can only be relisted within 60 days of closing.",
                    ["item.stop_time"],
                )
            ],
        )
    for required in ("price", "quantity", "listing_type_id"):
        if required not in body and not (required == "quantity" and body.get("variations")):
            raise validation_error(f"{required} is required to relist")
    new = copy.deepcopy(item)
    new.pop("_closed_at", None)
    new_id = world.new_relist_id(str(item["site_id"]))
    new.update(
        id=new_id,
        status="active",
        sub_status=[],
        parent_item_id=item_id,
        price=_number(body["price"], "price"),
        listing_type_id=str(body["listing_type_id"]),
        sold_quantity=0,
        date_created=iso(now),
        start_time=iso(now),
        stop_time=iso(now + 7300 * DAY),
        last_updated=iso(now),
    )
    new["permalink"] = str(item["permalink"]).replace(item_id[3:], new_id[3:])
    _relist_variations(world, new, body)
    if not new["variations"]:
        new["available_quantity"] = _quantity(body["quantity"])
    new["initial_quantity"] = new["available_quantity"]
    if int(new["available_quantity"]) == 0:
        new["status"], new["sub_status"] = "paused", ["out_of_stock"]
    world.items[new_id] = new
    world.catalog_version += 1
    # History link both ways: the old item points at its relisted successor.
    item.setdefault("item_relations", []).append({"id": new_id, "variation_id": None, "stock_relation": 0})
    world.last_write_at[new_id] = now
    return new


def _relist_variations(world: World, new: JSON, body: JSON) -> None:
    """Variations get new ids; ``variations:[{id, price, quantity}]`` sets their stock."""
    requested = {int(v["id"]): v for v in body.get("variations") or [] if isinstance(v, dict) and "id" in v}
    for variation in new["variations"]:
        old_id = int(variation["id"])
        variation["id"] = world.new_variation_id()
        variation["sold_quantity"] = 0
        spec = requested.get(old_id)
        if spec is not None:
            variation["available_quantity"] = _quantity(spec.get("quantity", variation["available_quantity"]))
            if "price" in spec:
                variation["price"] = _number(spec["price"], "price")
    if new["variations"]:
        new["available_quantity"] = sum(int(v["available_quantity"]) for v in new["variations"])
