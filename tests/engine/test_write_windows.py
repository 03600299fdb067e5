"""Crash windows and lost answers on the write side: what a run and a re-run do in each.

Every test drives the real runner against the sandbox (in process); an :class:`_Api` proxy lets
one call fail the way the network or the API would, without touching the client's internals.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from mltakedown.book.ports import Result
from mltakedown.codes import Code
from mltakedown.engine import run
from mltakedown.engine.journal import read_journal, state_dir
from mltakedown.engine.model import Op
from mltakedown.meli.client import MeliClient
from mltakedown.meli.errors import APIConnectionError
from mltakedown.meli.models import Item
from mltakedown.sandbox import World
from mltakedown.sandbox.seed import TRICKY

from .exec_support import MemoryBook, close_book, make_book, plan_and_execute, plan_for, sandbox_client, yes

T = TRICKY


class _Api:
    """The real client, with hooks that run before (``before``) or instead of a write."""

    def __init__(self, api: MeliClient) -> None:
        self._api = api
        self.before: dict[str, Callable[[str], Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def _hook(self, name: str, item_id: str) -> None:
        hook = self.before.get(name)
        if hook is not None:
            result = hook(item_id)
            if asyncio.iscoroutine(result):
                await result

    async def set_item_status(self, item_id: str, status: Any, /) -> Item:
        await self._hook("set_item_status", item_id)
        return await self._api.set_item_status(item_id, status)

    async def delete_item(self, item_id: str, /) -> Item:
        await self._hook("delete_item", item_id)
        return await self._api.delete_item(item_id)

    async def set_variation_stock(
        self, item_id: str, quantities: Mapping[int, int], /, *, keep: Sequence[int]
    ) -> Item:
        await self._hook("set_variation_stock", item_id)
        return await self._api.set_variation_stock(item_id, quantities, keep=keep)


def _add_variation(world: World, item_id: str) -> int:
    """The seller adds a variation to the listing (in Mercado Libre, outside the tool)."""
    item = world.items[item_id]
    new = copy.deepcopy(item["variations"][-1])
    new["id"] = max(int(v["id"]) for v in item["variations"]) + 1000
    new["available_quantity"] = 5
    new["attributes"] = []
    item["variations"].append(new)
    return int(new["id"])


def _variation_ids(world: World, item_id: str) -> set[int]:
    return {int(v["id"]) for v in world.items[item_id]["variations"]}


def _mark_restore(book: MemoryBook) -> None:
    for row in book.rows:
        row.values["action"] = "RESTORE"


async def test_zeroing_a_variation_keeps_a_variation_added_after_the_plan(tmp_path: Path) -> None:
    item_id = T["multi_variation"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        target = int(h.world.items[item_id]["variations"][0]["id"])
        plan = await plan_for(h.api, book, variations={2: target})
        added = _add_variation(h.world, item_id)  # between Plan and Execute
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        ids = _variation_ids(h.world, item_id)
        quantities = {int(v["id"]): v["available_quantity"] for v in h.world.items[item_id]["variations"]}
    assert added in ids, "the variations PUT deleted a variation the plan did not know"
    assert quantities[target] == 0 and quantities[added] == 5
    assert book.outcomes[2].code == Code.DONE.value


async def test_a_restore_re_run_keeps_a_variation_added_since_the_first_attempt(tmp_path: Path) -> None:
    item_id = T["multi_variation"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        target = int(h.world.items[item_id]["variations"][0]["id"])
        before = int(h.world.items[item_id]["variations"][0]["available_quantity"])
        plan = await plan_for(h.api, book, variations={2: target})
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        _mark_restore(book)
        lossy = _Api(h.api)

        def lost(_: str) -> None:
            raise APIConnectionError("connection reset", request_sent=True)

        lossy.before["set_variation_stock"] = lost
        await run.restore(book, lossy, confirm=yes, calls=h.calls)
        assert book.outcomes[2].code == Code.NETWORK.value
        added = _add_variation(h.world, item_id)  # meanwhile the seller adds a variation
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        quantities = {int(v["id"]): v["available_quantity"] for v in h.world.items[item_id]["variations"]}
    assert added in quantities, "the re-run's variations PUT deleted a variation"
    assert quantities[target] == before
    assert book.outcomes[2].code == Code.RESTORED.value


async def test_an_unexpected_error_stops_every_write_before_the_run_ends(tmp_path: Path) -> None:
    items = [T["active_mlm"], T["active_mlb"], T["active_mla"], T["active_mco"]]
    book = make_book(tmp_path, [(i, "PAUSE") for i in items])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        slow = _Api(h.api)

        async def hook(item_id: str) -> None:
            if item_id == items[0]:
                raise RuntimeError("a bug in the tool")
            await asyncio.sleep(0.2)

        slow.before["set_item_status"] = hook
        with pytest.raises(RuntimeError, match="a bug"):
            await run.execute(book, slow, confirm=yes, plan=plan, calls=h.calls)
        writes = len(h.world.writes)
        await asyncio.sleep(0.4)  # a write left running after the run ended would land now
        assert len(h.world.writes) == writes == 0
    entries = read_journal(state_dir(book.path) / "journal.jsonl").entries
    assert entries[-1]["type"] == "run_end"
    assert not (state_dir(book.path) / "run.lock").exists()
    # Every row still has an outcome: none was written, so none may read as done.
    assert {n: book.outcomes[n].result for n in (2, 3, 4, 5)} == dict.fromkeys((2, 3, 4, 5), Result.FAILED)


async def test_a_re_run_confirmation_counts_only_what_will_be_sent(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE"), (T["active_mlc"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_and_execute(h, book)
        shown: list[dict[str, int]] = []

        def confirm(counts: dict[str, int]) -> bool:
            shown.append(counts)
            return True

        await run.execute(book, h.api, confirm=confirm, plan=plan, calls=h.calls)
        _mark_restore(book)
        await run.restore(book, h.api, confirm=confirm, calls=h.calls)
        writes = len(h.world.writes)
        await run.restore(book, h.api, confirm=confirm, calls=h.calls)
        assert len(h.world.writes) == writes
    assert shown[0] == {"already_done": 2, "rows": 2}  # nothing to pause: both were paused
    assert shown[1] == {"activate": 2}
    assert shown[2] == {"already_done": 2}


async def test_a_refused_run_still_logs_its_calls(tmp_path: Path) -> None:
    from dataclasses import replace

    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        h.calls.drain()  # the plan's own reads are not this stage's
        book.settings = replace(book.settings, seller_id=2002)
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert not h.world.writes
    assert book.outcomes[2].code == Code.ACCOUNT_MISMATCH.value
    assert [(e.method, e.path) for e in book.log] == [("GET", "/users/me")]


async def test_a_declined_restore_still_logs_its_reads(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        logged = len(book.log)
        _mark_restore(book)
        await run.restore(book, h.api, confirm=lambda counts: False, calls=h.calls)
    paths = [e.path for e in book.log[logged:]]
    assert "/users/me" in paths and any(p.startswith("/items?ids=") for p in paths)


async def test_a_write_applied_but_its_answer_lost_is_reconciled_in_the_same_run(tmp_path: Path) -> None:
    item_id = T["active_mlm"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        lossy = _Api(h.api)

        async def applied_then_lost(target: str) -> None:
            await h.api.set_item_status(target, "paused")  # it reaches Mercado Libre…
            raise APIConnectionError("read timeout", request_sent=True)  # …the answer does not

        lossy.before["set_item_status"] = applied_then_lost
        report = await run.execute(book, lossy, confirm=yes, plan=plan, calls=h.calls)
        assert len(h.ok_writes(item_id)) == 1
        again = await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert len(h.ok_writes(item_id)) == 1
    outcome = book.outcomes[2]
    assert report.counts == again.counts == {"OK": 1}
    assert outcome.code == Code.RECONCILED.value and outcome.values["status_after"] == "paused"
    states = read_journal(state_dir(book.path) / "journal.jsonl").states()
    (state,) = states.values()
    assert state.succeeded and state.verify is not None and state.attempts == 1


async def test_a_delete_whose_second_put_fails_says_the_listing_is_closed(tmp_path: Path) -> None:
    item_id = T["active_mlc"]
    book = make_book(tmp_path, [])
    from .exec_support import input_row

    book.rows = [input_row(2, item_id, "DELETE", confirm="yes")]
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        assert [w.op for w in plan.rows[0].writes] == [Op.DELETE]
        lossy = _Api(h.api)

        def refused(_: str) -> None:
            raise APIConnectionError("connection refused", request_sent=False)

        lossy.before["delete_item"] = refused
        await run.execute(book, lossy, confirm=yes, plan=plan, calls=h.calls)
        assert h.world.items[item_id]["status"] == "closed"
        first = book.outcomes[2]
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        bodies = [w.body for w in h.ok_writes(item_id)]
    assert first.result is Result.FAILED and first.values["status_after"] == "closed"
    assert bodies == [{"status": "closed"}, {"deleted": "true"}]  # the re-run only deletes
    assert book.outcomes[2].code == Code.DONE.value


async def _plan_variation_rows(h: Any, book: MemoryBook, item_id: str, named: dict[int, int]) -> Any:
    """Plan rows that name single variations of ``item_id`` by their SKU (``named``: row → variation)."""
    from mltakedown.engine.gates import plan_rows
    from mltakedown.engine.plan import build_plan

    from .exec_support import live_row

    (result,) = await h.api.get_items([item_id])
    triples = []
    for row in book.rows:
        live = live_row(row.row_number, row.text("identifier"), result.item)
        live.identifier_kind = "sku"
        live.variation_id = named[row.row_number]
        live.variation_quantity = next(
            v.available_quantity for v in result.item.variations if v.id == live.variation_id
        )
        triples.append((live, "PAUSE", False))
    planned = plan_rows(triples, settings=book.settings)
    return build_plan(planned, book.rows, workbook=book.path, seller_id=book.settings.seller_id)


async def test_variations_taken_down_in_two_runs_are_each_restored_to_their_own_stock(
    tmp_path: Path,
) -> None:
    from .exec_support import input_row

    item_id = T["multi_variation"]
    async with sandbox_client() as h:
        variations = h.world.items[item_id]["variations"]
        first, second = int(variations[0]["id"]), int(variations[1]["id"])
        sku = {int(v["id"]): v["attributes"][0]["value_name"] for v in variations}
        original_first = int(variations[0]["available_quantity"])
        # Monday's complaint: one colour and size comes down.
        book = MemoryBook(path=tmp_path / "t.xlsx", rows=[input_row(2, sku[first])])
        plan = await _plan_variation_rows(h, book, item_id, {2: first})
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        # Meanwhile the seller restocks the second variation; Thursday's complaint takes it down.
        h.world.items[item_id]["variations"][1]["available_quantity"] = 20
        book.rows.append(input_row(3, sku[second]))
        plan = await _plan_variation_rows(h, book, item_id, {2: first, 3: second})
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert [v["available_quantity"] for v in h.world.items[item_id]["variations"][:2]] == [0, 0]
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        quantities = {int(v["id"]): v["available_quantity"] for v in h.world.items[item_id]["variations"]}
    assert quantities[first] == original_first  # Monday's, from the snapshot before the first write
    assert quantities[second] == 20  # Thursday's: the stock it had right before the tool zeroed it
    assert book.outcomes[2].code == book.outcomes[3].code == Code.RESTORED.value


def test_two_runs_taking_over_one_stale_lock_do_not_both_get_it(tmp_path: Path) -> None:
    """Excel and the CLI both find a dead run's lock at the same moment: only one may take it."""
    import json
    import socket
    import subprocess
    import sys

    from mltakedown.engine.journal import JournalLocked, RunLock

    folder = tmp_path / "book.mltakedown"
    folder.mkdir()
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = {"pid": int(child.stdout), "host": socket.gethostname()}
    (folder / "run.lock").write_text(json.dumps(dead))

    first, second = RunLock(folder, run_id="excel", wait_s=0.3), RunLock(folder, run_id="cli", wait_s=0.3)
    outcome: list[str] = []
    is_stale = RunLock._is_stale

    def racing(holder: Mapping[str, Any]) -> bool:
        stale = is_stale(holder)
        if not outcome:  # the first run has judged the dead lock stale: now the second one tries
            try:
                second.acquire()
                outcome.append("second took it")
            except JournalLocked:
                outcome.append("second refused")
        return stale

    first._is_stale = racing  # type: ignore[method-assign]
    try:
        first.acquire()
        outcome.append("first took it")
    except JournalLocked:
        outcome.append("first refused")
    holders = [lock for lock in (first, second) if lock._held]
    assert len(holders) == 1, outcome
    on_disk = json.loads((folder / "run.lock").read_text())
    assert on_disk["run_id"] == holders[0].run_id


