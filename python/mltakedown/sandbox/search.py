"""Read-side queries: seller item search (offset and scan), orders, questions, ad groups."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ApiError, bad_request, envelope
from .views import render_ad_group
from .world import Caller, World, sku_keys

JSON = dict[str, Any]

MAX_LIMIT = 100
OFFSET_CAP = 1000  # offset paging only reaches the first 1000 results
DEFAULT_LIMIT = 50
MAX_AD_GROUP_IDS = 50


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: {raw}") from None
    if value < 0:
        raise bad_request(f"Invalid value for {name}: {raw}")
    return value


def _status_matches(item: JSON, wanted: str) -> bool:
    # status=pending is the moderated set (under_review); other values compare directly.
    statuses = {s.strip() for s in wanted.split(",") if s.strip()}
    effective = "pending" if item["status"] == "under_review" else item["status"]
    return item["status"] in statuses or effective in statuses


def item_filters(params: Mapping[str, str]) -> list[Callable[[JSON], bool]]:
    """The predicates for ``/users/{id}/items/search`` query parameters."""
    preds: list[Callable[[JSON], bool]] = []
    if params.get("seller_sku"):
        sku = (True, params["seller_sku"])
        preds.append(lambda i: sku in sku_keys(i))
    if params.get("sku"):
        custom = (False, params["sku"])
        preds.append(lambda i: custom in sku_keys(i))
    if params.get("status"):
        wanted = params["status"]
        preds.append(lambda i: _status_matches(i, wanted))
    if params.get("catalog_listing"):
        flag = params["catalog_listing"].lower() == "true"
        preds.append(lambda i: bool(i["catalog_listing"]) == flag)
    if params.get("tags"):
        tags = {t.strip() for t in params["tags"].split(",")}
        preds.append(lambda i: bool(tags & set(i["tags"])))
    if params.get("user_product_id"):
        upid = params["user_product_id"]
        preds.append(lambda i: i.get("user_product_id") == upid)
    if params.get("listing_type_id"):
        lt = params["listing_type_id"]
        preds.append(lambda i: i["listing_type_id"] == lt)
    return preds


def matching_item_ids(world: World, seller_id: int, params: Mapping[str, str]) -> list[str]:
    """IDs of the seller's items matching the filters (deleted items are gone from seller lists)."""
    preds = item_filters(params)
    candidates: list[str] | None = None
    index = world.sku_index() if params.get("seller_sku") or params.get("sku") else {}
    if params.get("seller_sku"):
        candidates = index.get((True, params["seller_sku"]), [])
    if params.get("sku"):
        by_custom = index.get((False, params["sku"]), [])
        candidates = by_custom if candidates is None else [i for i in candidates if i in by_custom]
    pool = world.items if candidates is None else {i: world.items[i] for i in candidates}
    return [
        iid
        for iid, item in pool.items()
        if item["seller_id"] == seller_id
        and "deleted" not in item["sub_status"]
        and all(p(item) for p in preds)
    ]


