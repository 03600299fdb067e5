"""Resolve rows to items: item IDs directly, user product IDs and seller SKUs by search or scan.

A SKU is looked up the way Mercado Libre stores it (ml-api.md §2): first the ``SELLER_SKU``
attribute (``?seller_sku=``), then the seller's free ``seller_custom_field`` (``?sku=``). Search
only answers with item IDs, so the items are fetched (multiget, 20 a call) and matched again
locally at variation level: a SKU naming one variation of a multi-variation item resolves to
that variation, so the gates can take down that variation only. A SKU that matches more than
one item (or several variations of one item, but not all) is never guessed: the row gets
``SKU_AMBIGUOUS`` and lists the candidates. Matching is exact: a listing the search found whose
SKU differs (in case, say) is named in the row's ``SKU_NOT_FOUND`` message, never resolved to.

Two ways to find SKUs, chosen by :func:`choose_strategy` on request counts:

* **search**: one or two searches per SKU, then a multiget of what they found;
* **scan**: one count, the whole catalogue's IDs by scan pages of 100, a multiget of all of
  them, and every SKU matched locally. For many SKUs on a modest catalogue this is far fewer
  requests (2,000 SKUs on 2,000 items: ~125 requests instead of ~2,100). Over 1,000 items the
  scan pages come one after another (each carries the next scroll id), so each page's
  multigets are sent while the next page is requested (:func:`scan_and_fetch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

from mltakedown.codes import Code
from mltakedown.ids import Identifier, IdKind
from mltakedown.meli.constants import MULTIGET_MAX_IDS, SEARCH_OFFSET_CAP, SEARCH_PAGE_LIMIT
from mltakedown.meli.errors import SearchLimitError
from mltakedown.meli.models import Item, Variation

DEFAULT_CONCURRENCY = 8
"""Reads in flight at once; the client's shared rate limiter sets the actual pace."""

SKU_FALLBACK_RATE = 0.5
"""Expected share of SKUs whose ``seller_sku`` search finds nothing and needs a ``sku`` search.

Used only to compare strategies; a SKU costs one search when its ``SELLER_SKU`` is set and two
when it lives in ``seller_custom_field`` only (or does not exist)."""

T = TypeVar("T")

_TOO_MANY = "…"
"""Stands for the items a search could not list (over 1000 share the key: certainly ambiguous)."""


class ItemFetch(Protocol):
    """One entry of a multiget answer (``meli.ItemResult``)."""

    @property
    def id(self) -> str:
        """The requested item ID."""
        ...

    @property
    def code(self) -> int:
        """HTTP status of this entry (200, 404…)."""
        ...

    @property
    def item(self) -> Item | None:
        """The item when ``code`` is 200."""
        ...


class SearchApi(Protocol):
    """The part of :class:`mltakedown.meli.MeliClient` resolution uses."""

    async def get_items(self, ids: Sequence[str]) -> Sequence[ItemFetch]:
        """Multiget in chunks of 20, answers in input order."""
        ...

    async def search_item_ids(
        self,
        seller_id: int,
        *,
        seller_sku: str | None = None,
        sku: str | None = None,
        user_product_id: str | None = None,
        catalog_listing: bool | None = None,
    ) -> list[str]:
        """Seller item search (offset paging)."""
        ...

    async def scan_item_ids(self, seller_id: int) -> list[str]:
        """Every item ID of the seller (scan mode)."""
        ...

    async def count_items(self, seller_id: int) -> int:
        """How many items the seller has (``paging.total``)."""
        ...


@runtime_checkable
class ScanPagesApi(Protocol):
    """Optional client extra: the scan page by page, so multigets can overlap the scan."""

    def iter_scan_pages(self, seller_id: int) -> AsyncGenerator[list[str], None]:
        """The seller's item IDs, one scan page (up to 100, none repeated) at a time."""
        ...


class Strategy(StrEnum):
    """How SKUs and user product IDs are found."""

    NONE = "none"
    """Nothing to search (only item IDs)."""
    SEARCH = "search"
    """One or two searches per key."""
    SCAN = "scan"
    """Scan the whole catalogue, fetch everything, match locally."""