async def test_a_relisted_listing_is_never_relisted_again_from_another_row(tmp_path: Path) -> None:
    from .exec_support import input_row

    item_id = T["active_mco"]
    book = close_book(tmp_path, item_id)
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        new_id = book.outcomes[2].values["new_item_id"]
        assert new_id and h.world.items[item_id]["status"] == "closed"  # the old listing stays closed
        # Someone inserts a row above: the RESTORE row is now row 3.
        book.rows = [input_row(2, T["active_mlm"], "IGNORE"), input_row(3, item_id, "RESTORE")]
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        relists = [w for w in h.world.writes if w.path.endswith("/relist") and w.status < 400]
    assert len(relists) == 1, "the listing was relisted twice"
    assert book.outcomes[3].code == Code.RELISTED.value and book.outcomes[3].values["new_item_id"] == new_id


async def test_a_delete_rides_out_the_409_right_after_its_close(tmp_path: Path) -> None:
    from .exec_support import input_row

    item_id = T["active_mlc"]
    book = MemoryBook(path=tmp_path / "t.xlsx", rows=[input_row(2, item_id, "DELETE", confirm="yes")])
    async with sandbox_client(conflict_window_s=0.5) as h:
        await plan_and_execute(h, book)
        answers = [(w.body, w.status) for w in h.world.writes if w.item == item_id]
        item = h.world.items[item_id]
    assert answers[0] == ({"status": "closed"}, 200)
    assert ({"deleted": "true"}, 409) in answers and answers[-1] == ({"deleted": "true"}, 200)
    assert item["status"] == "closed" and "deleted" in item["sub_status"]
    assert book.outcomes[2].code == Code.DONE.value
    assert [e.status for e in book.log if e.method == "PUT"] == [
        s for _, s in answers
    ]  # every attempt logged


