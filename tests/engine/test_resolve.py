"""Resolution of rows to items, and the cost model that picks search or scan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from mltakedown.codes import Code
from mltakedown.engine.resolve import (
    Strategy,
    choose_strategy,
    match_sku,
    resolve_rows,
    scan_cost,
    search_cost,
    worth_counting,
)
from mltakedown.ids import Identifier, IdKind
from mltakedown.meli.errors import ServerError

from .engine_fakes import FakeApi, Fetched, FullFakeApi, item, variation

SELLER = 1001


def sku(value: str) -> Identifier:
    return Identifier(kind=IdKind.SKU, value=value)


def iid(value: str) -> Identifier:
    return Identifier(kind=IdKind.ITEM, value=value, site=value[:3])


# -- the cost model (pure) ---------------------------------------------------------------------


def test_search_cost_counts_searches_and_the_shared_multiget() -> None:
    assert search_cost(0, 40) == 2  # two multigets of 20
    assert search_cost(10, 10, fallback_rate=0.0) == 10 + 1
    assert search_cost(10, 0, fallback_rate=1.0) == 20 + 1


def test_scan_cost_is_pages_of_100_plus_multigets_of_20() -> None:
    assert scan_cost(2000) == 20 + 100
    assert scan_cost(1) == 2


def test_choose_strategy_picks_fewer_requests() -> None:
    assert choose_strategy(0, 50, None) is Strategy.NONE
    assert choose_strategy(2000, 0, 2050) is Strategy.SCAN  # ~125 requests instead of ~3,100
    assert choose_strategy(5, 0, 100_000) is Strategy.SEARCH  # a huge catalogue for a handful of SKUs
    assert choose_strategy(5, 0, None) is Strategy.SEARCH
    # 1,000 items scan in 60 requests: 40 SKUs (~62 by search) tip it, 30 (~47) do not.
    assert choose_strategy(40, 0, 1000) is Strategy.SCAN
    assert choose_strategy(30, 0, 1000) is Strategy.SEARCH


def test_counting_is_only_worth_it_when_the_scan_could_win() -> None:
    assert not worth_counting(0, 100)
    assert not worth_counting(2, 0)
    assert worth_counting(3, 0)


# -- matching (pure) ---------------------------------------------------------------------------


def test_match_prefers_the_seller_sku_attribute_over_the_custom_field() -> None:
    a = item("MLM1", sku="X")
    b = item("MLM2", custom="X")
    matches = match_sku([a, b], "X")
    assert [(m.item_id, m.via) for m in matches] == [("MLM1", "seller_sku")]


def test_match_finds_the_variation() -> None:
    multi = item("MLM1", variations=[variation(11, "A"), variation(12, "B"), variation(13, "C")])
    (m,) = match_sku([multi], "B")
    assert (m.item_id, m.variation_id) == ("MLM1", 12)


def test_sku_on_every_variation_names_the_whole_item() -> None:
    multi = item("MLM1", variations=[variation(11, "A"), variation(12, "A")])
    (m,) = match_sku([multi], "A")
    assert m.variation_id is None


def test_match_is_exact_case_inner_spaces_and_leading_zeros() -> None:
    # Case and inner spaces are part of a SKU (the L205 remedy says so): a near miss is never a match.
    assert match_sku([item("MLM1", sku="abc")], "ABC") == []
    both = match_sku([item("MLM1", sku="abc"), item("MLM2", sku="ABC")], "ABC")
    assert [m.item_id for m in both] == ["MLM2"]
    assert match_sku([item("MLM1", sku="Acme Rl 0042 Negro")], "Acme Rl  0042 Negro") == []
    assert match_sku([item("MLM1", sku="Acme Rl 0042 Negro")], "Acme Rl 0042 Negro")[0].item_id == "MLM1"
    assert match_sku([item("MLM1", sku="00123")], "123") == []
    # Outer spaces of the stored value are not part of it.
    assert match_sku([item("MLM1", sku=" X-1 ")], "X-1")[0].item_id == "MLM1"


def test_custom_field_is_only_read_when_no_attribute_matches_exactly() -> None:
    a = item("MLM1", sku="x-1")
    b = item("MLM2", custom="X-1")
    assert [(m.item_id, m.via) for m in match_sku([a, b], "X-1")] == [("MLM2", "seller_custom_field")]


@dataclass
class LenientSearchApi(FakeApi):
    """A search that, like a full-text index, ignores case and repeated spaces."""

    async def search_item_ids(
        self,
        seller_id: int,
        *,
        seller_sku: str | None = None,
        sku: str | None = None,
        user_product_id: str | None = None,
        catalog_listing: bool | None = None,
    ) -> list[str]:
        def loose(value: str | None) -> str:
            return " ".join((value or "").split()).casefold()

        self.calls["search"] += 1
        wanted = loose(seller_sku if seller_sku is not None else sku)
        out = []
        for it in self._own(seller_id):
            places = [it.seller_sku, *(v.seller_sku for v in it.variations)]
            if seller_sku is None:
                places = [it.seller_custom_field, *(v.seller_custom_field for v in it.variations)]
            if any(loose(p) == wanted for p in places if p):
                out.append(it.id)
        return out


async def test_a_lenient_search_hit_is_never_resolved_to_the_whole_item() -> None:
    """The search finds a multi-variation listing by a variation's SKU typed with other spacing
    or case: resolving it would pause the whole listing. It is named, not resolved."""
    api = LenientSearchApi().add(item("MLM2", variations=[variation(21, "TS AZ"), variation(22, "TS NE")]))
    for typed in ("TS  AZ", "ts az"):
        out = await resolve_rows(api, SELLER, [(5, sku(typed))])
        assert out.strategy is Strategy.SEARCH
        res = out.resolutions[5]
        assert res.item_id is None and res.variation_id is None
        assert res.codes == [Code.SKU_NOT_FOUND]
        assert "MLM2" in res.detail
    # Exactly as stored, it still resolves to that variation.
    out = await resolve_rows(api, SELLER, [(5, sku("TS AZ"))])
    assert (out.resolutions[5].item_id, out.resolutions[5].variation_id) == ("MLM2", 21)


async def test_scan_names_a_case_only_match_without_resolving_it() -> None:
    api = world().add(*(item(f"MLM{1000 + n}", sku=f"S{n}") for n in range(20)))
    entries = [(5, sku("one"))] + [(10 + n, sku(f"S{n}")) for n in range(20)]
    out = await resolve_rows(api, SELLER, entries)
    assert out.strategy is Strategy.SCAN
    res = out.resolutions[5]
    assert res.item_id is None and res.codes == [Code.SKU_NOT_FOUND]
    assert res.detail == "one ≠ MLM1 (ONE)"


async def test_scan_counts_an_item_once_when_its_sku_places_differ_in_case() -> None:
    api = FakeApi().add(
        item("MLM1", sku="abc", custom="ABC"), *(item(f"MLM{1000 + n}", sku=f"S{n}") for n in range(20))
    )
    entries = [(5, sku("abc")), (6, sku("ABC"))] + [(10 + n, sku(f"S{n}")) for n in range(20)]
    out = await resolve_rows(api, SELLER, entries)
    assert out.strategy is Strategy.SCAN
    assert (out.resolutions[5].item_id, out.resolutions[5].matched_by) == ("MLM1", "seller_sku")
    assert (out.resolutions[6].item_id, out.resolutions[6].matched_by) == ("MLM1", "seller_custom_field")


# -- resolve_rows against a fake API -----------------------------------------------------------


def world(filler: int = 0) -> FakeApi:
    """The tricky items, plus ``filler`` unrelated ones (a bigger catalogue makes scanning dear)."""
    api = FakeApi().add(*(item(f"MLB{9000 + n}", sku=f"F{n}") for n in range(filler)))
    return api.add(
        item("MLM1", sku="ONE"),
        item("MLM2", variations=[variation(21, "TS-AZ"), variation(22, "TS-NE")]),
        item("MLM3", sku="DUP"),
        item("MLM4", sku="DUP"),
        item("MLA5", custom="CF-ONLY"),
        item("MCO9", seller=2002, sku="ONE"),
    )


async def test_resolves_each_kind_with_searches_for_few_skus() -> None:
    api = world(filler=500)
    entries = [(5, iid("MLM1")), (6, sku("TS-AZ")), (7, sku("DUP")), (8, sku("CF-ONLY")), (9, sku("NOPE"))]
    out = await resolve_rows(api, SELLER, entries)
    assert out.strategy is Strategy.SEARCH
    r = out.resolutions
    assert (r[5].item_id, r[5].matched_by) == ("MLM1", "item_id")
    assert (r[6].item_id, r[6].variation_id) == ("MLM2", 21)
    assert r[7].item_id is None and r[7].codes == [Code.SKU_AMBIGUOUS] and r[7].candidates == ["MLM3", "MLM4"]
    assert (r[8].item_id, r[8].matched_by) == ("MLA5", "seller_custom_field")
    assert r[9].codes == [Code.SKU_NOT_FOUND]
    # 4 SKUs: one count (the scan could have won), attribute searches, custom-field fallbacks for
    # the two the attribute search missed, and ONE multiget for everything.
    assert api.calls["count"] == 1
    assert api.calls["multiget"] == 1
    assert api.calls["search"] == 4 + 2


async def test_another_sellers_sku_is_not_found_by_search() -> None:
    api = world()
    out = await resolve_rows(api, SELLER, [(5, sku("ONE"))])
    assert out.resolutions[5].item_id == "MLM1"  # never MCO9 (seller 2002)


async def test_item_id_not_found() -> None:
    out = await resolve_rows(world(), SELLER, [(5, iid("MLM404"))])
    assert out.resolutions[5].codes == [Code.NOT_FOUND]
    assert "MLM404" in out.missing


async def test_many_skus_scan_the_catalogue_instead() -> None:
    api = FakeApi().add(*(item(f"MLM{1000 + n}", sku=f"S{n}") for n in range(300)))
    entries = [(5 + n, sku(f"S{n}")) for n in range(300)]
    out = await resolve_rows(api, SELLER, entries)
    assert out.strategy is Strategy.SCAN
    assert all(out.resolutions[5 + n].item_id == f"MLM{1000 + n}" for n in range(300))
    # count + 3 pages of IDs (offset paging, concurrent, under 1000 items) + 15 multigets,
    # far below 300+ searches.
    assert api.requests == 1 + 3 + 15
    assert api.calls["scan"] == 0


async def test_catalogues_over_1000_items_are_scanned() -> None:
    api = FakeApi().add(*(item(f"MLM{10_000 + n}", sku=f"S{n}") for n in range(1100)))
    out = await resolve_rows(api, SELLER, [(5 + n, sku(f"S{n}")) for n in range(200)])
    assert out.strategy is Strategy.SCAN
    assert out.resolutions[5].item_id == "MLM10000"
    assert api.calls["scan"] == 11 and api.calls["search"] == 0
    assert api.requests == 1 + 11 + 55


async def test_scan_keeps_ambiguity_and_variations() -> None:
    api = world().add(*(item(f"MLM{1000 + n}", sku=f"S{n}") for n in range(5)))
    entries = [(5, sku("DUP")), (6, sku("TS-NE")), (7, iid("MCO9"))] + [
        (10 + n, sku(f"S{n}")) for n in range(5)
    ]
    out = await resolve_rows(api, SELLER, entries)
    assert out.strategy is Strategy.SCAN
    assert out.resolutions[5].codes == [Code.SKU_AMBIGUOUS]
    assert (out.resolutions[6].item_id, out.resolutions[6].variation_id) == ("MLM2", 22)
    # Another seller's item typed directly is still fetched (then judged NOT_YOUR_ITEM later).
    assert out.resolutions[7].item_id == "MCO9"


@pytest.mark.parametrize("value", ["TS-AZ", "TS-NE", "ts-az", "one", "DUP", "CF-ONLY", "cf-only"])
async def test_same_answer_by_search_or_scan(value: str) -> None:
    by_search = await resolve_rows(world(), SELLER, [(5, sku(value))])
    many = [(5, sku(value))] + [(10 + n, sku(f"X{n}")) for n in range(20)]
    by_scan = await resolve_rows(world(filler=20), SELLER, many)
    assert by_search.strategy is Strategy.SEARCH and by_scan.strategy is Strategy.SCAN
    a, b = by_search.resolutions[5], by_scan.resolutions[5]
    assert (a.item_id, a.variation_id, a.codes) == (b.item_id, b.variation_id, b.codes)


# -- scan pages overlapped with multigets ------------------------------------------------------


async def test_multigets_overlap_the_scan_pages_over_1000_items() -> None:
    api = FullFakeApi()
    api.add(*(item(f"MLM{10_000 + n}", sku=f"S{n}") for n in range(1100)))
    out = await resolve_rows(api, SELLER, [(5 + n, sku(f"S{n}")) for n in range(200)])
    assert out.strategy is Strategy.SCAN
    assert out.resolutions[5].item_id == "MLM10000" and out.resolutions[204].item_id == "MLM10199"
    assert len(out.items) == 1100
    # Same requests as the sequential scan (count + 11 pages + 55 multigets) ...
    assert api.calls["scan"] == 11 and api.calls["search"] == 0
    assert api.requests == 1 + 11 + 55
    # ... but the first page's items are fetched before the scan is over, not after it.
    last_scan = max(n for n, e in enumerate(api.events) if e == "scan")
    assert api.events.index("multiget") < last_scan


async def test_a_failed_multiget_during_the_scan_raises_the_error_itself() -> None:
    class Failing(FullFakeApi):
        async def get_items(self, ids: Sequence[str]) -> list[Fetched]:
            raise ServerError("boom", status_code=500, error="internal_error")

    api = Failing().add(*(item(f"MLM{10_000 + n}", sku=f"S{n}") for n in range(1100)))
    with pytest.raises(ServerError):
        await resolve_rows(api, SELLER, [(5 + n, sku(f"S{n}")) for n in range(200)])


async def test_up_to_1000_items_are_listed_by_concurrent_offset_pages_not_scanned() -> None:
    api = FullFakeApi().add(*(item(f"MLM{1000 + n}", sku=f"S{n}") for n in range(300)))
    out = await resolve_rows(api, SELLER, [(5 + n, sku(f"S{n}")) for n in range(300)])
    assert out.strategy is Strategy.SCAN and api.calls["scan"] == 0
    assert api.requests == 1 + 3 + 15


async def test_a_near_miss_on_the_attribute_still_finds_the_exact_custom_field() -> None:
    """A lenient attribute search hits ``abc`` for ``ABC``; the listing whose custom field is
    exactly ``ABC`` must be found, as the scan finds it, not reported as not found."""
    api = LenientSearchApi().add(item("MLM1", sku="abc"), item("MLM2", custom="ABC"))
    out = await resolve_rows(api, SELLER, [(5, sku("ABC"))])
    assert out.strategy is Strategy.SEARCH
    assert (out.resolutions[5].item_id, out.resolutions[5].matched_by) == ("MLM2", "seller_custom_field")
    assert api.calls["search"] == 2 and api.calls["multiget"] == 2
    # An exact attribute hit needs no second search.
    exact = LenientSearchApi().add(item("MLM1", sku="ABC"), item("MLM2", custom="ABC"))
    out = await resolve_rows(exact, SELLER, [(5, sku("ABC"))])
    assert out.resolutions[5].item_id == "MLM1" and exact.calls["search"] == 1
