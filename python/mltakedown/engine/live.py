"""Read everything the gates need about the resolved items: orders, ads, questions, catalogue links.

Every read is batched and run concurrently under a bounded semaphore; the client's shared rate
limiter keeps the pace. For the per-item facts that also exist seller-wide (paid orders and
unanswered questions) :func:`seller_wide_is_cheaper` picks one seller-wide listing matched
locally, or one call per item, whichever needs fewer requests. The seller-wide totals come
from one ``limit=1`` count each when the client offers it (:class:`CountingApi`); only a client
without counts falls back to the assumed totals:

* pending orders: ``/orders/search?seller=&order.status=paid`` (pages of 50) matched to our
  items, then ``/shipments/{id}`` for each of those orders (pending / handling / ready_to_ship
  means the parcel has not left yet);
* ads: the account's advertisers (one call answers for every site when the client offers
  :class:`AdvertisersApi`, else one call per site), then the ad-group search by item IDs
  (50 a call);
* questions: ``/my/received_questions/search?status=UNANSWERED`` or per item;
* catalogue siblings: ``item_relations`` in both directions; when a listed classic item has a
  catalogue product, the seller's catalogue listings are searched once to find its siblings.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mltakedown.codes import Code
from mltakedown.engine.model import LiveRow
from mltakedown.engine.resolve import DEFAULT_CONCURRENCY, Resolution, SearchApi, fetch_items, gather_bounded
from mltakedown.meli.constants import AD_GROUP_MAX_ITEM_IDS, ORDERS_PAGE_LIMIT, QUESTIONS_PAGE_LIMIT
from mltakedown.meli.errors import NotFoundError, PermissionDeniedError, SearchLimitError
from mltakedown.meli.models import AdGroup, Advertiser, Item, Order, Question, Shipment

ASSUMED_PAID_ORDERS = 1000
"""Paid orders assumed for a seller when the client cannot count them (12 months of history)."""

ASSUMED_UNANSWERED_QUESTIONS = 200
"""Unanswered questions assumed when the client cannot count them."""


class LiveApi(SearchApi, Protocol):
    """The part of :class:`mltakedown.meli.MeliClient` Pull uses beyond resolution."""

    async def search_orders(
        self, seller_id: int, *, item_id: str | None = None, statuses: Sequence[str] = ("paid",)
    ) -> list[Order]:
        """Orders of the seller (all pages)."""
        ...

    async def get_shipment(self, shipment_id: int) -> Shipment:
        """One shipment (new format)."""
        ...

    async def unanswered_questions(self, item_id: str) -> list[Question]:
        """Unanswered questions of one item."""
        ...

    async def seller_unanswered_questions(self) -> list[Question]:
        """Unanswered questions of every item of the seller."""
        ...

    async def get_advertiser(self, site_id: str) -> Advertiser | None:
        """The Product Ads advertiser of the site, None when ads are not enabled."""
        ...

    async def search_ad_groups(
        self, site_id: str, advertiser_id: int, item_ids: Sequence[str]
    ) -> list[AdGroup]:
        """Ad groups holding any of the items."""
        ...


@runtime_checkable
class CountingApi(Protocol):
    """Optional client extras: totals in one request, so the cost choice uses real numbers."""

    async def count_orders(self, seller_id: int, *, statuses: Sequence[str] = ("paid",)) -> int:
        """``paging.total`` of the seller's order search."""
        ...

    async def count_unanswered_questions(self) -> int:
        """Total of the seller-wide unanswered question search."""
        ...


@runtime_checkable
class AdvertisersApi(Protocol):
    """Optional client extra: every advertiser of the account in one call.

    ``GET /advertising/advertisers?product_id=PADS`` answers for all sites at once, so one call
    serves every site instead of one per site."""

    async def get_advertisers(self) -> list[Advertiser]:
        """All Product Ads advertisers of the account (empty without Product Ads)."""
        ...


def seller_wide_is_cheaper(n_items: int, total: int, page_size: int) -> bool:
    """One seller-wide listing (``ceil(total / page_size)`` pages, at least one) beats ``n_items`` calls."""
    pages = max(1, math.ceil(total / page_size))
    return pages < n_items


