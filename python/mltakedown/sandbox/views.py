"""How stored records look on the wire: owner vs public items, field selection, ad-group status."""

from __future__ import annotations

import copy
from typing import Any

JSON = dict[str, Any]

# Public readers see a stock bucket, not the exact number (ml-api.md §3).
_QUANTITY_BUCKETS = (50000, 5000, 500, 250, 200, 150, 100, 50, 1)


def public_quantity(quantity: int) -> int:
    """The range reference a non-owner sees instead of the exact stock."""
    if quantity <= 0:
        return 0
    return next(b for b in _QUANTITY_BUCKETS if quantity >= b)


def render_item(item: JSON, viewer_id: int | None, *, include_all: bool) -> JSON:
    """The item as ``GET /items/{id}`` returns it to ``viewer_id``.

    Private bookkeeping keys (``_…``) are dropped; variation ``attributes`` (where variation
    SELLER_SKUs live) only come with ``include_attributes=all``; non-owners get stock buckets.
    """
    out = {k: copy.deepcopy(v) for k, v in item.items() if not k.startswith("_")}
    owner = viewer_id is not None and viewer_id == item["seller_id"]
    if not owner:
        out["available_quantity"] = public_quantity(int(item["available_quantity"]))
    for variation in out["variations"]:
        if not include_all:
            variation.pop("attributes", None)
        if not owner:
            variation["available_quantity"] = public_quantity(int(variation["available_quantity"]))
    return out


def select_fields(body: JSON, fields: list[str]) -> JSON:
    """Keep only the requested top-level fields (``attributes=id,status``)."""
    return {k: v for k, v in body.items() if k in fields}


def parse_fields(raw: str | None, prefix: str = "") -> list[str] | None:
    """``"id,status"`` → ``["id","status"]``; for ``/items/bulk`` strip the ``body.`` prefix."""
    if not raw:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if prefix:
        fields = [f[len(prefix) :] if f.startswith(prefix) else f for f in fields]
    return fields


def effective_ad_status(group: JSON, items: dict[str, JSON]) -> str:
    """The status the ads show: the seller's status, or ``hold`` while no item can sell.

    ml-api.md §9: pausing the listing moves its ad to ``hold``; we keep the ad group's own status
    as the seller set it and expose the consequence as ``effective_status``.
    """
    if group["status"] != "active":
        return str(group["status"])
    sellable = [
        i
        for i in (items.get(iid) for iid in group["item_ids"])
        if i is not None and i["status"] == "active" and int(i["available_quantity"]) > 0
    ]
    return "active" if sellable else "hold"


def render_ad_group(group: JSON, items: dict[str, JSON]) -> JSON:
    """An ad group on the wire."""
    out = {k: copy.deepcopy(v) for k, v in group.items() if k not in ("site_id", "advertiser_id")}
    out["effective_status"] = effective_ad_status(group, items)
    return out
