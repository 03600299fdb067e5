"""The stored plan: input hash, estimates, storage beside the workbook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mltakedown.book.ports import BookSettings, InputRow
from mltakedown.engine.gates import plan_rows
from mltakedown.engine.model import LiveRow, PlannedRow
from mltakedown.engine.plan import (
    build_plan,
    estimate_requests,
    estimate_seconds,
    inputs_hash,
    is_current,
    load_plan,
    plan_path,
    save_plan,
)

ROWS = [
    InputRow(5, {"identifier": "MLM1", "action": "PAUSE", "reason": "TRO", "confirm": None}),
    InputRow(6, {"identifier": "00123", "action": "CLOSE", "reason": "TRO", "confirm": "yes"}),
]


def with_value(row: InputRow, key: str, value: object) -> InputRow:
    return InputRow(row.row_number, {**row.values, key: value}, row.formulas, row.outputs)  # type: ignore[dict-item]


def test_hash_is_stable_and_ignores_outputs() -> None:
    again = [InputRow(r.row_number, dict(r.values), r.formulas, {"result": "OK"}) for r in ROWS]
    assert inputs_hash(ROWS) == inputs_hash(again)
    assert inputs_hash(ROWS).startswith("v1:")


def test_any_input_change_changes_the_hash() -> None:
    base = inputs_hash(ROWS)
    assert inputs_hash([with_value(ROWS[0], "action", "CLOSE"), ROWS[1]]) != base
    assert inputs_hash([with_value(ROWS[0], "note", "x"), ROWS[1]]) != base
    assert inputs_hash([ROWS[0], with_value(ROWS[1], "identifier", 123)]) != base  # text vs number
    assert inputs_hash(ROWS[:1]) != base
    moved = [InputRow(7, ROWS[1].values), ROWS[0]]
    assert inputs_hash(moved) != base
    formula = [ROWS[0], InputRow(6, ROWS[1].values, frozenset({"identifier"}))]
    assert inputs_hash(formula) != base


def test_integral_floats_hash_like_ints() -> None:
    assert inputs_hash([InputRow(5, {"identifier": 123.0})]) == inputs_hash(
        [InputRow(5, {"identifier": 123})]
    )


def planned() -> list[PlannedRow]:
    a = LiveRow(
        row_number=5, item_id="MLM1", seller_id=1, status="active", ad_status="active", ad_group_id="AG"
    )
    b = LiveRow(row_number=6, item_id="MLM2", seller_id=1, status="active")
    return plan_rows([(a, "PAUSE", False), (b, "DELETE", True)], settings=BookSettings(seller_id=1))


def test_estimates_count_writes_and_verification_reads() -> None:
    rows = planned()
    # pause + pause_ad; close + delete; one multiget to verify both items.
    assert estimate_requests(rows) == 2 + 2 + 1
    assert estimate_seconds(5, 5.0) == 1.0


def test_plan_round_trip_and_staleness(tmp_path: Path) -> None:
    book = tmp_path / "takedown.xlsm"
    now = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    stored = build_plan(planned(), ROWS, workbook=book, seller_id=1, rate=5.0, now=now)
    path = save_plan(stored, book)
    assert path == tmp_path / "takedown.mltakedown" / "plan.json" == plan_path(book)
    loaded = load_plan(path)
    assert loaded == stored
    assert load_plan(book) == stored  # the workbook's path finds its plan too
    assert loaded.requests_estimate == 5 and loaded.seconds_estimate == 1.0
    assert is_current(loaded, ROWS)
    assert not is_current(loaded, [with_value(ROWS[0], "identifier", "MLM9"), ROWS[1]])


def test_a_cell_that_changes_type_changes_the_hash() -> None:
    """Check reads a time cell (blocked: Excel turned ``3:12`` into a time) and the same text
    (a SKU) differently, so the plan of one must not pass for the other."""
    text = [InputRow(5, {"identifier": "03:12:00", "action": "PAUSE"})]
    as_time = [InputRow(5, {"identifier": dt.time(3, 12), "action": "PAUSE"})]  # type: ignore[dict-item]
    assert inputs_hash(text) != inputs_hash(as_time)
    duration = [InputRow(5, {"identifier": dt.timedelta(hours=3, minutes=12), "action": "PAUSE"})]  # type: ignore[dict-item]
    assert inputs_hash(duration) not in {inputs_hash(text), inputs_hash(as_time)}
    assert inputs_hash([InputRow(5, {"identifier": "2024-03-12"})]) != inputs_hash(
        [InputRow(5, {"identifier": dt.date(2024, 3, 12)})]
    )


@pytest.mark.parametrize(
    ("key", "before", "after"),
    [
        ("confirm", None, "yes"),
        ("confirm", "yes", True),
        ("confirm", "yes", "no"),
        ("id_type", None, "SKU"),
        ("id_type", "SKU", "ITEM"),
        ("reason", "TRO", "IP"),
        ("reference", "CASE-1", "CASE-2"),
        ("identifier", "00123", "123"),
        ("identifier", "abc", "ABC"),
        ("identifier", "A B", "A  B"),
    ],
)
def test_every_input_column_is_in_the_hash(key: str, before: object, after: object) -> None:
    base = {"identifier": "MLM1", "action": "CLOSE", "reason": "TRO"}
    a = InputRow(5, {**base, key: before}) if before is not None else InputRow(5, dict(base))  # type: ignore[dict-item]
    b = InputRow(5, {**base, key: after})  # type: ignore[dict-item]
    assert inputs_hash([a]) != inputs_hash([b])


def test_variation_writes_add_the_fresh_read_they_need() -> None:
    from mltakedown.engine.model import Op, PlannedWrite

    rows = [
        PlannedRow(
            row_number=n,
            action="PAUSE",
            writes=[PlannedWrite(op=Op.ZERO_VARIATION, item_id=f"MLM{n}", variation_id=n, body={})],
        )
        for n in range(2, 23)  # 21 items: two multigets before, two to verify
    ]
    assert estimate_requests(rows) == 21 + 2 + 2