def worth_counting(n_items: int) -> bool:
    """A count request can only pay off when there are at least 3 items (else per-item is as cheap)."""
    return n_items >= 3


def choose_scope(n_items: int, total: int | None, *, assumed: int, page_size: int) -> str:
    """``seller`` (one listing matched locally) or ``item`` (one call per item), by request count.

    ``total`` is the seller-wide count when known; ``assumed`` stands in for it otherwise.
    """
    if not worth_counting(n_items):
        return "item"
    known = assumed if total is None else total
    return "seller" if seller_wide_is_cheaper(n_items, known, page_size) else "item"


@dataclass(slots=True)
class LiveDetails:
    """Facts per item beyond the item itself."""

    pending: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    """Unshipped paid orders per ``(item_id, None)`` and per ``(item_id, variation_id)``."""
    ad_groups: dict[str, AdGroup] = field(default_factory=dict)
    ads_unavailable: set[str] = field(default_factory=set)
    """Sites whose ads could not be read (no permission)."""
    questions: Counter[str] = field(default_factory=Counter)
    related: dict[str, list[str]] = field(default_factory=dict)
    """Catalogue relations in both directions, per item ID."""
    strategies: dict[str, str] = field(default_factory=dict)
    """Which way each fact was read (``seller`` or ``item``), for the report and tests."""


async def _count(api: LiveApi, what: str, seller_id: int) -> int | None:
    if not isinstance(api, CountingApi):
        return None
    if what == "orders":
        return await api.count_orders(seller_id, statuses=("paid",))
    return await api.count_unanswered_questions()


async def read_pending_orders(
    api: LiveApi, seller_id: int, item_ids: Sequence[str], details: LiveDetails, concurrency: int
) -> None:
    """Count paid orders whose shipment has not left, per item and per variation."""
    if not item_ids:
        return
    wanted = set(item_ids)
    total = await _count(api, "orders", seller_id) if worth_counting(len(wanted)) else None
    scope = choose_scope(len(wanted), total, assumed=ASSUMED_PAID_ORDERS, page_size=ORDERS_PAGE_LIMIT)
    orders: list[Order]
    if scope == "seller":
        details.strategies["orders"] = "seller"
        orders = await api.search_orders(seller_id, statuses=("paid",))
    else:
        details.strategies["orders"] = "item"
        per_item = await gather_bounded(
            [api.search_orders(seller_id, item_id=i, statuses=("paid",)) for i in sorted(wanted)],
            concurrency,
        )
        orders = [order for chunk in per_item for order in chunk]
    relevant = {
        order.id: order
        for order in orders
        if order.status in (None, "paid")
        and any(line.item.id in wanted for line in order.order_items)
        # Paid orders stay "paid" for their 12 months of history; the "delivered" tag settles
        # the old ones without a shipment read each.
        and "delivered" not in order.tags
    }
    shipment_ids = sorted({sid for order in relevant.values() if (sid := order.shipment_id) is not None})
    shipments = await gather_bounded([_shipment(api, s) for s in shipment_ids], concurrency)
    unshipped = {
        sid
        for sid, shipment in zip(shipment_ids, shipments, strict=True)
        if shipment is None or shipment.is_unshipped
    }
    for order in relevant.values():
        sid = order.shipment_id
        # No shipment (to be agreed with the buyer) or an unreadable one: count it, to be safe.
        if sid is not None and sid not in unshipped:
            continue
        for line in order.order_items:
            if line.item.id in wanted:
                details.pending[(line.item.id, None)] += 1
                if line.item.variation_id is not None:
                    details.pending[(line.item.id, line.item.variation_id)] += 1


async def _shipment(api: LiveApi, shipment_id: int) -> Shipment | None:
    try:
        return await api.get_shipment(shipment_id)
    except NotFoundError:
        return None


