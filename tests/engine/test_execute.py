"""Execute against the sandbox (in process): journal, snapshots, verification, outcomes, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mltakedown.book.ports import Result
from mltakedown.codes import Code
from mltakedown.engine import run
from mltakedown.engine.error_codes import classify
from mltakedown.engine.journal import open_run, read_journal, state_dir
from mltakedown.engine.model import Op, PlannedRow, PlannedWrite
from mltakedown.engine.outcomes import local_times
from mltakedown.engine.plan import save_plan
from mltakedown.meli.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorCause,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TokenError,
)
from mltakedown.sandbox.seed import TRICKY

from .exec_support import input_row, make_book, plan_and_execute, plan_for, sandbox_client, yes

T = TRICKY


async def test_pause_writes_once_snapshots_verifies_and_fills_every_column(tmp_path: Path) -> None:
    rows = [(T["active_mlm"], "PAUSE"), (T["active_mlb"], "PAUSAR"), (T["active_mla"], "下架")]
    book = make_book(tmp_path, rows)
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        seen_counts: list[dict[str, int]] = []

        def confirm(counts: dict[str, int]) -> bool:
            seen_counts.append(counts)
            return True

        report = await run.execute(book, h.api, confirm=confirm, plan=plan, calls=h.calls)
        assert seen_counts == [{"pause": 3, "rows": 3}]
        for item_id, _ in rows:
            assert len(h.ok_writes(item_id)) == 1
            assert h.world.items[item_id]["status"] == "paused"
    assert report.counts == {"OK": 3} and report.code_counts == {Code.DONE.value: 3}
    # 3 writes + 1 multiget to verify (+ /users/me)
    assert report.requests == 5
    mlm = book.outcomes[2]
    assert mlm.result is Result.OK and mlm.code == Code.DONE.value and mlm.message
    assert mlm.values["status_before"] == "active" and mlm.values["status_after"] == "paused"
    assert mlm.values["request_id"]
    utc, local = mlm.values["done_at_utc"], book.outcomes[2].values["done_at_local"]
    assert utc is not None and local is not None and utc != local  # Mexico City is behind UTC
    # Journal: run_start, 3 × (intent, outcome), 3 verify, run_end — in a valid chain.
    log = read_journal(state_dir(book.path) / "journal.jsonl")
    assert log.chain_ok
    kinds = [e["type"] for e in log.entries]
    assert kinds.count("intent") == kinds.count("outcome") == kinds.count("verify") == 3
    for entry in log.entries:
        if entry["type"] == "intent":
            later = [e for e in log.entries if e.get("write_id") == entry["write_id"]]
            assert [e["type"] for e in later] == ["intent", "outcome", "verify"]
    # Snapshots: one per item, on disk and for the sheet, from before the write.
    assert sorted(s.item_id for s in book.snapshots) == sorted(i for i, _ in rows)
    snap_file = tmp_path / book.snapshots[0].file
    assert json.loads(snap_file.read_text())["key"]["status"] == "active"
    # Log sheet: every call, writes tagged with their row.
    puts = [e for e in book.log if e.method == "PUT"]
    assert sorted(e.row_number for e in puts if e.row_number) == [2, 3, 4]
    assert all(e.request_id for e in book.log)
    assert book.saves == 1


async def test_a_re_run_of_the_same_plan_writes_nothing_again(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE"), (T["active_mlc"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_and_execute(h, book)
        before = len(h.world.writes)
        report = await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert len(h.world.writes) == before
    assert report.counts == {"OK": 2}


async def test_blocked_rows_are_never_written_and_say_why(tmp_path: Path) -> None:
    rows = [
        (T["seller_b_item"], "PAUSE"),
        (T["under_review_warning"], "PAUSE"),
        (T["paused_by_seller"], "PAUSE"),
        (T["active_mco"], "PAUSE"),
    ]
    book = make_book(tmp_path, rows)
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        assert [w.item for w in h.ok_writes()] == [T["active_mco"]]
        assert not [w for w in h.world.writes if w.item != T["active_mco"]]
    assert book.outcomes[2].code == Code.NOT_YOUR_ITEM.value and book.outcomes[2].result is Result.BLOCKED
    assert book.outcomes[3].code == Code.PLATFORM_CONTROLLED.value
    assert book.outcomes[4].code == Code.ALREADY_IN_TARGET.value and book.outcomes[4].result is Result.SKIPPED
    assert book.outcomes[5].code == Code.DONE.value


async def test_a_multi_variation_sku_zeroes_only_that_variation(tmp_path: Path) -> None:
    item_id = T["multi_variation"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        variations = h.world.items[item_id]["variations"]
        target, others = variations[0]["id"], {v["id"]: v["available_quantity"] for v in variations[1:]}
        plan = await plan_for(h.api, book, variations={2: target})
        assert plan.rows[0].writes[0].op is Op.ZERO_VARIATION
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        after = {v["id"]: v["available_quantity"] for v in h.world.items[item_id]["variations"]}
        assert h.world.items[item_id]["status"] == "active"
    assert after[target] == 0
    assert {k: after[k] for k in others} == others
    assert book.outcomes[2].code == Code.DONE.value


async def test_an_active_ad_is_paused_with_its_listing(tmp_path: Path) -> None:
    item_id = T["active_ad_item"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        group = next(g for g in h.world.ad_groups.values() if item_id in g["item_ids"])
        plan = await plan_for(h.api, book, ads={item_id: {"id": group["id"], "status": "active"}})
        assert [w.op for w in plan.rows[0].writes] == [Op.PAUSE, Op.PAUSE_AD]
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert h.world.ad_groups[group["id"]]["status"] == "paused"
    assert book.outcomes[2].code == Code.DONE.value


async def test_an_api_refusal_is_recorded_with_its_cause_and_request_id(tmp_path: Path) -> None:
    item_id = T["under_review_held"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        # Force the write the gate refused, to see the API's own answer land on the row.
        plan.rows[0] = PlannedRow(
            row_number=2,
            action="PAUSE",
            writes=[PlannedWrite(op=Op.PAUSE, item_id=item_id, site="MLM", expected_status="paused")],
            live=plan.rows[0].live,
        )
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
    outcome = book.outcomes[2]
    assert outcome.result is Result.FAILED and outcome.code == Code.API_VALIDATION.value
    api_error = str(outcome.values["api_error"])
    assert "HTTP 400" in api_error and "item.status.not_modifiable" in api_error
    assert outcome.values["request_id"]


async def test_nothing_is_sent_without_a_plan_with_a_stale_plan_or_for_another_account(
    tmp_path: Path,
) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    async with sandbox_client() as h:
        report = await run.execute(book, h.api, confirm=yes, calls=h.calls)
        assert book.outcomes[2].code == Code.NO_PLAN.value and "nothing sent" in report.message
        plan = await plan_for(h.api, book)
        save_plan(plan, book.path)
        book.rows[0] = input_row(2, T["active_mlb"], "PAUSE")  # the sheet changed after Plan
        await run.execute(book, h.api, confirm=yes, calls=h.calls)
        assert book.outcomes[2].code == Code.PLAN_STALE.value
        book.rows[0] = input_row(2, T["active_mlm"], "PAUSE")
        from dataclasses import replace

        book.settings = replace(book.settings, seller_id=2002)
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert book.outcomes[2].code == Code.ACCOUNT_MISMATCH.value
        assert not h.world.writes


async def test_declining_the_confirmation_sends_nothing(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        report = await run.execute(book, h.api, confirm=lambda counts: False, plan=plan, calls=h.calls)
        assert not h.world.writes
    assert "cancelled" in report.message


async def test_a_run_holding_the_workbook_blocks_another(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        with open_run(book.path, "other-run"):
            report = await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert not h.world.writes
    assert "another run" in report.message


def _api_error(
    cls: type[BadRequestError] | type[ServerError], status: int, **kw: object
) -> BadRequestError | ServerError:
    return cls("msg", status_code=status, error="err", request_id="rid", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (RateLimitError("slow down", status_code=429, error="too_many_requests"), Code.RATE_LIMITED),
        (AuthenticationError("bad", status_code=401, error="unauthorized"), Code.AUTH_FAILED),
        (TokenError("invalid_grant"), Code.AUTH_FAILED),
        (APITimeoutError("read timeout", request_sent=True), Code.NETWORK),
        (APIConnectionError("refused"), Code.NETWORK),
        (ConflictError("optimistic locking", status_code=409, error="conflict"), Code.CONFLICT),
        (PermissionDeniedError("not yours", status_code=403, error="forbidden"), Code.FORBIDDEN),
        (ServerError("boom", status_code=503, error="service_not_available"), Code.SERVER_ERROR),
    ],
)
def test_api_errors_map_to_execution_codes(exc: Exception, code: Code) -> None:
    assert classify(exc).code is code


def test_a_validation_error_keeps_the_api_cause_and_request_id() -> None:
    exc = BadRequestError(
        "Cannot update item",
        status_code=400,
        error="validation_error",
        causes=[ErrorCause(code="item.status.not_modifiable", cause_id=340)],
        request_id="req-9",
    )
    failure = classify(exc)
    assert failure.code is Code.API_VALIDATION and failure.request_id == "req-9"
    assert failure.api_error == "HTTP 400 validation_error item.status.not_modifiable: Cannot update item"


def test_local_time_follows_the_site() -> None:
    import datetime as dt

    at = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert local_times(at, "MLM")[1].hour == 6
    assert local_times(at, "MLB")[1].hour == 9
    assert local_times(at, "MLA")[1].hour == 9
    assert local_times(at, "MCO")[1].hour == 7
    assert local_times(at, "MLC")[1].hour == 8  # Chile is on UTC-4 in July


def test_os_level_timeouts_are_network_failures() -> None:
    assert classify(TimeoutError("slow")).code is Code.NETWORK


async def test_a_damaged_journal_stops_the_run(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    folder = state_dir(book.path)
    folder.mkdir()
    (folder / "journal.jsonl").write_text('{"type":"intent","prev":"bogus"}\n')
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        report = await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert not h.world.writes
    assert "journal is damaged" in report.message


async def test_delete_closes_first_then_deletes(tmp_path: Path) -> None:
    item_id = T["active_mlc"]
    book = make_book(tmp_path, [])
    book.rows = [input_row(2, item_id, "DELETE", confirm="yes")]
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        assert [w.op for w in plan.rows[0].writes] == [Op.DELETE]
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        bodies = [w.body for w in h.ok_writes(item_id)]
        assert bodies == [{"status": "closed"}, {"deleted": "true"}]
    assert book.outcomes[2].code == Code.DONE.value


async def test_no_snapshot_no_write(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    folder = state_dir(book.path)
    folder.mkdir()
    (folder / "snapshots").write_text("not a folder")  # the snapshot cannot be saved
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        assert not h.world.writes
    outcome = book.outcomes[2]
    assert outcome.code == Code.NOT_SENT.value and "snapshot could not be saved" in outcome.message
