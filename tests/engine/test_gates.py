"""The safety gates, one rule at a time (pure: LiveRow + action → PlannedRow)."""

from __future__ import annotations

from typing import Any

import pytest

from mltakedown.book.ports import BookSettings, Result
from mltakedown.codes import Code
from mltakedown.engine.gates import GateContext, plan_row, plan_rows, requests_for, row_result
from mltakedown.engine.meanings import describe_state, is_platform_controlled, sub_status_meaning
from mltakedown.engine.model import LiveRow, Op

SELLER = 1001
SETTINGS = BookSettings(seller_id=SELLER, pause_ads_with_listing=True)
CTX = GateContext(settings=SETTINGS)


def live(**fields: Any) -> LiveRow:
    base: dict[str, Any] = {
        "row_number": 5,
        "identifier": "MLM1",
        "identifier_kind": "item",
        "item_id": "MLM1",
        "site": "MLM",
        "seller_id": SELLER,
        "status": "active",
        "available_quantity": 10,
        "codes": [Code.FOUND],
    }
    base.update(fields)
    return LiveRow(**base)


def ops(row: Any) -> list[Op]:
    return [w.op for w in row.writes]


def test_plain_pause_is_one_status_write() -> None:
    row = plan_row(live(), "PAUSE", confirm=False, ctx=CTX)
    assert ops(row) == [Op.PAUSE]
    assert row.writes[0].body == {"status": "paused"}
    assert row.writes[0].expected_status == "paused"
    assert row.codes == [Code.PLANNED]
    assert row_result(row) is Result.OK


@pytest.mark.parametrize(
    "blocker", [Code.ACCOUNT_MISMATCH, Code.NOT_FOUND, Code.SKU_AMBIGUOUS, Code.SKU_NOT_FOUND]
)
def test_live_blockers_plan_nothing(blocker: Code) -> None:
    row = plan_row(live(codes=[blocker], detail="why"), "PAUSE", confirm=True, ctx=CTX)
    assert row.writes == []
    assert row.codes == [blocker]
    assert row_result(row) is Result.BLOCKED


def test_another_sellers_item_is_never_written_even_if_pull_said_found() -> None:
    row = plan_row(live(seller_id=2002), "PAUSE", confirm=False, ctx=CTX)
    assert row.writes == []
    assert row.codes[0] is Code.NOT_YOUR_ITEM


def test_no_seller_in_settings_means_no_write() -> None:
    ctx = GateContext(settings=BookSettings(seller_id=None))
    assert plan_row(live(), "PAUSE", confirm=False, ctx=ctx).writes == []


def test_variation_sku_zeroes_that_variation_only() -> None:
    row = plan_row(
        live(
            variation_id=2,
            variation_count=3,
            variation_ids=[1, 2, 3],
            variation_quantity=6,
            ad_status="active",
            ad_group_id="AG1",
        ),
        "PAUSE",
        confirm=False,
        ctx=CTX,
    )
    assert ops(row) == [Op.ZERO_VARIATION]
    body = row.writes[0].body
    assert body == {"variations": [{"id": 2, "available_quantity": 0}, {"id": 1}, {"id": 3}]}
    assert row.codes[0] is Code.VARIATION_ONLY
    assert Code.AD_ACTIVE_NOTED in row.codes  # the ad keeps serving the other variations
    assert row_result(row) is Result.WARNING


@pytest.mark.parametrize("action", ["CLOSE", "DELETE"])
def test_variation_sku_never_closes_the_item(action: str) -> None:
    row = plan_row(
        live(variation_id=2, variation_count=2, variation_ids=[1, 2], variation_quantity=1),
        action,
        confirm=True,
        ctx=CTX,
    )
    assert ops(row) == [Op.ZERO_VARIATION]


def test_single_variation_item_is_paused_as_a_whole() -> None:
    row = plan_row(
        live(variation_id=1, variation_count=1, variation_ids=[1]), "PAUSE", confirm=False, ctx=CTX
    )
    assert ops(row) == [Op.PAUSE]


def test_variation_already_at_zero_is_skipped() -> None:
    row = plan_row(
        live(variation_id=2, variation_count=2, variation_ids=[1, 2], variation_quantity=0),
        "PAUSE",
        confirm=False,
        ctx=CTX,
    )
    assert row.writes == [] and row.codes[0] is Code.ALREADY_IN_TARGET
    assert row_result(row) is Result.SKIPPED