async def test_snapshots_of_a_killed_run_still_reach_the_snapshots_sheet(tmp_path: Path) -> None:
    """kill -9 after some writes: the workbook never got that run's Snapshots rows; the re-run adds
    them (once), so the sheet holds the pre-write state of every item the tool touched."""
    from mltakedown.engine.calls import CallLog
    from mltakedown.engine.journal import open_run
    from mltakedown.engine.runner import WriteRunner
    from mltakedown.engine.snapshots import SnapshotStore

    items = [T["active_mlm"], T["active_mlb"]]
    book = make_book(tmp_path, [(i, "PAUSE") for i in items])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        jobs = [job for row in plan.rows for job in run._jobs_for(plan, row)]
        # The killed run: the first item is snapshotted and paused, then the process dies — no
        # run_end, and no write-back to the workbook.
        with open_run(book.path, "20260101T000000Z-killed") as (journal, _lock):
            journal.append("run_start", run_id="20260101T000000Z-killed", stage="execute")
            store = SnapshotStore(state_dir(book.path), "20260101T000000Z-killed")
            killed = WriteRunner(h.api, journal, store, CallLog(), run_id="20260101T000000Z-killed")
            await killed.run(jobs[:1])
        assert killed.snapshot_rows and not book.snapshots
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert sorted(s.item_id for s in book.snapshots) == sorted(items)
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)  # and again: no duplicates
    assert sorted(s.item_id for s in book.snapshots) == sorted(items)
    recovered = next(s for s in book.snapshots if s.item_id == items[0])
    assert recovered.run_id == "20260101T000000Z-killed" and recovered.status == "active"
    assert recovered.sha256 == killed.snapshot_rows[0].sha256


