"""Live details: pending orders, ads, questions, catalogue relations, and their cost choices."""

from __future__ import annotations

from mltakedown.codes import Code
from mltakedown.engine.live import (
    ASSUMED_PAID_ORDERS,
    LiveDetails,
    build_live_row,
    choose_scope,
    read_details,
    seller_wide_is_cheaper,
)
from mltakedown.engine.resolve import Resolution
from mltakedown.ids import IdKind
from mltakedown.meli.models import AdGroup, Advertiser, Question, Shipment

from .engine_fakes import FakeApi, FullFakeApi, item, order, variation

SELLER = 1001


# -- cost functions (pure) ---------------------------------------------------------------------


def test_seller_wide_wins_when_its_pages_are_fewer_than_the_items() -> None:
    assert seller_wide_is_cheaper(n_items=2000, total=5000, page_size=50)  # 100 pages < 2000 calls
    assert not seller_wide_is_cheaper(n_items=10, total=5000, page_size=50)
    assert seller_wide_is_cheaper(n_items=2, total=0, page_size=50)  # one empty page beats two calls


def test_scope_uses_the_count_when_known_and_an_assumption_otherwise() -> None:
    assert choose_scope(2, 0, assumed=ASSUMED_PAID_ORDERS, page_size=50) == "item"  # too few to bother
    assert choose_scope(10, 8, assumed=ASSUMED_PAID_ORDERS, page_size=50) == "seller"
    assert choose_scope(10, None, assumed=ASSUMED_PAID_ORDERS, page_size=50) == "item"
    assert choose_scope(2000, None, assumed=ASSUMED_PAID_ORDERS, page_size=50) == "seller"


# -- reads against the fake API ----------------------------------------------------------------


def shipment(sid: int, status: str) -> Shipment:
    return Shipment(id=sid, status=status)


def api_with_orders() -> FakeApi:
    api = FakeApi().add(
        item("MLM1"),
        item("MLM2", variations=[variation(21, "A"), variation(22, "B")]),
        item("MLM3"),
    )
    api.orders = [
        order(1, "MLM1", 101),  # pending → counts
        order(2, "MLM1", 102),  # delivered → does not
        order(3, "MLM2", 103, variation_id=22),  # ready_to_ship, variation 22
        order(4, "MLM3", None),  # no shipment (to be agreed): counted, to be safe
        order(5, "MLB9", 105),  # another item: never looked at
    ]
    api.shipments = {
        101: shipment(101, "pending"),
        102: shipment(102, "delivered"),
        103: shipment(103, "ready_to_ship"),
        105: shipment(105, "handling"),
    }
    return api


async def test_pending_orders_per_item_and_per_variation() -> None:
    api = api_with_orders()
    items = dict(api.items)
    details = await read_details(api, SELLER, list(items.values()), items, set(), catalogue_known=True)
    assert details.pending[("MLM1", None)] == 1
    assert details.pending[("MLM2", None)] == 1
    assert details.pending[("MLM2", 22)] == 1 and details.pending[("MLM2", 21)] == 0
    assert details.pending[("MLM3", None)] == 1
    assert api.calls["shipment"] == 3  # 101, 102, 103: only our items' orders are followed


async def test_delivered_tag_saves_the_shipment_read() -> None:
    api = api_with_orders()
    delivered = order(2, "MLM1", 102)
    delivered.tags = ["paid", "delivered"]
    api.orders[1] = delivered
    items = dict(api.items)
    details = await read_details(api, SELLER, list(items.values()), items, set(), catalogue_known=True)
    assert api.calls["shipment"] == 2 and details.pending[("MLM1", None)] == 1


async def test_many_items_read_orders_and_questions_seller_wide() -> None:
    api = FakeApi().add(*(item(f"MLM{100 + n}") for n in range(200)))
    api.orders = [order(n, f"MLM{100 + n}", 1000 + n) for n in range(3)]
    api.shipments = {1000 + n: shipment(1000 + n, "handling") for n in range(3)}
    api.questions = [Question(id=1, item_id="MLM100", status="UNANSWERED")]
    items = dict(api.items)
    details = await read_details(api, SELLER, list(items.values()), items, set(), catalogue_known=True)
    assert details.strategies == {"orders": "seller", "questions": "seller"}
    assert api.calls["orders"] == 1 and api.calls["questions_seller"] == 1
    assert details.pending[("MLM101", None)] == 1
    assert details.questions["MLM100"] == 1