def search_cost(n_keys: int, n_direct: int, *, fallback_rate: float = SKU_FALLBACK_RATE) -> float:
    """Expected requests of the search strategy: searches, then one multiget of everything.

    ``n_keys`` SKUs and user product IDs to search, ``n_direct`` item IDs typed directly (they
    share the multiget).
    """
    if n_keys == 0:
        return float(math.ceil(n_direct / MULTIGET_MAX_IDS))
    return n_keys * (1.0 + fallback_rate) + math.ceil((n_keys + n_direct) / MULTIGET_MAX_IDS)


def scan_cost(total_items: int) -> float:
    """Requests of the scan strategy after the count: scan pages of 100, multiget of 20."""
    return float(math.ceil(total_items / SEARCH_PAGE_LIMIT) + math.ceil(total_items / MULTIGET_MAX_IDS))


def worth_counting(n_keys: int, n_direct: int) -> bool:
    """Whether the scan could possibly win, i.e. the one ``count_items`` request is worth sending.

    The cheapest scan is count + one page + one multiget (3 requests); searching never costs
    less than one request per key plus the multiget.
    """
    if n_keys == 0:
        return False
    cheapest_search = n_keys + math.ceil((n_keys + n_direct) / MULTIGET_MAX_IDS)
    return cheapest_search > 3


def choose_strategy(n_keys: int, n_direct: int, total_items: int | None) -> Strategy:
    """Search per key or scan the catalogue, whichever needs fewer requests.

    ``total_items`` is the seller's item count (``None`` when it was not worth asking).
    """
    if n_keys == 0:
        return Strategy.NONE
    if total_items is None:
        return Strategy.SEARCH
    return Strategy.SCAN if scan_cost(total_items) < search_cost(n_keys, n_direct) else Strategy.SEARCH


@dataclass(slots=True)
class Resolution:
    """What one row names, once resolved (before the live details are read)."""

    row_number: int
    identifier: str
    kind: IdKind
    item_id: str | None = None
    variation_id: int | None = None
    candidates: list[str] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    detail: str = ""
    matched_by: str = ""
    """``item_id``, ``seller_sku``, ``seller_custom_field`` or ``user_product_id``."""


@dataclass(slots=True)
class ResolveOutcome:
    """Every row's resolution, plus every item fetched on the way (for the live stage)."""

    resolutions: dict[int, Resolution]
    items: dict[str, Item]
    missing: set[str]
    """Item IDs the multiget answered with an error (404…)."""
    strategy: Strategy
    total_items: int | None = None


@dataclass(frozen=True, slots=True)
class SkuMatch:
    """One place a SKU (or user product ID) names: an item, or one variation of it."""

    item_id: str
    variation_id: int | None
    via: str


