"""``MeliClient``: the typed calls the engine makes (ARCHITECTURE.md §1).

Reads are batched the way the API allows (multiget of 20, search pages of 100, ad-group search
of 50 ids) and run concurrently; the shared rate limiter keeps the whole run at the
application's budget. Writes are single ``PUT``/``POST`` calls returning the updated item.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from mltakedown.meli.auth import StaticToken, TokenManager, TokenProvider
from mltakedown.meli.calls import OnCall
from mltakedown.meli.config import ClientConfig
from mltakedown.meli.constants import (
    AD_GROUP_MAX_ITEM_IDS,
    AD_GROUP_PAGE_LIMIT,
    AD_GROUPS_API_VERSION,
    ADVERTISERS_API_VERSION,
    MULTIGET_MAX_IDS,
    ORDERS_PAGE_LIMIT,
    QUESTIONS_PAGE_LIMIT,
    SCAN_MAX_RESTARTS,
    SEARCH_OFFSET_CAP,
    SEARCH_PAGE_LIMIT,
)
from mltakedown.meli.errors import (
    BadRequestError,
    InvalidResponseError,
    NotFoundError,
    SearchLimitError,
    make_api_error,
    parse_error_data,
)
from mltakedown.meli.models import (
    AdGroup,
    Advertiser,
    Item,
    ItemResult,
    Order,
    Question,
    Shipment,
    User,
)
from mltakedown.meli.ratelimit import RateLimiter, shared_limiter
from mltakedown.meli.requester import QueryParams, Requester, invalid_response
from mltakedown.meli.retry import RetryPolicy
from mltakedown.meli.transport import HttpTransport

__all__ = ["MeliClient"]

logger = logging.getLogger("mltakedown.meli")

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

ItemStatus = Literal["active", "paused", "closed"]
AdGroupStatus = Literal["active", "paused"]
FilterValue = str | int | bool | Sequence[str] | None
Sleep = Callable[[float], Awaitable[None]]

_ITEM_STATUSES = frozenset({"active", "paused", "closed"})


def _filters(values: Mapping[str, FilterValue]) -> dict[str, str | int]:
    """Search filters as query parameters: drop None, booleans as true/false, lists joined by commas."""
    out: dict[str, str | int] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, int | str):
            out[key] = value
        else:
            out[key] = ",".join(value)
    return out


def _chunks(values: Sequence[T], size: int) -> list[list[T]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


async def _gather(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Run concurrently; on the first failure cancel the rest and raise that failure itself."""

    async def run(aw: Awaitable[T]) -> T:
        return await aw

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(run(aw)) for aw in awaitables]
    except BaseExceptionGroup as failures:
        first: BaseException = failures
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return [task.result() for task in tasks]