async def read_ads(api: LiveApi, items: Sequence[Item], details: LiveDetails, concurrency: int) -> None:
    """Find each item's ad group: the advertisers (one call), then ad-group searches of 50 items."""
    by_site: dict[str, list[str]] = {}
    for item in items:
        if item.site_id:
            by_site.setdefault(item.site_id, []).append(item.id)
    if not by_site:
        return
    sites = sorted(by_site)
    advertisers = await _advertisers(api, sites, details, concurrency)
    calls: list[Awaitable[list[AdGroup]]] = []
    for site, advertiser in zip(sites, advertisers, strict=True):
        if advertiser is None:
            continue
        ids = sorted(set(by_site[site]))
        for start in range(0, len(ids), AD_GROUP_MAX_ITEM_IDS):
            chunk = ids[start : start + AD_GROUP_MAX_ITEM_IDS]
            calls.append(_ad_groups(api, site, advertiser.advertiser_id, chunk, details))
    for groups in await gather_bounded(calls, concurrency):
        for group in groups:
            for item_id in group.item_ids:
                current = details.ad_groups.get(item_id)
                # An item in several groups: the active one is the one that spends.
                if current is None or (current.status != "active" and group.status == "active"):
                    details.ad_groups[item_id] = group


async def _advertisers(
    api: LiveApi, sites: list[str], details: LiveDetails, concurrency: int
) -> list[Advertiser | None]:
    """The advertiser of each site: one call for all when the client can, else one per site."""
    if isinstance(api, AdvertisersApi):
        try:
            every = await api.get_advertisers()
        except PermissionDeniedError:
            details.ads_unavailable.update(sites)
            return [None for _ in sites]
        by_site: dict[str, Advertiser] = {}
        for advertiser in every:
            by_site.setdefault((advertiser.site_id or "").upper(), advertiser)
        # An advertiser without a site_id stands for any site (as get_advertiser reads it).
        anywhere = by_site.get("")
        return [by_site.get(site.upper(), anywhere) for site in sites]
    return await gather_bounded([_advertiser(api, s, details) for s in sites], concurrency)


async def _advertiser(api: LiveApi, site: str, details: LiveDetails) -> Advertiser | None:
    try:
        return await api.get_advertiser(site)
    except PermissionDeniedError:
        # The application lacks the Advertising permission (PolicyAgent 403): ads are unknown.
        details.ads_unavailable.add(site)
        return None


async def _ad_groups(
    api: LiveApi, site: str, advertiser_id: int, chunk: list[str], details: LiveDetails
) -> list[AdGroup]:
    try:
        return await api.search_ad_groups(site, advertiser_id, chunk)
    except (PermissionDeniedError, NotFoundError):
        details.ads_unavailable.add(site)
        return []


async def read_questions(
    api: LiveApi, seller_id: int, item_ids: Sequence[str], details: LiveDetails, concurrency: int
) -> None:
    """Count unanswered questions per item."""
    if not item_ids:
        return
    wanted = set(item_ids)
    total = await _count(api, "questions", seller_id) if worth_counting(len(wanted)) else None
    scope = choose_scope(
        len(wanted), total, assumed=ASSUMED_UNANSWERED_QUESTIONS, page_size=QUESTIONS_PAGE_LIMIT
    )
    questions: list[Question]
    if scope == "seller":
        details.strategies["questions"] = "seller"
        questions = await api.seller_unanswered_questions()
    else:
        details.strategies["questions"] = "item"
        chunks = await gather_bounded([api.unanswered_questions(i) for i in sorted(wanted)], concurrency)
        questions = [q for chunk in chunks for q in chunk]
    seen: set[int] = set()
    for question in questions:
        if question.item_id in wanted and question.id not in seen and question.status in (None, "UNANSWERED"):
            seen.add(question.id)
            details.questions[question.item_id] += 1


async def read_catalogue_relations(
    api: SearchApi,
    seller_id: int,
    listed: Sequence[Item],
    items: dict[str, Item],
    missing: set[str],
    details: LiveDetails,
    *,
    catalogue_known: bool,
) -> None:
    """Catalogue siblings of the listed items, from ``item_relations`` in both directions.

    A classic listing does not name its catalogue listing; the catalogue listing names its
    classic parent. So when a listed classic item (or one of its variations) has a catalogue
    product and the seller's catalogue listings are not all fetched yet (``catalogue_known``
    false), they are searched once (``catalog_listing=true``) and fetched.
    """
    if not catalogue_known and any(_has_catalogue_product(i) and not i.catalog_listing for i in listed):
        try:
            ids = await api.search_item_ids(seller_id, catalog_listing=True)
        except SearchLimitError:
            ids = []  # over 1000 catalogue listings: rely on the relations we have
        await fetch_items(api, ids, items, missing)
    listed_ids = {i.id for i in listed}
    related: dict[str, set[str]] = {i: set() for i in listed_ids}
    for item in _unique(items.values()):
        for relation in item.item_relations:
            other = relation.get("id")
            if not isinstance(other, str) or other == item.id:
                continue
            known = items.get(other)
            if not item.catalog_listing and known is not None and not known.catalog_listing:
                # Two classic listings (a closed item and its relisted successor): not twins.
                continue
            if item.id in related:
                related[item.id].add(other)
            if other in related:
                related[other].add(item.id)
    details.related = {k: sorted(v) for k, v in related.items() if v}


