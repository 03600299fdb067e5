"""Reconciliation: a re-run after a kill never writes an item twice and leaves no row without an outcome."""

from __future__ import annotations

from pathlib import Path

from mltakedown.codes import Code
from mltakedown.engine import run
from mltakedown.engine.journal import Journal, WriteState, read_journal, state_dir, write_id
from mltakedown.engine.model import Op, Plan, PlannedWrite
from mltakedown.engine.reconcile import Next, judge, next_step, target_reached
from mltakedown.sandbox.seed import TRICKY

from .exec_support import make_book, plan_for, sandbox_client, yes

T = TRICKY


def _intent(book_path: Path, plan: Plan, row: int, item_id: str, **outcome: object) -> str:
    """Leave in the journal what a killed run would have: an intent, maybe an outcome."""
    wid = write_id(plan.plan_id, row, item_id, Op.PAUSE.value, "")
    with Journal(state_dir(book_path) / "journal.jsonl") as journal:
        journal.append("run_start", run_id="killed", stage="execute")
        journal.append(
            "intent",
            write_id=wid,
            run_id="killed",
            row=row,
            item_id=item_id,
            op="pause",
            status_before="active",
            body={"status": "paused"},
        )
        if outcome:
            journal.append("outcome", write_id=wid, run_id="killed", item_id=item_id, **outcome)
    return wid


async def test_an_applied_write_left_in_flight_is_reconciled_not_resent(tmp_path: Path) -> None:
    item_id = T["active_mlm"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        _intent(book.path, plan, 2, item_id)
        await h.api.set_item_status(item_id, "paused")  # the killed run's write did reach ML
        report = await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert len(h.ok_writes(item_id)) == 1
    assert book.outcomes[2].code == Code.RECONCILED.value and report.counts == {"OK": 1}
    assert book.outcomes[2].values["status_after"] == "paused"


async def test_a_write_that_never_arrived_is_sent_exactly_once(tmp_path: Path) -> None:
    item_id = T["active_mlb"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        wid = _intent(book.path, plan, 2, item_id)
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)  # and again: nothing new
        assert len(h.ok_writes(item_id)) == 1
    assert book.outcomes[2].code == Code.DONE.value
    state = read_journal(state_dir(book.path) / "journal.jsonl").states()[wid]
    assert state.attempts == 2 and state.succeeded


async def test_recorded_outcomes_are_not_redone_but_still_verified(tmp_path: Path) -> None:
    done, refused = T["active_mla"], T["active_mlc"]
    book = make_book(tmp_path, [(done, "PAUSE"), (refused, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        await h.api.set_item_status(done, "paused")
        _intent(book.path, plan, 2, done, ok=True, code=Code.DONE.value, status_after="paused")
        _intent(
            book.path,
            plan,
            3,
            refused,
            ok=False,
            code=Code.API_VALIDATION.value,
            api_error="HTTP 400 validation_error: no",
        )
        shown: list[dict[str, int]] = []

        def confirm(counts: dict[str, int]) -> bool:
            shown.append(counts)
            return True

        await run.execute(book, h.api, confirm=confirm, plan=plan, calls=h.calls)
        # Nothing is announced as a pause: both writes are already in the journal.
        assert shown == [{"already_done": 2, "rows": 2}]
        assert len(h.ok_writes(done)) == 1 and not h.ok_writes(refused)
    assert book.outcomes[2].code == Code.DONE.value
    assert book.outcomes[3].code == Code.API_VALIDATION.value
    assert book.outcomes[3].values["api_error"] == "HTTP 400 validation_error: no"
    entries = read_journal(state_dir(book.path) / "journal.jsonl").entries
    assert any(e["type"] == "verify" and e["ok"] for e in entries)


async def test_a_passing_failure_is_checked_then_retried(tmp_path: Path) -> None:
    item_id = T["active_mco"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        _intent(book.path, plan, 2, item_id, ok=False, code=Code.RATE_LIMITED.value)
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert len(h.ok_writes(item_id)) == 1
    assert book.outcomes[2].code == Code.DONE.value


def _state(outcome: dict[str, object] | None = None, verify: dict[str, object] | None = None) -> WriteState:
    return WriteState("w", {"type": "intent"}, outcome, verify)


def test_next_step_per_journal_state() -> None:
    assert next_step(None) is Next.WRITE
    assert next_step(_state()) is Next.CHECK
    assert next_step(_state({"ok": True})) is Next.VERIFY
    assert next_step(_state({"ok": True}, {"ok": True})) is Next.DONE
    assert next_step(_state({"ok": False, "code": Code.NETWORK.value})) is Next.CHECK
    assert next_step(_state({"ok": False, "code": Code.FORBIDDEN.value})) is Next.DONE


def test_target_states() -> None:
    def w(op: Op, **kw: object) -> PlannedWrite:
        return PlannedWrite(op=op, item_id="MLM1", **kw)  # type: ignore[arg-type]

    assert target_reached(w(Op.PAUSE), {"status": "paused"})
    assert not target_reached(w(Op.PAUSE), {"status": "active"})
    assert target_reached(w(Op.DELETE), {"status": "closed", "sub_status": ["deleted"]})
    assert not target_reached(w(Op.DELETE), {"status": "closed", "sub_status": []})
    assert target_reached(w(Op.DELETE), None)
    zero = w(Op.ZERO_VARIATION, variation_id=7)
    assert target_reached(
        zero, {"variations": [{"id": 7, "available_quantity": 0}, {"id": 8, "available_quantity": 3}]}
    )
    back = w(Op.RESTORE_VARIATION, variation_id=7, body={"available_quantity": 4})
    assert not target_reached(back, {"variations": [{"id": 7, "available_quantity": 0}]})
    assert target_reached(w(Op.PAUSE_AD, body={"status": "paused"}), {"status": "paused"})
    # A relist in flight cannot be judged from the old item: never risk a second listing.
    verdict = judge(w(Op.RELIST), {"status": "closed"}, found=True)
    assert verdict.uncertain and not verdict.reached


def test_a_pause_is_reached_only_when_the_seller_paused_it() -> None:
    pause = PlannedWrite(op=Op.PAUSE, item_id="MLM1", expected_status="paused")
    # Paused for lack of stock only: a restock would bring it back, so it is not taken down.
    assert not target_reached(pause, {"status": "paused", "sub_status": ["out_of_stock"]})
    assert target_reached(pause, {"status": "paused", "sub_status": ["out_of_stock", "paused_by_seller"]})
    assert target_reached(pause, {"status": "paused", "sub_status": ["paused_by_seller"]})
    assert target_reached(pause, {"status": "paused", "sub_status": []})
    assert not target_reached(pause, {"status": "active", "sub_status": []})