def _status_code(raw: Any) -> int:
    """A per-entry multiget status as int (0 when absent or unreadable)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return 0


def _provider(tokens: TokenProvider | str | None, config: ClientConfig) -> TokenProvider | None:
    if isinstance(tokens, str):
        return StaticToken(tokens)
    if tokens is not None:
        return tokens
    return StaticToken(config.access_token) if config.access_token else None


class MeliClient:
    """Async Mercado Libre API client: ``async with MeliClient(...) as api: await api.me()``.

    Args:
        config: where and how fast; defaults to :meth:`ClientConfig.from_env`.
        tokens: a :class:`TokenManager` (refreshes on 401), any token provider, or an access
            token string (static: a 401 fails at once). Defaults to ``config.access_token``.
        transport: an ``httpx.AsyncBaseTransport`` (``MockTransport`` / ``ASGITransport`` in tests).
        on_call: called with a :class:`CallRecord` for every attempt.
        rate: a shared :class:`RateLimiter`, or requests/s for the application's shared
            limiter (keyed by ``config.client_id``); default ``config.rate``.
        retry: the retry policy.
        sleep: the backoff sleep (tests pass a fake).
    """

    def __init__(
        self,
        config: ClientConfig | None = None,
        tokens: TokenProvider | str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        on_call: OnCall | None = None,
        rate: RateLimiter | float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config or ClientConfig.from_env()
        self.limiter = (
            rate
            if isinstance(rate, RateLimiter)
            else shared_limiter(self.config.client_id, self.config.rate if rate is None else float(rate))
        )
        self._transport = HttpTransport(self.config, transport)
        provider = _provider(tokens, self.config)
        if isinstance(provider, TokenManager):
            provider.use_http(self._transport.http)
            provider.use_on_call(on_call)
        self.account_alias = provider.alias if isinstance(provider, TokenManager) else ""
        """The login whose tokens this client uses (``""`` for an access token given directly)."""
        self._requester = Requester(
            self._transport, provider, self.limiter, retry or RetryPolicy(), on_call=on_call, sleep=sleep
        )
        # Product Ads advertisers of the account: one call answers for every site, and they do
        # not change during a run, so the first answer serves every later get_advertiser().
        self._advertisers: list[Advertiser] | None = None
        self._advertisers_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"MeliClient(api_url={self.config.api_url!r}, rate={self.limiter.rate!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (once a token refresh still in flight has been saved)."""
        if isinstance(self._requester.tokens, TokenManager):
            await self._requester.tokens.settle()
        await self._transport.aclose()

    # -- plumbing -------------------------------------------------------------------------------

    async def _get(
        self, path: str, params: QueryParams | None = None, **kw: Any
    ) -> tuple[Any, httpx.Response]:
        return await self._requester.request_json("GET", path, params=params, **kw)

    @staticmethod
    def _model(model: type[ModelT], data: Any, response: httpx.Response) -> ModelT:
        try:
            return model.model_validate(data)
        except PydanticValidationError as exc:
            raise invalid_response(
                response, f"unexpected {model.__name__} shape: {exc.error_count()} problem(s)"
            ) from exc

    @staticmethod
    def _dict(data: Any, response: httpx.Response) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise invalid_response(response, "expected a JSON object")
        return data

    async def _put_item(self, item_id: str, body: dict[str, Any]) -> Item:
        try:
            data, response = await self._requester.request_json("PUT", f"/items/{item_id}", json=body)
            return self._model(Item, data, response)
        except InvalidResponseError as exc:
            # A 2xx whose body we cannot use (a proxy's page, a truncated or odd answer): the
            # write *was* accepted, so reporting a failure would be false and final. Read the
            # item back instead; if that fails too, its error (transient or not) is the answer.
            logger.warning(
                "PUT /items/%s succeeded with an unusable answer (%s); reading it back", item_id, exc
            )
            return await self.get_item(item_id)

    # -- account --------------------------------------------------------------------------------

    async def me(self) -> User:
        """The authenticated account (``GET /users/me``)."""
        data, response = await self._get("/users/me")
        return self._model(User, data, response)

    # -- items ----------------------------------------------------------------------------------

    async def get_item(self, item_id: str) -> Item:
        """One item with all attributes (variation SKUs included)."""
        data, response = await self._get(f"/items/{item_id}", {"include_attributes": "all"})
        return self._model(Item, data, response)

    async def get_items(self, ids: Sequence[str]) -> list[ItemResult]:
        """Many items via multiget: chunks of 20 run concurrently; one result per input id, in order.

        A whole-call failure (401, 403, retries exhausted) raises; a missing or forbidden item
        is an entry with ``error`` set. Duplicate ids are fetched once.
        """
        unique = list(dict.fromkeys(ids))
        pages = await _gather(self._multiget(chunk) for chunk in _chunks(unique, MULTIGET_MAX_IDS))
        by_id = {result.id: result for page in pages for result in page}
        return [by_id[item_id] for item_id in ids]

    async def _multiget(self, chunk: list[str]) -> list[ItemResult]:
        data, response = await self._get("/items", {"ids": ",".join(chunk), "include_attributes": "all"})
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"]  # tolerate a wrapped /items/bulk answer
        if not isinstance(data, list):
            raise invalid_response(response, "multiget answer is not a list")
        request_id = response.headers.get("x-request-id")
        # An entry that names no id (a classic error entry) can only be placed by its position,
        # and positions mean something only when the answer has exactly one entry per id asked.
        positional = len(data) == len(chunk)
        found: dict[str, ItemResult] = {}
        for position, entry in enumerate(data):
            result = self._multiget_entry(entry, chunk, position if positional else None, request_id)
            if result is not None:
                found.setdefault(result.id, result)
        results: list[ItemResult] = []
        for item_id in chunk:
            if item_id in found:
                results.append(found[item_id])
                continue
            missing = InvalidResponseError(
                f"item {item_id} missing from the multiget answer",
                status_code=response.status_code,
                error="missing_from_multiget",
                method="GET",
                path=f"/items/{item_id}",
                request_id=request_id,
            )
            results.append(ItemResult(id=item_id, code=0, item=None, error=missing))
        return results

    def _multiget_entry(
        self, entry: Any, chunk: list[str], position: int | None, request_id: str | None
    ) -> ItemResult | None:
        """One answer entry as the result of the id it belongs to (None when it fits no id).

        An item body is only ever filed under the id it carries: data of one listing filed
        under another's id could make the plan write to the wrong listing.
        """
        if not isinstance(entry, dict):
            return None
        # Classic shape: {"code", "body"}; announced /items/bulk shape: {"status_code", "id", "body"}.
        raw_code = entry.get("code", entry.get("status_code"))
        code = _status_code(raw_code)
        body = entry.get("body")
        body_id = body.get("id") if isinstance(body, dict) else None
        named = [c for c in (entry.get("id"), body_id) if isinstance(c, str) and c]
        at_position = chunk[position] if position is not None and position < len(chunk) else None
        if named:
            item_id = named[0] if named[0] in chunk else None
            if item_id is None or any(n != item_id for n in named):
                # The entry speaks of an item we did not ask for (or of two items at once).
                if at_position is None:
                    return None
                mismatch = InvalidResponseError(
                    f"the multiget answer for {at_position} names {' and '.join(dict.fromkeys(named))}",
                    status_code=200,
                    error="mismatched_multiget_entry",
                    method="GET",
                    path=f"/items/{at_position}",
                    request_id=request_id,
                )
                return ItemResult(id=at_position, code=0, item=None, error=mismatch)
        else:
            item_id = at_position
        if item_id is None:
            return None
        path = f"/items/{item_id}"
        if code == 200 and isinstance(body, dict):
            try:
                return ItemResult(id=item_id, code=code, item=Item.model_validate(body), error=None)
            except PydanticValidationError:
                bad = InvalidResponseError(
                    f"unexpected item shape for {item_id}",
                    status_code=code,
                    error="invalid_response",
                    method="GET",
                    path=path,
                    request_id=request_id,
                )
                return ItemResult(id=item_id, code=code, item=None, error=bad)
        error = make_api_error(
            code or 500, parse_error_data(code or 500, body), method="GET", path=path, request_id=request_id
        )
        return ItemResult(id=item_id, code=code, item=None, error=error)

    # -- seller item search -----------------------------------------------------------------------

    async def _search_page(
        self, seller_id: int | str, params: dict[str, str | int]
    ) -> tuple[dict[str, Any], httpx.Response]:
        data, response = await self._get(f"/users/{seller_id}/items/search", params)
        return self._dict(data, response), response

    @staticmethod
    def _results(page: dict[str, Any]) -> list[str]:
        results = page.get("results") or []
        return [str(r) for r in results if r is not None]

    @staticmethod
    def _total(page: dict[str, Any]) -> int:
        paging = page.get("paging")
        total = paging.get("total") if isinstance(paging, dict) else page.get("total")
        return total if isinstance(total, int) else 0

    async def search_item_ids(
        self,
        seller_id: int | str,
        *,
        seller_sku: str | None = None,
        sku: str | None = None,
        status: str | None = None,
        catalog_listing: bool | None = None,
        tags: str | Sequence[str] | None = None,
        user_product_id: str | None = None,
    ) -> list[str]:
        """Item ids of the seller matching the filters, by offset paging (pages of 100).

        ``seller_sku`` matches the SELLER_SKU attribute, ``sku`` the seller_custom_field.
        Raises :class:`SearchLimitError` when more than 1000 match: use :meth:`scan_item_ids`.
        """
        filters = _filters(
            {
                "seller_sku": seller_sku,
                "sku": sku,
                "status": status,
                "catalog_listing": catalog_listing,
                "tags": tags,
                "user_product_id": user_product_id,
            }
        )
        first, _ = await self._search_page(seller_id, {**filters, "limit": SEARCH_PAGE_LIMIT, "offset": 0})
        total = self._total(first)
        if total > SEARCH_OFFSET_CAP:
            raise SearchLimitError(
                f"{total} items match but offset paging stops at {SEARCH_OFFSET_CAP}; scan instead",
                total=total,
                method="GET",
                path=f"/users/{seller_id}/items/search",
            )
        offsets = range(SEARCH_PAGE_LIMIT, total, SEARCH_PAGE_LIMIT)
        rest = await _gather(
            self._search_page(seller_id, {**filters, "limit": SEARCH_PAGE_LIMIT, "offset": offset})
            for offset in offsets
        )
        ids = self._results(first) + [i for page, _ in rest for i in self._results(page)]
        return list(dict.fromkeys(ids))

    async def iter_scan_pages(
        self, seller_id: int | str, **filters: FilterValue
    ) -> AsyncGenerator[list[str], None]:
        """Yield the matching item ids page by page (``search_type=scan``, pages of 100).

        Scan pages are sequential by nature (each answer carries the next ``scroll_id``), so a
        caller that fetches each page's items while the next page is requested overlaps the
        two instead of waiting for the whole scan. Ids already yielded are not yielded again;
        an empty page ends the scan without being yielded. Stops when the scroll id is null or
        a page is empty. A refused scroll id (expired, or spent by a retried page) starts the
        scan over, at most ``SCAN_MAX_RESTARTS`` times, without yielding an id twice.
        """
        base = {**_filters(filters), "search_type": "scan", "limit": SEARCH_PAGE_LIMIT}
        seen: set[str] = set()
        scroll_id: str | None = None
        restarts = 0
        while True:
            params: dict[str, str | int] = dict(base)
            if scroll_id:
                params["scroll_id"] = scroll_id
            try:
                page, _ = await self._search_page(seller_id, params)
            except BadRequestError:
                # A scroll id lives 5 minutes and dies once used: a slow consumer, or a page
                # whose answer was lost and retried, meets a refused scroll id. Start the scan
                # over; ids already yielded are skipped, so the caller still sees each id once.
                if not scroll_id or restarts >= SCAN_MAX_RESTARTS:
                    raise
                restarts += 1
                logger.warning(
                    "scan of seller %s: scroll id refused, starting over (%d)", seller_id, restarts
                )
                scroll_id = None
                continue
            results = self._results(page)
            fresh = [i for i in dict.fromkeys(results) if i not in seen]
            seen.update(fresh)
            if fresh:
                yield fresh
            next_scroll = page.get("scroll_id")
            if not results or not next_scroll:
                return
            scroll_id = str(next_scroll)

    async def scan_item_ids(self, seller_id: int | str, **filters: FilterValue) -> list[str]:
        """Every matching item id via ``search_type=scan`` (no 1000 cap), following ``scroll_id``.

        The pages of :meth:`iter_scan_pages`, joined.
        """
        return [i async for page in self.iter_scan_pages(seller_id, **filters) for i in page]

    async def count_items(self, seller_id: int | str, **filters: FilterValue) -> int:
        """How many items match (``paging.total`` of a ``limit=1`` search)."""
        page, _ = await self._search_page(seller_id, {**_filters(filters), "limit": 1})
        return self._total(page)

    # -- item writes --------------------------------------------------------------------------------

    async def set_item_status(self, item_id: str, status: ItemStatus) -> Item:
        """``PUT /items/{id} {"status": ...}``; ``closed`` is final (relist makes a new item)."""
        if status not in _ITEM_STATUSES:
            raise ValueError(f"status must be one of {sorted(_ITEM_STATUSES)}, got {status!r}")
        return await self._put_item(item_id, {"status": status})

    async def delete_item(self, item_id: str) -> Item:
        """``PUT /items/{id} {"deleted": "true"}`` on a closed item (the string, as ML expects)."""
        return await self._put_item(item_id, {"deleted": "true"})

    async def set_variation_stock(
        self, item_id: str, quantities: Mapping[int, int], *, keep: Iterable[int]
    ) -> Item:
        """Set the stock of some variations; every id in ``keep`` is listed too (a PUT that
        omits a variation deletes it), so pass all the item's variation ids. ``keep`` has no
        default on purpose: forgetting it would delete every other variation."""
        changed = {int(k): int(v) for k, v in quantities.items()}
        if any(v < 0 for v in changed.values()):
            raise ValueError("quantities must be >= 0")
        order = list(dict.fromkeys([*(int(k) for k in keep), *changed]))
        variations: list[dict[str, int]] = [
            {"id": vid, "available_quantity": changed[vid]} if vid in changed else {"id": vid}
            for vid in order
        ]
        return await self._put_item(item_id, {"variations": variations})

    async def set_item_stock(self, item_id: str, quantity: int) -> Item:
        """``PUT /items/{id} {"available_quantity": n}`` (0 auto-pauses an active item)."""
        if quantity < 0:
            raise ValueError("quantity must be >= 0")
        return await self._put_item(item_id, {"available_quantity": quantity})

    async def relist_item(
        self,
        item_id: str,
        *,
        price: float,
        quantity: int,
        listing_type_id: str,
        variations: Sequence[Mapping[str, Any]] | None = None,
    ) -> Item:
        """``POST /items/{id}/relist``: a closed item comes back under a **new id**.

        Not retried after an ambiguous transport failure (it would create two listings): the
        ``APIConnectionError`` has ``request_sent=True`` and the caller must reconcile.
        """
        body: dict[str, Any] = {"price": price, "quantity": quantity, "listing_type_id": listing_type_id}
        if variations is not None:
            body["variations"] = [dict(v) for v in variations]
        data, response = await self._requester.request_json(
            "POST", f"/items/{item_id}/relist", json=body, idempotent=False
        )
        return self._model(Item, data, response)

    # -- orders and shipments -----------------------------------------------------------------------

    async def search_orders(
        self, seller_id: int | str, *, item_id: str | None = None, statuses: Sequence[str] = ("paid",)
    ) -> list[Order]:
        """The seller's orders (optionally of one item) in the given statuses, all pages."""
        params = _filters(
            {"seller": str(seller_id), "order.status": ",".join(statuses) or None, "item": item_id}
        )
        params["sort"] = "date_desc"

        async def page(offset: int) -> tuple[dict[str, Any], httpx.Response]:
            data, response = await self._get(
                "/orders/search", {**params, "limit": ORDERS_PAGE_LIMIT, "offset": offset}
            )
            return self._dict(data, response), response

        first, first_response = await page(0)
        rest = await _gather(page(o) for o in range(ORDERS_PAGE_LIMIT, self._total(first), ORDERS_PAGE_LIMIT))
        orders: dict[int, Order] = {}
        for data, response in [(first, first_response), *rest]:
            for raw in data.get("results") or []:
                order = self._model(Order, raw, response)
                orders.setdefault(order.id, order)
        return list(orders.values())

    async def count_orders(self, seller_id: int | str, statuses: Sequence[str] = ("paid",)) -> int:
        """How many orders of the seller are in ``statuses`` (``paging.total`` of a ``limit=1`` search).

        Lets a caller choose between one seller-wide listing and one search per item by
        request count instead of by guess.
        """
        params = _filters({"seller": str(seller_id), "order.status": ",".join(statuses) or None})
        data, response = await self._get("/orders/search", {**params, "limit": 1, "offset": 0})
        return self._total(self._dict(data, response))

    async def get_shipment(self, shipment_id: int | str) -> Shipment:
        """A shipment in the new format (``x-format-new: true``)."""
        data, response = await self._get(f"/shipments/{shipment_id}", headers={"x-format-new": "true"})
        return self._model(Shipment, data, response)

    # -- questions ----------------------------------------------------------------------------------

    async def _questions(self, path: str, params: dict[str, str | int]) -> list[Question]:
        async def page(offset: int) -> tuple[dict[str, Any], httpx.Response]:
            data, response = await self._get(
                path, {**params, "limit": QUESTIONS_PAGE_LIMIT, "offset": offset}
            )
            return self._dict(data, response), response

        first, first_response = await page(0)
        rest = await _gather(
            page(o) for o in range(QUESTIONS_PAGE_LIMIT, self._total(first), QUESTIONS_PAGE_LIMIT)
        )
        questions: dict[int, Question] = {}
        for data, response in [(first, first_response), *rest]:
            for raw in data.get("questions") or []:
                question = self._model(Question, raw, response)
                questions.setdefault(question.id, question)
        return list(questions.values())

    async def unanswered_questions(self, item_id: str) -> list[Question]:
        """Unanswered questions on one item."""
        return await self._questions(
            "/questions/search", {"item_id": item_id, "status": "UNANSWERED", "api_version": 4}
        )

    async def seller_unanswered_questions(self) -> list[Question]:
        """Every unanswered question the authenticated seller received."""
        return await self._questions("/my/received_questions/search", {"status": "UNANSWERED"})

    async def count_unanswered_questions(self) -> int:
        """How many unanswered questions the seller has (``total`` of a ``limit=1`` search)."""
        data, response = await self._get(
            "/my/received_questions/search", {"status": "UNANSWERED", "limit": 1, "offset": 0}
        )
        return self._total(self._dict(data, response))

    # -- Product Ads --------------------------------------------------------------------------------

    async def get_advertisers(self, *, refresh: bool = False) -> list[Advertiser]:
        """Every Product Ads advertiser of the account, all sites in one call; empty without
        Product Ads (404).

        The answer is kept for the client's lifetime (``refresh=True`` asks again); concurrent
        callers share one request. A 403 (no Advertising permission) is raised and not kept.
        """
        async with self._advertisers_lock:
            if self._advertisers is None or refresh:
                self._advertisers = await self._fetch_advertisers()
            return list(self._advertisers)

    async def _fetch_advertisers(self) -> list[Advertiser]:
        try:
            data, response = await self._get(
                "/advertising/advertisers",
                {"product_id": "PADS"},
                headers={"Api-Version": ADVERTISERS_API_VERSION},
            )
        except NotFoundError:
            # ML answers 404 ("No permissions found for user_id") when the account has no ads.
            return []
        return [
            self._model(Advertiser, raw, response)
            for raw in self._dict(data, response).get("advertisers") or []
        ]

    async def get_advertiser(self, site_id: str) -> Advertiser | None:
        """The account's Product Ads advertiser on ``site_id``; None without Product Ads.

        Served from :meth:`get_advertisers`, so asking for several sites costs one request. An
        advertiser without a ``site_id`` stands for any site, but one naming the site wins.
        """
        every = await self.get_advertisers()
        exact = (a for a in every if a.site_id is not None and a.site_id.upper() == site_id.upper())
        wildcard = (a for a in every if a.site_id is None)
        return next(exact, None) or next(wildcard, None)

    async def search_ad_groups(
        self, site_id: str, advertiser_id: int | str, item_ids: Sequence[str]
    ) -> list[AdGroup]:
        """Ad groups containing any of ``item_ids`` (≤ 50 ids a call, chunks run concurrently)."""
        path = f"/advertising/{site_id}/advertisers/{advertiser_id}/product_ads/ad_groups/search"
        unique = list(dict.fromkeys(item_ids))
        pages = await _gather(
            self._ad_group_chunk(path, chunk) for chunk in _chunks(unique, AD_GROUP_MAX_ITEM_IDS)
        )
        groups: dict[str, AdGroup] = {}
        for page in pages:
            for group in page:
                groups.setdefault(group.id, group)
        return list(groups.values())

    async def _ad_group_chunk(self, path: str, chunk: list[str]) -> list[AdGroup]:
        groups: list[AdGroup] = []
        offset = 0
        while True:
            data, response = await self._get(
                path,
                {"filters[item_ids]": ",".join(chunk), "limit": AD_GROUP_PAGE_LIMIT, "offset": offset},
                headers={"api-version": AD_GROUPS_API_VERSION},
            )
            page = self._dict(data, response)
            results = page.get("results") or []
            groups.extend(self._model(AdGroup, raw, response) for raw in results)
            offset += len(results)
            if not results or offset >= self._total(page):
                return groups

    async def set_ad_group_status(
        self, site_id: str, ad_group_id: str, status: AdGroupStatus, *, campaign_id: int | None = None
    ) -> AdGroup:
        """Pause or activate an ad group."""
        if status not in ("active", "paused"):
            raise ValueError(f"ad-group status must be 'active' or 'paused', got {status!r}")
        body: dict[str, Any] = {"status": status}
        if campaign_id is not None:
            body["campaign_id"] = campaign_id
        data, response = await self._requester.request_json(
            "PUT",
            f"/marketplace/advertising/{site_id}/product_ads/ad_groups/{ad_group_id}",
            json=body,
            headers={"api-version": AD_GROUPS_API_VERSION},
        )
        return self._model(AdGroup, data, response)