def search_items(world: World, caller: Caller, seller_id: int, params: Mapping[str, str]) -> JSON:
    """``GET /users/{id}/items/search`` with offset paging or ``search_type=scan``."""
    world.require_self(caller, seller_id)
    limit = _int_param(params, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise bad_request(f"Limit must be lower or equal to {MAX_LIMIT}")
    if params.get("search_type") == "scan":
        return _scan(world, seller_id, params, limit)
    offset = _int_param(params, "offset", 0)
    if offset + limit > OFFSET_CAP:
        raise bad_request(
            "The sum of offset and limit can not be greater than 1000. Use search_type=scan instead.",
            "invalid_paging",
        )
    ids = matching_item_ids(world, seller_id, params)
    return {
        "seller_id": str(seller_id),
        "query": params.get("q"),
        "paging": {"limit": limit, "offset": offset, "total": len(ids)},
        "results": ids[offset : offset + limit],
        "orders": [{"id": "stop_time_asc", "name": "Order by stop time asc"}],
        "available_orders": [
            {"id": "stop_time_asc", "name": "Order by stop time asc"},
            {"id": "start_time_desc", "name": "Order by start time desc"},
        ],
    }


def _scan(world: World, seller_id: int, params: Mapping[str, str], limit: int) -> JSON:
    """Scan: the first call snapshots the result set; each call returns a *new* scroll_id."""
    scroll_id = params.get("scroll_id")
    if scroll_id:
        scroll = world.scrolls.pop(scroll_id, None)  # renewed every call: the old id dies
        if scroll is None or scroll.seller_id != seller_id or world.clock.now() >= scroll.expires_at:
            raise bad_request("The scroll_id is invalid or has expired", "invalid_scroll_id")
        ids, position = scroll.ids, scroll.position
    else:
        ids, position = matching_item_ids(world, seller_id, params), 0
    page = ids[position : position + limit]
    next_id = world.new_scroll(ids, position + len(page), seller_id) if page else None
    return {
        "seller_id": str(seller_id),
        "query": params.get("q"),
        "paging": {"limit": limit, "total": len(ids)},
        "results": page,
        "scroll_id": next_id,
    }


def search_orders(world: World, caller: Caller, params: Mapping[str, str]) -> JSON:
    """``GET /orders/search?seller=…``: the seller's own orders, cancelled ones hidden."""
    raw_seller = params.get("seller")
    if not raw_seller:
        raise bad_request("seller or buyer filter is required", "invalid_filter")
    try:
        seller_id = int(raw_seller)
    except ValueError:
        raise bad_request(f"Invalid seller: {raw_seller}") from None
    if seller_id != caller.user_id:
        raise ApiError(
            403, envelope(403, "caller.id.invalid", "Caller is not allowed to see orders of this seller")
        )
    statuses = {s for s in params.get("order.status", "").split(",") if s}
    item_filter = params.get("item")
    limit = _int_param(params, "limit", DEFAULT_LIMIT)
    offset = _int_param(params, "offset", 0)
    if limit > MAX_LIMIT:
        raise bad_request(f"Limit must be lower or equal to {MAX_LIMIT}")
    found = [
        o
        for o in world.orders
        if o["seller"]["id"] == seller_id
        and o["status"] != "cancelled"
        and (not statuses or o["status"] in statuses)
        and (not item_filter or item_filter in o["_item_ids"])
    ]
    if params.get("sort") == "date_asc":
        found.sort(key=lambda o: str(o["date_created"]))
    else:
        found.sort(key=lambda o: str(o["date_created"]), reverse=True)
    page = [{k: v for k, v in o.items() if not k.startswith("_")} for o in found[offset : offset + limit]]
    return {
        "query": None,
        "results": page,
        "sort": {"id": params.get("sort", "date_desc"), "name": "Date"},
        "available_sorts": [{"id": "date_asc", "name": "Date ascending"}],
        "filters": [],
        "paging": {"total": len(found), "offset": offset, "limit": limit},
        "display": "complete",
    }


def search_questions(world: World, params: Mapping[str, str], *, seller_id: int | None = None) -> JSON:
    """``/questions/search`` (by ``item_id`` or the older ``item``) and ``/my/received_questions/search``."""
    item_id = params.get("item_id") or params.get("item")
    if seller_id is None and not item_id:
        raise bad_request("item_id is required", "invalid_filter")
    status = params.get("status")
    limit = _int_param(params, "limit", DEFAULT_LIMIT)
    offset = _int_param(params, "offset", 0)
    found = [
        q
        for q in world.questions
        if (item_id is None or q["item_id"] == item_id)
        and (seller_id is None or q["seller_id"] == seller_id)
        and (not status or q["status"] == status)
    ]
    found.sort(key=lambda q: str(q["date_created"]), reverse=True)
    return {
        "total": len(found),
        "limit": limit,
        "questions": [dict(q) for q in found[offset : offset + limit]],
        "filters": {"limit": limit, "offset": offset, "api_version": params.get("api_version", "4")},
        "available_filters": [{"id": "status", "values": ["ANSWERED", "UNANSWERED", "CLOSED_UNANSWERED"]}],
        "available_sorts": ["date_created", "item_id"],
    }


def advertiser_for(world: World, caller: Caller, site_id: str, advertiser_id: int) -> JSON:
    """The caller's advertiser on ``site_id`` with that id, or 404/403."""
    owned = world.advertisers.get(caller.user_id, [])
    for adv in owned:
        if adv["advertiser_id"] == advertiser_id:
            if adv["site_id"] != site_id:
                raise ApiError(
                    404, {"status": 404, "error": "not_found", "description": "Advertiser not found for site"}
                )
            return adv
    if any(advertiser_id == a["advertiser_id"] for advs in world.advertisers.values() for a in advs):
        raise ApiError(
            403, envelope(403, "forbidden", "The caller is not authorized to access this resource")
        )
    raise ApiError(
        404, {"status": 404, "error": "not_found", "description": f"Advertiser {advertiser_id} not found"}
    )


def search_ad_groups(
    world: World, caller: Caller, site_id: str, advertiser_id: int, params: Mapping[str, str]
) -> JSON:
    """``…/product_ads/ad_groups/search?filters[item_ids]=A,B``."""
    advertiser_for(world, caller, site_id, advertiser_id)
    raw = params.get("filters[item_ids]", "")
    if params.get("filters[item_id]"):
        raise bad_request("filters[item_id] is no longer supported, use filters[item_ids]", "invalid_filter")
    wanted = [i.strip() for i in raw.split(",") if i.strip()]
    if len(wanted) > MAX_AD_GROUP_IDS:
        raise bad_request(f"filters[item_ids] accepts at most {MAX_AD_GROUP_IDS} ids", "invalid_filter")
    limit = _int_param(params, "limit", DEFAULT_LIMIT)
    offset = _int_param(params, "offset", 0)
    groups = [
        g
        for g in world.ad_groups.values()
        if g["advertiser_id"] == advertiser_id and (not wanted or set(wanted) & set(g["item_ids"]))
    ]
    return {
        "paging": {"total": len(groups), "offset": offset, "limit": limit},
        "results": [render_ad_group(g, world.items) for g in groups[offset : offset + limit]],
    }


def set_ad_group_status(world: World, caller: Caller, site_id: str, group_id: str, body: Any) -> JSON:
    """``PUT /marketplace/advertising/{SITE}/product_ads/ad_groups/{ID}`` ``{"status": …}``."""
    group = world.ad_groups.get(group_id)
    if group is None or group["site_id"] != site_id:
        raise ApiError(
            404, {"status": 404, "error": "not_found", "description": f"Ad group {group_id} not found"}
        )
    advertiser_for(world, caller, site_id, int(group["advertiser_id"]))
    if not isinstance(body, dict) or body.get("status") not in ("active", "paused"):
        raise bad_request("status must be active or paused", "invalid_status")
    group["status"] = body["status"]
    if "campaign_id" in body:
        group["campaign_id"] = body["campaign_id"]
    return render_ad_group(group, world.items)