async def test_few_items_read_per_item() -> None:
    api = api_with_orders()
    api.questions = [
        Question(id=1, item_id="MLM1", status="UNANSWERED"),
        Question(id=2, item_id="MLX", status="UNANSWERED"),
    ]
    items = dict(api.items)
    details = await read_details(api, SELLER, list(items.values()), items, set(), catalogue_known=True)
    assert details.strategies["orders"] == "item"
    assert api.calls["orders"] == 3
    assert details.questions == {"MLM1": 1}


async def test_ads_one_advertiser_per_site_and_chunks_of_50() -> None:
    api = FakeApi().add(*(item(f"MLM{100 + n}") for n in range(120)), item("MLB1"))
    api.advertisers = {"MLM": Advertiser(advertiser_id=9, site_id="MLM")}
    api.ad_groups = [
        AdGroup(id="AG1", status="paused", item_ids=["MLM100"]),
        AdGroup(id="AG2", status="active", item_ids=["MLM100", "MLM101"]),
    ]
    items = dict(api.items)
    details = await read_details(api, SELLER, list(items.values()), items, set(), catalogue_known=True)
    assert api.calls["advertiser"] == 2  # MLM and MLB (MLB has none: no ad search there)
    assert api.calls["ad_groups"] == 3  # 120 MLM items in chunks of 50
    assert details.ad_groups["MLM100"].id == "AG2"  # the active group is the one that spends


async def test_real_counts_pick_seller_wide_where_the_assumption_would_not() -> None:
    # 20 items: the assumed 1,000 paid orders (20 pages of 50) would not beat 20 per-item
    # searches; the real count (3 orders, one page) does.
    items_ = [item(f"MLM{100 + n}") for n in range(20)]
    orders = [order(n, f"MLM{100 + n}", 1000 + n) for n in range(3)]
    questions = [Question(id=n, item_id=f"MLM{100 + n}", status="UNANSWERED") for n in range(2)]
    guessed, counted = FakeApi().add(*items_), FullFakeApi().add(*items_)
    for api in (guessed, counted):
        api.orders, api.questions = list(orders), list(questions)
        api.shipments = {1000 + n: shipment(1000 + n, "handling") for n in range(3)}
    by_guess = await read_details(
        guessed, SELLER, items_, {i.id: i for i in items_}, set(), catalogue_known=True
    )
    by_count = await read_details(
        counted, SELLER, items_, {i.id: i for i in items_}, set(), catalogue_known=True
    )
    assert by_guess.strategies == {"orders": "item", "questions": "seller"}
    assert by_count.strategies == {"orders": "seller", "questions": "seller"}
    assert by_guess.pending == by_count.pending and by_guess.questions == by_count.questions
    assert guessed.calls["orders"] == 20
    assert counted.calls["count_orders"] == counted.calls["count_questions"] == 1
    assert counted.calls["orders"] == 1  # count + one page instead of 20 searches


async def test_a_large_order_history_makes_per_item_cheaper() -> None:
    # 200 items: assumed 1,000 orders say seller-wide (20 pages); a real 12,000 (240 pages) says
    # per item (200 searches), and the count is what tells them apart.
    items_ = [item(f"MLM{100 + n}") for n in range(200)]
    api = FullFakeApi().add(*items_)
    api.orders = [order(n, f"MLB{n}", None) for n in range(12_000)]
    details = await read_details(api, SELLER, items_, {i.id: i for i in items_}, set(), catalogue_known=True)
    assert details.strategies["orders"] == "item"
    assert api.calls["count_orders"] == 1 and api.calls["orders"] == 200
    assert not details.pending


async def test_two_items_are_not_worth_a_count() -> None:
    api = FullFakeApi().add(item("MLM1"), item("MLM2"))
    items_ = dict(api.items)
    await read_details(api, SELLER, list(items_.values()), items_, set(), catalogue_known=True)
    assert api.calls["count_orders"] == api.calls["count_questions"] == 0


async def test_ads_all_advertisers_in_one_call() -> None:
    api = FullFakeApi().add(*(item(f"MLM{100 + n}") for n in range(120)), item("MLB1"), item("MCO1"))
    api.advertisers = {"MLM": Advertiser(advertiser_id=9, site_id="MLM")}
    api.ad_groups = [AdGroup(id="AG2", status="active", item_ids=["MLM100", "MLM101"])]
    items = dict(api.items)
    details = await read_details(api, SELLER, list(items.values()), items, set(), catalogue_known=True)
    assert api.calls["advertisers"] == 1 and api.calls["advertiser"] == 0  # three sites, one call
    assert api.calls["ad_groups"] == 3  # MLM only: MLB and MCO have no advertiser
    assert details.ad_groups["MLM101"].id == "AG2"