def test_full_variation_is_blocked_not_written() -> None:
    row = plan_row(
        live(variation_id=2, variation_count=2, variation_ids=[1, 2], variation_quantity=4, is_full=True),
        "PAUSE",
        confirm=False,
        ctx=CTX,
    )
    assert row.writes == []
    assert Code.FULL_STOCK in row.codes
    assert row_result(row) is Result.BLOCKED


def test_pending_orders_block_close_and_delete_and_warn_on_pause() -> None:
    for action in ("CLOSE", "DELETE"):
        row = plan_row(live(pending_orders=2), action, confirm=True, ctx=CTX)
        assert row.writes == [] and row.codes[0] is Code.PENDING_ORDERS_BLOCK
    row = plan_row(live(pending_orders=2), "PAUSE", confirm=False, ctx=CTX)
    assert ops(row) == [Op.PAUSE] and row.codes[0] is Code.PENDING_ORDERS_WARN
    assert row.code_details[Code.PENDING_ORDERS_WARN.value] == "2"


@pytest.mark.parametrize(
    ("status", "subs"),
    [
        ("under_review", ["held"]),
        ("under_review", []),
        ("inactive", []),
        ("payment_required", []),
        ("active", ["forbidden"]),
        ("paused", ["suspended"]),
        ("active", ["freezed"]),
        ("active", ["banned"]),
    ],
)
def test_platform_controlled_is_explained_never_attempted(status: str, subs: list[str]) -> None:
    row = plan_row(live(status=status, sub_status=subs), "PAUSE", confirm=False, ctx=CTX)
    assert row.writes == []
    assert row.codes == [Code.PLATFORM_CONTROLLED]
    detail = row.code_details[Code.PLATFORM_CONTROLLED.value]
    assert "appeal" in detail or "Billing" in detail
    assert row_result(row) is Result.BLOCKED


def test_platform_controlled_explained_in_spanish() -> None:
    ctx = GateContext(settings=SETTINGS, lang="es")
    row = plan_row(live(status="under_review", sub_status=["held"]), "PAUSE", confirm=False, ctx=ctx)
    assert "revisión" in row.detail


@pytest.mark.parametrize(
    ("action", "status", "subs"),
    [("PAUSE", "paused", ["paused_by_seller"]), ("CLOSE", "closed", []), ("DELETE", "closed", ["deleted"])],
)
def test_already_in_target_is_skipped(action: str, status: str, subs: list[str]) -> None:
    row = plan_row(live(status=status, sub_status=subs), action, confirm=True, ctx=CTX)
    assert row.writes == [] and row.codes[0] is Code.ALREADY_IN_TARGET
    assert row_result(row) is Result.SKIPPED


def test_delete_of_closed_item_is_one_write_and_of_open_item_two_requests() -> None:
    closed = plan_row(live(status="closed"), "DELETE", confirm=True, ctx=CTX)
    assert ops(closed) == [Op.DELETE] and requests_for(closed) == 1
    open_ = plan_row(live(), "DELETE", confirm=True, ctx=CTX)
    assert ops(open_) == [Op.DELETE] and requests_for(open_) == 2
    assert Code.CLOSE_IS_FINAL in open_.codes


def test_closed_item_cannot_be_paused() -> None:
    row = plan_row(live(status="closed"), "PAUSE", confirm=False, ctx=CTX)
    assert row.writes == [] and row.codes[0] is Code.CLOSED_CANNOT_CHANGE


def test_close_warns_it_is_final_and_needs_confirm() -> None:
    row = plan_row(live(), "CLOSE", confirm=True, ctx=CTX)
    assert ops(row) == [Op.CLOSE] and row.codes[0] is Code.CLOSE_IS_FINAL
    unconfirmed = plan_row(live(), "CLOSE", confirm=False, ctx=CTX)
    assert unconfirmed.writes == [] and unconfirmed.codes[0] is Code.CONFIRM_MISSING


def test_full_item_pause_warns_and_never_writes_stock() -> None:
    row = plan_row(live(is_full=True, available_quantity=320), "PAUSE", confirm=False, ctx=CTX)
    assert ops(row) == [Op.PAUSE]
    assert Code.FULL_STOCK in row.codes
    assert all("available_quantity" not in str(w.body) for w in row.writes)
    assert row_result(row) is Result.WARNING