def _has_catalogue_product(item: Item) -> bool:
    """Whether the item, or any of its variations, belongs to a catalogue product.

    A multi-variation classic listing carries ``catalog_product_id`` per variation (each
    variation is its own product) and none at item level; its catalogue twins are found the same way.
    """
    if item.catalog_product_id:
        return True
    return any((variation.model_extra or {}).get("catalog_product_id") for variation in item.variations)


def _unique(items: Iterable[Item]) -> list[Item]:
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return list(seen.values())


async def read_details(
    api: LiveApi,
    seller_id: int,
    owned: Sequence[Item],
    items: dict[str, Item],
    missing: set[str],
    *,
    catalogue_known: bool,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> LiveDetails:
    """Everything beyond the item itself for the seller's own resolved items."""
    details = LiveDetails()
    ids = sorted({i.id for i in owned})
    await read_catalogue_relations(
        api, seller_id, owned, items, missing, details, catalogue_known=catalogue_known
    )
    # The three look-ups are independent: run them side by side under the shared limiter.
    await gather_bounded(
        [
            read_pending_orders(api, seller_id, ids, details, concurrency),
            read_ads(api, owned, details, concurrency),
            read_questions(api, seller_id, ids, details, concurrency),
        ],
        3,
    )
    return details


def build_live_row(
    res: Resolution,
    item: Item | None,
    details: LiveDetails,
    *,
    seller_id: int | None,
) -> LiveRow:
    """Fill a :class:`~mltakedown.engine.model.LiveRow` from the resolution, the item and the details."""
    live = LiveRow(
        row_number=res.row_number,
        identifier=res.identifier,
        identifier_kind=res.kind.value,
        candidates=list(res.candidates),
        codes=list(res.codes),
        detail=res.detail,
    )
    if res.codes or res.item_id is None:
        return live
    if item is None:
        live.item_id = res.item_id
        live.codes = [Code.NOT_FOUND]
        live.detail = res.item_id
        return live
    live.item_id = item.id
    live.variation_id = res.variation_id
    live.site = item.site_id
    live.seller_id = item.seller_id
    live.title = item.title
    live.permalink = item.permalink
    live.status = item.status
    live.sub_status = list(item.sub_status)
    live.tags = list(item.tags)
    live.available_quantity = item.available_quantity
    live.variation_count = len(item.variations)
    live.variation_ids = [v.id for v in item.variations]
    if res.variation_id is not None:
        live.variation_quantity = next(
            (v.available_quantity for v in item.variations if v.id == res.variation_id), None
        )
    live.is_full = item.is_full or bool(item.inventory_id)
    live.catalog_listing = bool(item.catalog_listing)
    live.item_json = item.model_dump(mode="json")
    if seller_id is None or item.seller_id != seller_id:
        live.codes = [Code.NOT_YOUR_ITEM]
        live.detail = f"{item.id}: seller {item.seller_id}"
        return live
    live.related_item_ids = list(details.related.get(item.id, []))
    variation_only = res.variation_id is not None and len(item.variations) > 1
    key = (item.id, res.variation_id if variation_only else None)
    live.pending_orders = details.pending.get(key, 0)
    group = details.ad_groups.get(item.id)
    if group is not None:
        live.ad_group_id = group.id
        live.ad_status = group.status
        live.ad_group_item_ids = list(group.item_ids)
    elif item.site_id in details.ads_unavailable:
        live.ad_status = "unknown"
    live.unanswered_questions = details.questions.get(item.id, 0)
    live.codes = [Code.FOUND]
    return live