async def test_an_advertiser_without_site_serves_every_site() -> None:
    api = FullFakeApi().add(item("MLM1"), item("MLB1"))
    api.advertisers = {"": Advertiser(advertiser_id=9)}
    items = dict(api.items)
    await read_details(api, SELLER, list(items.values()), items, set(), catalogue_known=True)
    assert api.calls["advertisers"] == 1 and api.calls["ad_groups"] == 2


async def test_catalogue_sibling_found_by_reverse_relation() -> None:
    parent = item("MLB1", catalog_product_id="MLB999")
    child = item("MLB2", catalog_listing=True, item_relations=[{"id": "MLB1"}])
    api = FakeApi().add(parent, child)
    items = {"MLB1": parent}
    details = await read_details(api, SELLER, [parent], items, set(), catalogue_known=False)
    assert details.related == {"MLB1": ["MLB2"]}
    assert api.calls["search"] == 1 and api.calls["multiget"] == 1


def test_build_live_row_judges_ownership_and_fills_columns() -> None:
    details = LiveDetails()
    details.pending[("MLM2", None)] = 2
    details.pending[("MLM2", 22)] = 1
    multi = item("MLM2", variations=[variation(21, "A", qty=3), variation(22, "B", qty=4)])
    res = Resolution(row_number=7, identifier="B", kind=IdKind.SKU, item_id="MLM2", variation_id=22)
    live = build_live_row(res, multi, details, seller_id=SELLER)
    assert live.codes == [Code.FOUND]
    assert (live.variation_count, live.variation_ids, live.variation_quantity) == (2, [21, 22], 4)
    assert live.pending_orders == 1  # that variation's orders
    assert live.item_json is not None and live.item_json["id"] == "MLM2"

    other = item("MCO9", seller=2002)
    res = Resolution(row_number=8, identifier="MCO9", kind=IdKind.ITEM, item_id="MCO9")
    assert build_live_row(res, other, details, seller_id=SELLER).codes == [Code.NOT_YOUR_ITEM]
    res = Resolution(row_number=9, identifier="MLM5", kind=IdKind.ITEM, item_id="MLM5")
    assert build_live_row(res, None, details, seller_id=SELLER).codes == [Code.NOT_FOUND]


async def test_catalogue_twin_of_a_variation_is_found() -> None:
    """A multi-variation classic listing names its catalogue products per variation, not at item
    level: its catalogue twin must still be looked for."""
    parent = item(
        "MLB1",
        variations=[
            {**variation(21, "A"), "catalog_product_id": "MLB999"},
            {**variation(22, "B"), "catalog_product_id": None},
        ],
    )
    child = item("MLB2", catalog_listing=True, item_relations=[{"id": "MLB1", "variation_id": 21}])
    api = FakeApi().add(parent, child)
    details = await read_details(api, SELLER, [parent], {"MLB1": parent}, set(), catalogue_known=False)
    assert details.related == {"MLB1": ["MLB2"]}
    assert api.calls["search"] == 1


async def test_no_catalogue_product_no_catalogue_search() -> None:
    plain = item("MLB1", variations=[variation(21, "A"), variation(22, "B")])
    api = FakeApi().add(plain)
    details = await read_details(api, SELLER, [plain], {"MLB1": plain}, set(), catalogue_known=False)
    assert details.related == {} and api.calls["search"] == 0


async def test_a_relist_link_between_classic_listings_is_not_a_catalogue_twin() -> None:
    """A relisted item's old, closed listing links to its successor; neither is a catalogue
    listing, so no "catalogue twin stays active" warning (whose remedy would add a closed item)."""
    old = item(
        "MLM1", status="closed", item_relations=[{"id": "MLM2", "variation_id": None, "stock_relation": 0}]
    )
    new = item("MLM2")
    api = FakeApi().add(old, new)
    items = {"MLM1": old, "MLM2": new}
    details = await read_details(api, SELLER, [new], items, set(), catalogue_known=True)
    assert details.related == {}
    # A catalogue listing's link to its classic parent still counts, both ways.
    parent = item("MLB1", catalog_product_id="MLB999")
    child = item("MLB2", catalog_listing=True, item_relations=[{"id": "MLB1"}])
    items = {"MLB1": parent, "MLB2": child}
    details = await read_details(
        FakeApi().add(parent, child), SELLER, [parent, child], items, set(), catalogue_known=True
    )
    assert details.related == {"MLB1": ["MLB2"], "MLB2": ["MLB1"]}