async def test_a_refused_token_stops_the_run_and_rows_not_reached_say_not_sent(tmp_path: Path) -> None:
    from mltakedown.meli.errors import AuthenticationError

    items = [T["active_mlm"], T["active_mlb"], T["active_mla"], T["active_mco"]]
    book = make_book(tmp_path, [(i, "PAUSE") for i in items])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        revoked = _Api(h.api)

        def refuse(item_id: str) -> None:
            if item_id == items[1]:
                raise AuthenticationError("invalid access token", status_code=401, error="unauthorized")

        revoked.before["set_item_status"] = refuse
        report = await run.execute(book, revoked, confirm=yes, plan=plan, calls=h.calls, concurrency=1)
        assert [w.item for w in h.ok_writes()] == [items[0]]
        codes = [book.outcomes[n].code for n in (2, 3, 4, 5)]
        assert codes == [Code.DONE.value, Code.AUTH_FAILED.value, Code.NOT_SENT.value, Code.NOT_SENT.value]
        assert "stopped" in report.message
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        for item_id in items:
            assert len(h.ok_writes(item_id)) == 1, item_id
    assert all(book.outcomes[n].result is Result.OK for n in (2, 3, 4, 5))


async def test_restore_reads_only_the_items_its_rows_name(tmp_path: Path) -> None:
    items = [T["active_mlm"], T["active_mlb"], T["active_mla"]]
    book = make_book(tmp_path, [(i, "PAUSE") for i in items])
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        logged = len(book.log)
        book.rows[1].values["action"] = "RESTORE"  # only the second listing comes back
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        assert h.world.items[items[1]]["status"] == "active"
        assert [h.world.items[i]["status"] for i in (items[0], items[2])] == ["paused", "paused"]
    reads = [e.path for e in book.log[logged:] if e.method == "GET" and e.path.startswith("/items?")]
    assert reads and all(items[0] not in p and items[2] not in p for p in reads)


