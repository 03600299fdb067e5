"""A small in-memory stand-in for MeliClient's read side, counting requests like the real one would."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any

from mltakedown.meli.errors import SearchLimitError
from mltakedown.meli.models import AdGroup, Advertiser, Item, Order, Question, Shipment, User


def item(
    item_id: str,
    *,
    seller: int = 1001,
    sku: str | None = None,
    custom: str | None = None,
    status: str = "active",
    variations: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Item:
    attrs = [{"id": "SELLER_SKU", "value_name": sku}] if sku else []
    return Item.model_validate(
        {
            "id": item_id,
            "site_id": item_id[:3],
            "seller_id": seller,
            "title": f"Title {item_id}",
            "status": status,
            "available_quantity": 10,
            "attributes": attrs,
            "seller_custom_field": custom,
            "variations": variations or [],
            **extra,
        }
    )


def variation(var_id: int, sku: str | None = None, qty: int = 5, custom: str | None = None) -> dict[str, Any]:
    return {
        "id": var_id,
        "available_quantity": qty,
        "attributes": [{"id": "SELLER_SKU", "value_name": sku}] if sku else [],
        "seller_custom_field": custom,
    }


@dataclass
class Fetched:
    id: str
    code: int
    item: Item | None


@dataclass
class FakeApi:
    """Items of seller 1001 (and others); every method counts the requests it would make."""

    items: dict[str, Item] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    shipments: dict[int, Shipment] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    advertisers: dict[str, Advertiser] = field(default_factory=dict)
    ad_groups: list[AdGroup] = field(default_factory=list)
    user_id: int = 1001
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.calls.values())

    def add(self, *items: Item) -> FakeApi:
        for it in items:
            self.items[it.id] = it
        return self

    async def me(self) -> User:
        self.calls["me"] += 1
        return User(id=self.user_id, nickname="ACME")

    async def get_items(self, ids: Sequence[str]) -> list[Fetched]:
        self.calls["multiget"] += math.ceil(len(ids) / 20)
        return [Fetched(i, 200, self.items[i]) if i in self.items else Fetched(i, 404, None) for i in ids]

    def _own(self, seller_id: int) -> list[Item]:
        return [i for i in self.items.values() if i.seller_id == seller_id]

    async def search_item_ids(
        self,
        seller_id: int,
        *,
        seller_sku: str | None = None,
        sku: str | None = None,
        user_product_id: str | None = None,
        catalog_listing: bool | None = None,
    ) -> list[str]:
        out = []
        for it in self._own(seller_id):
            if seller_sku is not None and seller_sku not in [
                it.seller_sku,
                *(v.seller_sku for v in it.variations),
            ]:
                continue
            if sku is not None and sku not in [
                it.seller_custom_field,
                *(v.seller_custom_field for v in it.variations),
            ]:
                continue
            if user_product_id is not None and it.user_product_id != user_product_id:
                continue
            if catalog_listing is not None and bool(it.catalog_listing) != catalog_listing:
                continue
            out.append(it.id)
        self.calls["search"] += 1
        if len(out) > 1000:  # offset paging stops at 1000: the real client says "scan instead"
            raise SearchLimitError("over 1000", total=len(out))
        self.calls["search"] += max(1, math.ceil(len(out) / 100)) - 1
        return out

    async def scan_item_ids(self, seller_id: int) -> list[str]:
        ids = [i.id for i in self._own(seller_id)]
        self.calls["scan"] += max(1, math.ceil(len(ids) / 100))
        return ids

    async def count_items(self, seller_id: int) -> int:
        self.calls["count"] += 1
        return len(self._own(seller_id))

    async def search_orders(
        self, seller_id: int, *, item_id: str | None = None, statuses: Sequence[str] = ("paid",)
    ) -> list[Order]:
        found = [
            o
            for o in self.orders
            if o.status in statuses
            and (item_id is None or any(li.item.id == item_id for li in o.order_items))
        ]
        self.calls["orders"] += max(1, math.ceil(len(found) / 50))
        return found

    async def get_shipment(self, shipment_id: int) -> Shipment:
        self.calls["shipment"] += 1
        return self.shipments[shipment_id]

    async def unanswered_questions(self, item_id: str) -> list[Question]:
        self.calls["questions_item"] += 1
        return [q for q in self.questions if q.item_id == item_id]

    async def seller_unanswered_questions(self) -> list[Question]:
        self.calls["questions_seller"] += max(1, math.ceil(len(self.questions) / 50))
        return list(self.questions)

    async def get_advertiser(self, site_id: str) -> Advertiser | None:
        self.calls["advertiser"] += 1
        return self.advertisers.get(site_id)

    async def search_ad_groups(
        self, site_id: str, advertiser_id: int, item_ids: Sequence[str]
    ) -> list[AdGroup]:
        assert len(item_ids) <= 50
        self.calls["ad_groups"] += 1
        return [g for g in self.ad_groups if set(g.item_ids) & set(item_ids)]


def order(oid: int, item_id: str, shipment_id: int | None, *, variation_id: int | None = None) -> Order:
    return Order.model_validate(
        {
            "id": oid,
            "status": "paid",
            "order_items": [{"item": {"id": item_id, "variation_id": variation_id}, "quantity": 1}],
            "shipping": {"id": shipment_id} if shipment_id else {},
        }
    )


@dataclass
class FullFakeApi(FakeApi):
    """FakeApi plus the client's optional extras: counts, all advertisers at once, scan pages.

    ``events`` logs the order in which scan pages and multigets happen, so tests can see them
    overlap.
    """

    events: list[str] = field(default_factory=list)

    async def count_orders(self, seller_id: int, statuses: Sequence[str] = ("paid",)) -> int:
        self.calls["count_orders"] += 1
        return sum(1 for o in self.orders if o.status in statuses)

    async def count_unanswered_questions(self) -> int:
        self.calls["count_questions"] += 1
        return len(self.questions)

    async def get_advertisers(self) -> list[Advertiser]:
        self.calls["advertisers"] += 1
        return list(self.advertisers.values())

    async def get_items(self, ids: Sequence[str]) -> list[Fetched]:
        self.events.append("multiget")
        await asyncio.sleep(0)  # a real multiget yields to the loop while on the wire
        return await super().get_items(ids)

    async def iter_scan_pages(self, seller_id: int) -> AsyncGenerator[list[str], None]:
        ids = [i.id for i in self._own(seller_id)]
        for start in range(0, max(1, len(ids)), 100):
            self.calls["scan"] += 1
            self.events.append("scan")
            await asyncio.sleep(0)  # the page is on the wire: other tasks run meanwhile
            page = ids[start : start + 100]
            if page:
                yield page