def test_active_ad_paused_with_listing_when_settings_say_so() -> None:
    row = plan_row(
        live(ad_status="active", ad_group_id="AG1", ad_group_item_ids=["MLM1"]),
        "PAUSE",
        confirm=False,
        ctx=CTX,
    )
    assert ops(row) == [Op.PAUSE, Op.PAUSE_AD]
    assert row.writes[1].ad_group_id == "AG1" and row.writes[1].site == "MLM"
    assert Code.AD_PAUSED_WITH_LISTING in row.codes
    assert row_result(row) is Result.OK


def test_active_ad_only_noted_when_settings_say_no() -> None:
    ctx = GateContext(settings=BookSettings(seller_id=SELLER, pause_ads_with_listing=False))
    row = plan_row(live(ad_status="active", ad_group_id="AG1"), "PAUSE", confirm=False, ctx=ctx)
    assert ops(row) == [Op.PAUSE] and row.codes[0] is Code.AD_ACTIVE_NOTED


def test_shared_ad_group_is_not_paused_for_items_outside_the_list() -> None:
    row = plan_row(
        live(ad_status="active", ad_group_id="AG6", ad_group_item_ids=["MLM1", "MLM2"]),
        "PAUSE",
        confirm=False,
        ctx=CTX,
    )
    assert ops(row) == [Op.PAUSE] and Code.AD_ACTIVE_NOTED in row.codes
    both = GateContext(settings=SETTINGS, listed_item_ids=frozenset({"MLM1", "MLM2"}))
    row = plan_row(
        live(ad_status="active", ad_group_id="AG6", ad_group_item_ids=["MLM1", "MLM2"]),
        "PAUSE",
        confirm=False,
        ctx=both,
    )
    assert ops(row) == [Op.PAUSE, Op.PAUSE_AD]


def test_catalogue_sibling_outside_the_list_is_reported() -> None:
    rows = plan_rows([(live(related_item_ids=["MLM9"]), "PAUSE", False)], settings=SETTINGS)
    assert Code.CATALOGUE_SIBLING in rows[0].codes
    rows = plan_rows(
        [
            (live(related_item_ids=["MLM9"]), "PAUSE", False),
            (live(row_number=6, item_id="MLM9"), "PAUSE", False),
        ],
        settings=SETTINGS,
    )
    assert Code.CATALOGUE_SIBLING not in rows[0].codes


def test_questions_are_information() -> None:
    row = plan_row(live(unanswered_questions=2), "PAUSE", confirm=False, ctx=CTX)
    assert Code.UNANSWERED_QUESTIONS in row.codes and row_result(row) is Result.OK


def test_restore_and_ignore_rows() -> None:
    restore = plan_row(live(status="paused"), "RESTORE", confirm=False, ctx=CTX)
    assert restore.action == "RESTORE" and restore.writes == [] and restore.codes == []
    ignore = plan_row(live(), "IGNORE", confirm=False, ctx=CTX)
    assert ignore.writes == [] and ignore.codes == [Code.IGNORED]


def test_meanings() -> None:
    assert is_platform_controlled("under_review", [])
    assert is_platform_controlled("paused", ["forbidden"])
    assert not is_platform_controlled("paused", ["paused_by_seller", "out_of_stock"])
    assert "paused by the seller" in describe_state("paused", ["paused_by_seller"], "en")
    assert "卖家" in sub_status_meaning(["paused_by_seller"], "zh")
    assert sub_status_meaning(["something_new"], "pt") == "something_new"


def test_two_rows_naming_one_item_write_it_once() -> None:
    rows = plan_rows(
        [
            (live(), "PAUSE", False),
            (live(row_number=6, identifier="SKU-1", identifier_kind="sku"), "PAUSE", False),
        ],
        settings=SETTINGS,
    )
    assert ops(rows[0]) == [Op.PAUSE]
    assert rows[1].writes == [] and rows[1].codes[0] is Code.DUPLICATE_ROW
    assert row_result(rows[1]) is Result.SKIPPED


def test_two_rows_with_different_actions_on_one_item_write_nothing() -> None:
    rows = plan_rows([(live(), "PAUSE", False), (live(row_number=6), "CLOSE", True)], settings=SETTINGS)
    assert all(r.writes == [] and r.codes[0] is Code.CONFLICTING_ACTIONS for r in rows)
    assert rows[0].code_details[Code.CONFLICTING_ACTIONS.value] == "MLM1: 5, 6"