async def gather_bounded(calls: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await the calls concurrently, at most ``limit`` at once, results in input order.

    Coroutines do nothing until awaited, so creating them all up front costs no request.
    """
    gate = asyncio.Semaphore(max(1, limit))

    async def run(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(run(call) for call in calls)))


async def fetch_items(api: SearchApi, ids: Iterable[str], into: dict[str, Item], missing: set[str]) -> None:
    """Multiget the IDs not fetched yet; found items go to ``into``, errors to ``missing``."""
    wanted = list(dict.fromkeys(i for i in ids if i not in into and i not in missing))
    if not wanted:
        return
    for entry in await api.get_items(wanted):
        if entry.item is not None and entry.code == 200:
            into[entry.item.id] = entry.item
            if entry.item.id != entry.id:  # the API canonicalises the ID; keep both keys
                into[entry.id] = entry.item
        else:
            missing.add(entry.id)


def _eq(a: str | None, b: str, *, fold: bool) -> bool:
    if a is None:
        return False
    return a.strip().casefold() == b.casefold() if fold else a.strip() == b


def _variation_matches(
    variations: Sequence[Variation], pick: Callable[[Variation], str | None], sku: str
) -> list[int]:
    return [v.id for v in variations if _eq(pick(v), sku, fold=False)]


def match_item(item: Item, sku: str, *, via: str) -> list[SkuMatch]:
    """Where ``sku`` sits on ``item``: the item itself, or which variations.

    ``via`` is ``seller_sku`` (the SELLER_SKU attribute) or ``seller_custom_field``. When every
    variation carries the SKU it names the whole item; when some do, those variations. The
    comparison is exact (see :func:`match_sku`).
    """
    if via == "seller_sku":
        item_value, var_pick = item.seller_sku, _var_seller_sku
    else:
        item_value, var_pick = item.seller_custom_field, _var_custom_field
    var_ids = _variation_matches(item.variations, var_pick, sku)
    if var_ids and len(var_ids) < len(item.variations):
        return [SkuMatch(item.id, vid, via) for vid in var_ids]
    if var_ids and len(item.variations) == 1:
        return [SkuMatch(item.id, var_ids[0], via)]
    if var_ids or _eq(item_value, sku, fold=False):
        return [SkuMatch(item.id, None, via)]
    return []


def _var_seller_sku(variation: Variation) -> str | None:
    return variation.seller_sku


def _var_custom_field(variation: Variation) -> str | None:
    return variation.seller_custom_field


def match_sku(items: Sequence[Item], sku: str) -> list[SkuMatch]:
    """Every place ``sku`` names among ``items``: SELLER_SKU first; custom field only if no attribute matched.

    The comparison is exact (outer spaces of the stored value aside): case and inner spaces are
    part of a SKU, and ``abc`` may be another product than ``ABC``. Whatever Mercado Libre's own
    search is lenient about, a listing is only resolved when its SKU is exactly the one typed.
    """
    for via in ("seller_sku", "seller_custom_field"):
        found = [m for item in items for m in match_item(item, sku, via=via)]
        if found:
            return found
    return []


def near_misses(items: Sequence[Item], sku: str) -> list[str]:
    """Listings among ``items`` that a search or the folded index found for ``sku`` but whose SKU is
    not exactly ``sku`` (another case, say): described for the message, never resolved to."""
    out: list[str] = []
    for item in items:
        places = [item.seller_sku, item.seller_custom_field]
        for variation in item.variations:
            places += [variation.seller_sku, variation.seller_custom_field]
        close = sorted({p.strip() for p in places if p and _eq(p, sku, fold=True)})
        out.append(f"{item.id} ({', '.join(close)})" if close else item.id)
    return out


def _fold(value: str) -> str:
    return value.strip().casefold()


def index_catalogue(items: Iterable[Item]) -> dict[str, list[Item]]:
    """Items by every SKU place and user product ID they carry (case-folded), for local matching.

    A scanned catalogue is matched against thousands of rows: an index keeps that linear. The
    index only narrows the candidates (each item once per key, even when two of its SKU places
    differ only in case); :func:`match_sku` still decides (exact, attribute before custom field,
    variation level).
    """
    index: dict[str, list[Item]] = {}
    for item in items:
        keys = {item.seller_sku, item.seller_custom_field, item.user_product_id}
        for var in item.variations:
            keys.update((var.seller_sku, var.seller_custom_field, var.user_product_id))
        for folded in {_fold(key) for key in keys if key}:
            index.setdefault(folded, []).append(item)
    return index


def match_user_product(items: Sequence[Item], upid: str) -> list[SkuMatch]:
    """Items (or variations) whose ``user_product_id`` is ``upid``."""
    found: list[SkuMatch] = []
    for item in items:
        var_ids = [v.id for v in item.variations if v.user_product_id == upid]
        if var_ids and len(var_ids) < len(item.variations):
            found += [SkuMatch(item.id, vid, "user_product_id") for vid in var_ids]
        elif var_ids or item.user_product_id == upid:
            found.append(SkuMatch(item.id, None, "user_product_id"))
    return found


def _apply(res: Resolution, matches: list[SkuMatch], not_found: Code) -> None:
    if not matches:
        res.codes.append(not_found)
        res.detail = res.identifier
        return
    if len(matches) > 1:
        res.candidates = [
            m.item_id if m.variation_id is None else f"{m.item_id}#{m.variation_id}" for m in matches
        ]
        res.codes.append(Code.SKU_AMBIGUOUS)
        res.detail = ", ".join(res.candidates)
        return
    res.item_id, res.variation_id, res.matched_by = (
        matches[0].item_id,
        matches[0].variation_id,
        matches[0].via,
    )


async def _search_key(api: SearchApi, seller_id: int, kind: IdKind, key: str) -> tuple[list[str], str]:
    """IDs a SKU (attribute, then custom field) or user product ID search returns, and which
    search answered (``seller_sku``, ``sku`` or ``user_product_id``)."""
    try:
        if kind is IdKind.USER_PRODUCT:
            return await api.search_item_ids(seller_id, user_product_id=key), "user_product_id"
        found = await api.search_item_ids(seller_id, seller_sku=key)
        if found:
            return found, "seller_sku"
        return await api.search_item_ids(seller_id, sku=key), "sku"
    except SearchLimitError:
        # More than 1000 items share the key: certainly ambiguous; the first page is enough to say so.
        return [_TOO_MANY, _TOO_MANY], "limit"


async def _custom_field_ids(api: SearchApi, seller_id: int, key: str) -> list[str]:
    """The ``sku=`` (seller_custom_field) search, for a key the attribute search only nearly matched."""
    try:
        return await api.search_item_ids(seller_id, sku=key)
    except SearchLimitError:
        return [_TOO_MANY, _TOO_MANY]


async def _catalogue_ids(api: SearchApi, seller_id: int, total: int) -> list[str] | None:
    """Every item ID of the seller by concurrent offset pages, or None when only a scan reaches them.

    Up to 1000 items, offset pages can be fetched concurrently; beyond that only the scan
    reaches them, and its pages are sequential (each answer carries the next scroll id).
    """
    if total <= SEARCH_OFFSET_CAP:
        try:
            return await api.search_item_ids(seller_id)
        except SearchLimitError:
            pass  # the catalogue grew past the cap since the count: scan it
    return None


async def scan_and_fetch(
    api: SearchApi, seller_id: int, items: dict[str, Item], missing: set[str], *, concurrency: int
) -> list[str]:
    """Scan the whole catalogue and multiget it; return every item ID in scan order.

    With a client that hands out scan pages one at a time, each page's multigets start as soon
    as it arrives, while the next page is requested: the sequential scan no longer leaves the
    rate budget idle. At most ``concurrency`` pages are being fetched at once; a slower fetch
    holds the scan back rather than piling up requests.
    """
    if not isinstance(api, ScanPagesApi):
        every = await api.scan_item_ids(seller_id)
        await fetch_items(api, every, items, missing)
        return every
    every = []
    gate = asyncio.Semaphore(max(1, concurrency))

    async def fetch(page: list[str]) -> None:
        try:
            await fetch_items(api, page, items, missing)
        finally:
            gate.release()

    try:
        async with asyncio.TaskGroup() as group, contextlib.aclosing(api.iter_scan_pages(seller_id)) as pages:
            async for page in pages:
                every.extend(page)
                await gate.acquire()
                group.create_task(fetch(page))
    except BaseExceptionGroup as failures:
        # Report the failure itself (an APIError…), as the sequential version would.
        first: BaseException = failures
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return every


async def _search_custom_fields_too(
    api: SearchApi,
    seller_id: int,
    keys: Sequence[tuple[IdKind, str]],
    found_by_key: dict[tuple[IdKind, str], list[str]],
    items: dict[str, Item],
    missing: set[str],
    concurrency: int,
) -> None:
    """Search ``seller_custom_field`` for SKUs whose attribute search found only near misses.

    Mercado Libre's search may be lenient (about case, say) where matching is exact: when the
    ``seller_sku`` hits carry the SKU only in another spelling, an exact ``seller_custom_field``
    holder may still exist, and the scan would find it. Searching for it too keeps both
    strategies to one answer. Nothing is sent when every attribute hit matched exactly.
    """
    unsure = [
        key
        for key in keys
        if not match_sku([items[i] for i in dict.fromkeys(found_by_key[key]) if i in items], key[1])
    ]
    if not unsure:
        return
    extra = await gather_bounded([_custom_field_ids(api, seller_id, key[1]) for key in unsure], concurrency)
    for key, ids in zip(unsure, extra, strict=True):
        found_by_key[key] = [*found_by_key[key], *ids]
    await fetch_items(api, [i for ids in extra for i in ids if i != _TOO_MANY], items, missing)


async def resolve_rows(
    api: SearchApi,
    seller_id: int,
    entries: Sequence[tuple[int, Identifier]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> ResolveOutcome:
    """Resolve every ``(row_number, identifier)`` to an item (and variation), fetching the items.

    Rows with the same key share one search. Item IDs typed directly are fetched in the same
    multiget as what the searches found.
    """
    direct = {ident.value for _, ident in entries if ident.kind is IdKind.ITEM}
    keys = {
        (ident.kind, ident.value) for _, ident in entries if ident.kind in (IdKind.SKU, IdKind.USER_PRODUCT)
    }
    total = await api.count_items(seller_id) if worth_counting(len(keys), len(direct)) else None
    strategy = choose_strategy(len(keys), len(direct), total)
    items: dict[str, Item] = {}
    missing: set[str] = set()
    found_by_key: dict[tuple[IdKind, str], list[str]] = {}
    # SKUs the ``seller_sku`` search answered (the others needed the ``sku`` search already).
    by_attribute: list[tuple[IdKind, str]] = []
    catalogue: dict[str, list[Item]] = {}
    if strategy is Strategy.SCAN:
        listed = await _catalogue_ids(api, seller_id, total or 0)
        if listed is None:
            every_id = await scan_and_fetch(api, seller_id, items, missing, concurrency=concurrency)
        else:
            every_id = listed
            await fetch_items(api, every_id, items, missing)
        catalogue = index_catalogue(items[i] for i in dict.fromkeys(every_id) if i in items)
    elif strategy is Strategy.SEARCH:
        ordered = sorted(keys)
        results = await gather_bounded(
            [_search_key(api, seller_id, k[0], k[1]) for k in ordered], concurrency
        )
        found_by_key = {key: ids for key, (ids, _) in zip(ordered, results, strict=True)}
        by_attribute = [key for key, (_, via) in zip(ordered, results, strict=True) if via == "seller_sku"]
    # One multiget for the typed item IDs and everything the searches found (the scan fetched
    # its catalogue already; only typed IDs outside it, e.g. another seller's, remain).
    found_ids = [i for ids in found_by_key.values() for i in ids if i != _TOO_MANY]
    await fetch_items(api, [*sorted(direct), *found_ids], items, missing)
    if by_attribute:
        await _search_custom_fields_too(
            api, seller_id, by_attribute, found_by_key, items, missing, concurrency
        )
    resolutions: dict[int, Resolution] = {}
    for row_number, ident in entries:
        res = Resolution(row_number=row_number, identifier=ident.value, kind=ident.kind)
        resolutions[row_number] = res
        if ident.kind is IdKind.ITEM:
            if ident.value in items:
                res.item_id, res.matched_by = items[ident.value].id, "item_id"
            else:
                res.codes.append(Code.NOT_FOUND)
                res.detail = ident.value
            continue
        if ident.kind not in (IdKind.SKU, IdKind.USER_PRODUCT):
            res.codes.append(Code.CATALOGUE_PRODUCT)
            res.detail = ident.value
            continue
        if strategy is Strategy.SCAN:
            pool = catalogue.get(_fold(ident.value), [])
        else:
            ids = found_by_key.get((ident.kind, ident.value), [])
            if _TOO_MANY in ids:
                res.codes.append(Code.SKU_AMBIGUOUS)
                res.detail = f"{ident.value}: > 1000"
                continue
            pool = [items[i] for i in dict.fromkeys(ids) if i in items]
        if ident.kind is IdKind.USER_PRODUCT:
            matches, not_found = match_user_product(pool, ident.value), Code.NOT_FOUND
        else:
            matches, not_found = match_sku(pool, ident.value), Code.SKU_NOT_FOUND
        _apply(res, matches, not_found)
        if not matches and pool:
            # The search (lenient about case or spacing) or the folded index found listings
            # whose value is not exactly the one typed. Never resolved to: resolving one as a
            # whole item could pause a listing whose variation carries the SKU, or another
            # product whose SKU differs only in case. Named so the user can check.
            res.detail = f"{ident.value} ≠ {'; '.join(near_misses(pool, ident.value))}"
    return ResolveOutcome(resolutions, items, missing, strategy, total)