async def test_the_confirmation_counts_a_row_held_back_as_another_sellers(tmp_path: Path) -> None:
    from mltakedown.engine.model import PlannedRow, PlannedWrite

    ours, theirs = T["active_mlm"], T["seller_b_item"]
    book = make_book(tmp_path, [(ours, "PAUSE"), (theirs, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        # A plan that (wrongly) holds a write for another seller's item: Execute's own check.
        write = PlannedWrite(op=Op.PAUSE, item_id=theirs, site=theirs[:3], expected_status="paused")
        plan.rows[1] = PlannedRow(row_number=3, action="PAUSE", writes=[write], live=plan.rows[1].live)
        shown: list[dict[str, int]] = []

        def confirm(counts: dict[str, int]) -> bool:
            shown.append(counts)
            return True

        await run.execute(book, h.api, confirm=confirm, plan=plan, calls=h.calls)
        assert not h.world.writes_for(theirs)
    assert shown == [{"pause": 1, "blocked": 1, "rows": 2}]
    assert book.outcomes[3].code == Code.NOT_YOUR_ITEM.value


def _ghosts(world: World, rate: float) -> None:
    """Set the share of writes the sandbox applies but answers with a 504."""
    from dataclasses import replace

    world.options = replace(world.options, ghost_write_rate=rate)


@asynccontextmanager
async def _ghost_client(h: Any) -> AsyncIterator[MeliClient]:
    """A client of ``h``'s sandbox that never retries, so a 504 reaches the engine as it is."""
    import math

    import httpx

    from mltakedown.meli import ClientConfig, RateLimiter
    from mltakedown.meli.retry import RetryPolicy
    from mltakedown.sandbox.seed import TOKEN_A

    from .exec_support import SANDBOX_URL

    async with MeliClient(
        ClientConfig(api_url=SANDBOX_URL, rate=1000.0),
        tokens=TOKEN_A,
        transport=httpx.ASGITransport(app=h.app),
        on_call=h.calls,
        rate=RateLimiter(math.inf),
        retry=RetryPolicy(max_retries=0),
    ) as api:
        yield api


async def test_a_write_applied_behind_a_504_is_reconciled_not_resent(tmp_path: Path) -> None:
    item_id = T["active_mlb"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        _ghosts(h.world, 1.0)  # the write is applied, the gateway answers 504
        async with _ghost_client(h) as ghostly:
            await run.execute(book, ghostly, confirm=yes, plan=plan, calls=h.calls)
        _ghosts(h.world, 0.0)
        assert h.world.items[item_id]["status"] == "paused" and len(h.world.writes) == 1
        assert [e.status for e in h.calls.entries if e.method == "PUT"] == [504]
        assert book.outcomes[2].code == Code.RECONCILED.value  # settled by a read in the same run
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert len(h.world.writes) == 1
    assert book.outcomes[2].code == Code.RECONCILED.value and book.outcomes[2].result is Result.OK


async def test_a_relist_answered_504_is_never_sent_again(tmp_path: Path) -> None:
    item_id = T["active_mco"]
    book = close_book(tmp_path, item_id)
    async with sandbox_client() as h:
        await plan_and_execute(h, book)
        _mark_restore(book)
        _ghosts(h.world, 1.0)
        async with _ghost_client(h) as ghostly:
            await run.restore(book, ghostly, confirm=yes, calls=h.calls)
        _ghosts(h.world, 0.0)
        first = book.outcomes[2]
        for _ in range(2):
            await run.restore(book, h.api, confirm=yes, calls=h.calls)
        relists = [w for w in h.world.writes if w.path.endswith("/relist")]
        answers = [e.status for e in h.calls.entries if e.path.endswith("/relist")]
    assert len(relists) == 1 and answers == [504]  # applied once (answered 504), never sent again
    assert first.result is Result.FAILED and book.outcomes[2].result is Result.FAILED
    assert "relist" in book.outcomes[2].message.lower()


async def test_a_run_killed_between_a_snapshot_and_its_checksum_leaves_the_item_restorable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltakedown.engine import snapshots

    item_id = T["active_mlm"]
    book = make_book(tmp_path, [(item_id, "PAUSE")])
    from mltakedown.fileio import write_atomic as real_write

    calls: list[Path] = []

    def dies_after_one_file(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError("the process died here")  # after the first of the snapshot's two files
        real_write(path, data)

    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        monkeypatch.setattr(snapshots, "write_atomic", dies_after_one_file)
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        monkeypatch.setattr(snapshots, "write_atomic", real_write)
        assert not h.world.writes and book.outcomes[2].code == Code.NOT_SENT.value
        await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
        assert h.world.items[item_id]["status"] == "paused"
        _mark_restore(book)
        await run.restore(book, h.api, confirm=yes, calls=h.calls)
        assert h.world.items[item_id]["status"] == "active"
    assert book.outcomes[2].code == Code.RESTORED.value