def test_two_variations_of_one_item_are_separate_targets() -> None:
    a = live(variation_id=1, variation_count=2, variation_ids=[1, 2], variation_quantity=3)
    b = live(row_number=6, variation_id=2, variation_count=2, variation_ids=[1, 2], variation_quantity=3)
    rows = plan_rows([(a, "PAUSE", False), (b, "PAUSE", False)], settings=SETTINGS)
    assert [ops(r) for r in rows] == [[Op.ZERO_VARIATION], [Op.ZERO_VARIATION]]


# -- listings Mercado Libre paused for lack of stock come back by themselves -------------------


def test_out_of_stock_pause_is_not_a_takedown_so_the_pause_is_still_written() -> None:
    """Restocking reactivates a listing ML paused for stock (ml-api.md §0.8) unless the seller
    paused it: skipping it as "already paused" would let it come back online."""
    row = plan_row(
        live(status="paused", sub_status=["out_of_stock"], available_quantity=0),
        "PAUSE",
        confirm=False,
        ctx=CTX,
    )
    assert ops(row) == [Op.PAUSE]
    assert row.writes[0].body == {"status": "paused"} and row_result(row) is Result.OK
    held = plan_row(
        live(status="paused", sub_status=["paused_by_seller", "out_of_stock"]),
        "PAUSE",
        confirm=False,
        ctx=CTX,
    )
    assert held.writes == [] and held.codes[0] is Code.ALREADY_IN_TARGET


# -- "in the list" means the plan really takes that listing down -------------------------------


def shared_group(row_number: int, item_id: str, **fields: Any) -> LiveRow:
    base: dict[str, Any] = {
        "row_number": row_number,
        "item_id": item_id,
        "identifier": item_id,
        "ad_status": "active",
        "ad_group_id": "AG6",
        "ad_group_item_ids": ["MLM1", "MLM2"],
        "related_item_ids": ["MLM2" if item_id == "MLM1" else "MLM1"],
    }
    base.update(fields)
    return live(**base)


@pytest.mark.parametrize(
    ("other", "action", "confirm"),
    [
        (shared_group(6, "MLM2"), "RESTORE", False),  # restored: stays on sale
        (shared_group(6, "MLM2", pending_orders=1), "CLOSE", True),  # blocked by its orders
        (shared_group(6, "MLM2", status="under_review"), "PAUSE", False),  # platform-controlled
        (  # one variation zeroed: the listing stays on sale
            shared_group(
                6, "MLM2", variation_id=2, variation_count=2, variation_ids=[1, 2], variation_quantity=3
            ),
            "PAUSE",
            False,
        ),
    ],
)
def test_a_listed_item_that_stays_on_sale_keeps_its_shared_ad_and_twin_warning(
    other: LiveRow, action: str, confirm: bool
) -> None:
    rows = plan_rows([(shared_group(5, "MLM1"), "PAUSE", False), (other, action, confirm)], settings=SETTINGS)
    assert ops(rows[0]) == [Op.PAUSE]  # never PAUSE_AD: AG6 also serves MLM2, which stays on sale
    assert Code.AD_ACTIVE_NOTED in rows[0].codes and Code.CATALOGUE_SIBLING in rows[0].codes
    assert "MLM2" in rows[0].code_details[Code.CATALOGUE_SIBLING.value]


def test_a_listed_item_already_down_counts_as_taken_down() -> None:
    rows = plan_rows(
        [
            (shared_group(5, "MLM1"), "PAUSE", False),
            (shared_group(6, "MLM2", status="paused", sub_status=["paused_by_seller"]), "PAUSE", False),
        ],
        settings=SETTINGS,
    )
    assert ops(rows[0]) == [Op.PAUSE, Op.PAUSE_AD] and Code.CATALOGUE_SIBLING not in rows[0].codes
    assert rows[1].codes[0] is Code.ALREADY_IN_TARGET


def test_a_shared_ad_group_is_paused_once_for_all_its_listed_items() -> None:
    rows = plan_rows(
        [(shared_group(5, "MLM1"), "PAUSE", False), (shared_group(6, "MLM2"), "PAUSE", False)],
        settings=SETTINGS,
    )
    assert ops(rows[0]) == [Op.PAUSE, Op.PAUSE_AD]
    assert ops(rows[1]) == [Op.PAUSE]  # AG6 is not sent twice
    assert rows[1].code_details[Code.AD_PAUSED_WITH_LISTING.value] == "AG6 (row 5)"
    assert [w.ad_group_id for r in rows for w in r.writes if w.op is Op.PAUSE_AD] == ["AG6"]
