"""Execute: send the planned writes with a journal, snapshots and a read-back verification.

For each planned write, in this order and never otherwise:

1. snapshot the item, if the tool never wrote to it before (:mod:`.snapshots`);
2. append an ``intent`` to the journal and ``fsync`` it;
3. send the write;
4. append its ``outcome`` (success, or the API's error, cause codes and request ID).

Rows run concurrently (bounded) and the client's shared rate limiter paces every request, so a
bulk run sits at the application's budget; the writes of one row run in order (the listing
before its ad group) and a failed listing write stops the rest of its row. Afterwards the
written items are read back with multiget (20 per request) and a ``verify`` entry is appended.
Before any of this, writes an earlier, interrupted run left in flight are reconciled from live
state (:mod:`.reconcile`).

Two reads guard the edges: the items of variation writes are read right before the writes
(a variations PUT deletes every variation it does not list, so it must list the current ones,
not those Pull saw), and a write that failed in a way that says nothing about its effect (a lost
answer, a 5xx) is read back in the same run, so a listing that did come down is reported
``RECONCILED`` rather than failed, and never sent again.

The same runner serves Restore; only the jobs differ. Row outcomes are computed from the journal
(:func:`row_outcome`), so a re-run reports rows done by an earlier run exactly as that run would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Final

from mltakedown.book.ports import SnapshotRow
from mltakedown.codes import Code
from mltakedown.engine.calls import CallLog
from mltakedown.engine.engine_api import EngineApi
from mltakedown.engine.error_codes import Failure, classify
from mltakedown.engine.journal import Journal, WriteState
from mltakedown.engine.model import Op
from mltakedown.engine.reconcile import AD_OPS, judge, target_reached, triage
from mltakedown.engine.snapshots import SnapshotError, SnapshotStore, load_snapshot
from mltakedown.engine.writes import WriteJob, perform, read_items, variation_ids_of
from mltakedown.meli.errors import MeliError

VARIATION_OPS: Final = frozenset({Op.ZERO_VARIATION, Op.RESTORE_VARIATION})
"""Writes that send the item's whole variation list (a variation left out is deleted)."""

MAYBE_APPLIED: Final = frozenset({Code.NETWORK.value, Code.SERVER_ERROR.value})
"""Failure codes that do not tell whether the write took effect (the answer was lost, or a 5xx)."""

CONCURRENCY: Final = 8
"""Rows in flight at once. The rate limiter, not this, sets the pace; a few spare slots keep it busy
while responses are on their way back."""


class WriteRunner:
    """Runs jobs through reconcile → snapshot → intent → write → outcome → verify."""

    def __init__(
        self,
        api: EngineApi,
        journal: Journal,
        snapshots: SnapshotStore,
        calls: CallLog,
        *,
        run_id: str,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.api = api
        self.journal = journal
        self.snapshots = snapshots
        self.calls = calls
        self.run_id = run_id
        self.concurrency = max(1, concurrency)
        self.snapshot_rows: list[SnapshotRow] = []
        self.aborted: Failure | None = None
        """Set when a failure made every further write pointless (the token is refused)."""
        self.sent = 0
        self.reconciled = 0
        self.not_sent: dict[str, str] = {}
        """Writes held back before their intent (write id → why), e.g. a snapshot that failed."""
        self.recovered_runs: list[str] = []
        """Runs that died before their write-back, whose snapshots this run put on the sheet."""

    async def run(self, jobs: Sequence[WriteJob]) -> dict[str, WriteState]:
        """Do every job that still needs doing; returns the journal state per write id."""
        self._recover_sheet_rows()
        by_id = {job.write_id: job for job in jobs}
        sorted_ids = triage(list(by_id), self.journal.log.states())
        to_write = set(sorted_ids.write)
        if sorted_ids.check:
            to_write |= await self._reconcile([by_id[w] for w in sorted_ids.check])
        writes = [job for job in jobs if job.write_id in to_write]
        held = await self._refresh_variations([j for j in writes if j.write.op in VARIATION_OPS])
        await self._write_all([job for job in writes if job.write_id not in held])
        await self._recheck_lost([job for job in writes if job.write_id not in held])
        await self._verify(jobs)
        return self.journal.log.states()

    def _recover_sheet_rows(self) -> None:
        """Give the Snapshots sheet the rows of runs that died before writing the workbook back.

        A run writes its snapshot files before each first write but the sheet only at its end;
        after kill -9 the files exist and the sheet lacks them, and since an item is snapshotted
        once ever, no later run would add them. A run counts as written back once its
        ``run_end`` exists, or a later ``run_end`` lists it under ``recovered_snapshot_runs``.
        """
        finished: set[str] = {self.run_id}
        for entry in self.journal.log.entries:
            if entry.get("type") == "run_end":
                finished.add(str(entry.get("run_id") or ""))
                finished.update(str(r) for r in entry.get("recovered_snapshot_runs") or [])
        for run_id, item_ids in sorted(self.snapshots.runs().items()):
            if run_id in finished:
                continue
            for item_id in sorted(item_ids):
                try:
                    row = self.snapshots.sheet_row(item_id)
                except (SnapshotError, OSError, ValueError):
                    continue  # an altered or unreadable file is not put forward; verify-record flags it
                if row is not None:
                    self.snapshot_rows.append(row)
            self.recovered_runs.append(run_id)

    # -- reconciliation -----------------------------------------------------------------------

    async def _reconcile(self, jobs: Sequence[WriteJob]) -> set[str]:
        """Read the live state of maybe-applied writes; returns the ids still to be sent."""
        to_write: set[str] = set()
        try:
            live = await self._read_live(jobs, "reconcile")
        except MeliError as exc:
            failure = classify(exc)
            for job in jobs:
                self._record_failure(job, failure, note="the live state could not be read to reconcile")
            return to_write
        for job in jobs:
            found, seen = live.get(job.write_id, (False, None))
            verdict = judge(job.write, seen, found=found)
            if verdict.reached:
                self._record_reconciled(
                    job, seen, "already in the target state after an interrupted run; not sent again"
                )
            elif verdict.uncertain:
                self._record_failure(
                    job,
                    Failure(
                        Code.NETWORK,
                        "a relist was in flight when the last run stopped; it is not sent twice — "
                        "check the seller's listings for a new item before restoring this row again",
                    ),
                )
            else:
                if seen is not None and job.is_item_write:
                    job.item = dict(seen)
                    job.status_before = str(seen.get("status") or job.status_before or "")
                to_write.add(job.write_id)
        return to_write

    def _record_reconciled(self, job: WriteJob, seen: Mapping[str, Any] | None, message: str) -> None:
        """The live state shows the write's effect: journal it as done (RECONCILED), never resend."""
        self.reconciled += 1
        status = str((seen or {}).get("status") or "")
        self._append(
            "outcome",
            job,
            ok=True,
            reconciled=True,
            code=Code.RECONCILED.value,
            item_id=job.write.item_id,
            status_before=job.status_before,
            status_after=status,
            message=message,
        )
        self._append("verify", job, ok=True, source="reconcile", status_seen=status)

    async def _read_live(
        self, jobs: Sequence[WriteJob], note: str
    ) -> dict[str, tuple[bool, dict[str, Any] | None]]:
        """The live object (item, or ad group for ad writes) of each job, by write id: (found, JSON).

        A relist is not read (its effect is a new item the old one does not name). Raises
        :class:`MeliError` when the reads fail.
        """
        item_jobs = [j for j in jobs if j.write.op not in AD_OPS and j.write.op is not Op.RELIST]
        ad_jobs = [j for j in jobs if j.write.op in AD_OPS]
        with self.calls.scope(None, note):
            items = await self.read_items([j.write.item_id for j in item_jobs])
            groups = await self.read_ad_groups(ad_jobs)
        live: dict[str, tuple[bool, dict[str, Any] | None]] = {}
        for job in jobs:
            if job.write.op in AD_OPS:
                group = groups.get(job.write.ad_group_id or "")
                live[job.write_id] = (group is not None, group)
            elif job.write.op is not Op.RELIST and job.write.item_id in items:
                live[job.write_id] = items[job.write.item_id]
        return live

    async def _refresh_variations(self, jobs: Sequence[WriteJob]) -> set[str]:
        """Read the items of variation writes just before sending them; returns the ids held back.

        A variations PUT deletes every variation it leaves out, so the list it keeps must be the
        item's *current* one: the seller may have added a variation since Pull (or since the
        interrupted attempt whose intent a re-run rebuilds the job from). The fresh read is also
        the snapshot's source, so the evidence shows the state right before the first write.
        """
        if not jobs:
            return set()
        held: set[str] = set()
        try:
            with self.calls.scope(None, "variations"):
                items = await self.read_items([j.write.item_id for j in jobs])
        except MeliError as exc:
            for job in jobs:
                why = f"the item's variations could not be read: {classify(exc).api_error}"
                self.not_sent[job.write_id] = why
                held.add(job.write_id)
            return held
        for job in jobs:
            found, seen = items.get(job.write.item_id, (False, None))
            current = _live_variation_ids(seen) if found else []
            if job.write.variation_id not in current:
                where = "is no longer on the item" if found else "could not be read (item not found)"
                self.not_sent[job.write_id] = f"variation {job.write.variation_id} {where}; pull again"
                held.add(job.write_id)
                continue
            assert seen is not None
            job.item = dict(seen)
            job.variation_ids = current
            job.status_before = str(seen.get("status") or job.status_before or "")
        return held

    async def read_items(self, ids: Sequence[str]) -> dict[str, tuple[bool, dict[str, Any] | None]]:
        """See :func:`read_items`."""
        return await read_items(self.api, ids)

    async def read_ad_groups(self, jobs: Sequence[WriteJob]) -> dict[str, dict[str, Any]]:
        """The live ad groups of the jobs' items, by ad-group id (two reads per site)."""
        by_site: dict[str, list[str]] = {}
        for job in jobs:
            if job.write.site:
                by_site.setdefault(job.write.site, []).append(job.write.item_id)
        groups: dict[str, dict[str, Any]] = {}
        for site, item_ids in by_site.items():
            advertiser = await self.api.get_advertiser(site)
            if advertiser is None:
                continue
            for group in await self.api.search_ad_groups(site, advertiser.advertiser_id, item_ids):
                groups[group.id] = group.model_dump(mode="json")
        return groups

    # -- writing ------------------------------------------------------------------------------

    async def _write_all(self, jobs: Sequence[WriteJob]) -> None:
        # One task per item: writes to the same item go one after another (concurrent PUTs on one
        # item earn 409 optimistic-locking errors), different items go side by side.
        items: dict[str, list[WriteJob]] = {}
        for job in jobs:
            items.setdefault(job.write.item_id, []).append(job)
        gate = asyncio.Semaphore(self.concurrency)
        failed_rows: set[int] = set()

        async def one_item(group: list[WriteJob]) -> None:
            async with gate:
                for job in group:
                    if self.aborted is not None:
                        return
                    if job.row_number in failed_rows:
                        continue  # the ad write of a listing that did not go down would be wrong
                    ok = await self._write_one(job)
                    if not ok and job.is_item_write:
                        failed_rows.add(job.row_number)

        tasks = [asyncio.ensure_future(one_item(group)) for group in items.values()]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # gather() leaves the other tasks running when one fails: they would go on sending
            # writes after the run has ended, its journal closed and its lock released. Stop
            # them and wait until they have (an intent without outcome is reconciled next run).
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _snapshot(self, job: WriteJob) -> tuple[str, str] | None:
        """Take the item's first-ever snapshot if none exists; returns the snapshot file's name and
        its SHA-256 (recorded in the hash-chained journal, so the file cannot be altered together
        with its ``.sha256`` unnoticed).

        Raises :class:`SnapshotError` when an item write has no snapshot and none can be taken.
        """
        if not job.is_item_write or job.write.op is Op.RELIST:
            return None
        if job.item is not None:
            row = self.snapshots.ensure(
                job.item,
                variation_id=job.write.variation_id,
                ad_group_id=job.ad_group_id,
                ad_status=job.ad_status,
                row_number=job.row_number,
            )
            if row is not None:
                self.snapshot_rows.append(row)
        path = self.snapshots.find(job.write.item_id)
        if path is None:
            raise SnapshotError(f"{job.write.item_id} could not be read to take its snapshot")
        return path.name, load_snapshot(path).sha256

    async def _write_one(self, job: WriteJob) -> bool:
        write = job.write
        note = f"{write.op.value} {job.write_id}"
        with self.calls.scope(job.row_number, note):
            if write.op in (Op.ZERO_VARIATION, Op.RESTORE_VARIATION):
                # A variations PUT that omits a variation deletes it: never send one without the
                # full list of the item's variation ids.
                job.variation_ids = variation_ids_of(write, job.item, job.variation_ids)
                if write.variation_id not in job.variation_ids:
                    self.not_sent[job.write_id] = "the item's variation list is unknown; pull again"
                    return False
            try:
                snapshot = self._snapshot(job)
            except (SnapshotError, OSError) as exc:
                # No evidence, no write: the row is reported NOT_SENT and a re-run tries again.
                self.not_sent[job.write_id] = f"the snapshot could not be saved: {exc}"
                return False
            self._append(
                "intent",
                job,
                row=job.row_number,
                identifier=job.identifier,
                item_id=write.item_id,
                op=write.op.value,
                variation_id=write.variation_id,
                variation_ids=job.variation_ids,
                ad_group_id=write.ad_group_id,
                site=write.site,
                body=write.body,
                expected_status=write.expected_status,
                status_before=job.status_before,
                snapshot=snapshot[0] if snapshot else None,
                snapshot_sha256=snapshot[1] if snapshot else None,
                source_write_id=job.source_write_id,
                quantity_before=_variation_quantity(job.item, write.variation_id)
                if write.op in VARIATION_OPS
                else None,
            )
            self.sent += 1
            try:
                answer = await perform(self.api, job)
            except (MeliError, TimeoutError, OSError) as exc:
                failure = classify(exc)
                self._record_failure(job, failure)
                if failure.code is Code.AUTH_FAILED:
                    self.aborted = failure
                return False
        new_item_id = answer.get("id") if write.op is Op.RELIST else None
        self._append(
            "outcome",
            job,
            ok=True,
            code=job.success_code.value,
            item_id=write.item_id,
            status_before=job.status_before,
            status_after=answer.get("status"),
            request_id=self.calls.request_id(note),
            new_item_id=new_item_id,
        )
        return True

    def _append(self, entry_type: str, job: WriteJob, **fields: Any) -> None:
        """Journal an entry about ``job``'s write, in this run."""
        self.journal.append(entry_type, write_id=job.write_id, run_id=self.run_id, **fields)

    def _record_failure(self, job: WriteJob, failure: Failure, *, note: str = "") -> None:
        message = f"{note}: {failure.message}" if note else failure.message
        self._append(
            "outcome",
            job,
            ok=False,
            code=failure.code.value,
            item_id=job.write.item_id,
            http_status=failure.http_status,
            error=failure.error,
            cause_codes=list(failure.cause_codes),
            message=message,
            api_error=failure.api_error,
            request_id=failure.request_id,
            status_before=job.status_before,
        )

    # -- lost answers ---------------------------------------------------------------------------

    async def _recheck_lost(self, jobs: Sequence[WriteJob]) -> None:
        """Read back this run's writes that failed after they may have been applied.

        A dropped connection after the request left, or a 5xx, says nothing about whether
        Mercado Libre applied the write. Reading the item settles it now rather than at the next
        run: a write that took effect is journalled RECONCILED (and never sent again); one that
        did not keeps its failure, with what the item shows recorded as a ``verify`` entry (a
        DELETE whose close went through but whose delete did not leaves a closed listing, and
        the row must say so). A relist is never judged from the old item (see :func:`judge`).
        """
        states = self.journal.log.states()
        lost: list[WriteJob] = []
        for job in jobs:
            state = states.get(job.write_id)
            outcome = state.outcome if state is not None else None
            if outcome is None or outcome.get("ok") or outcome.get("run_id") != self.run_id:
                continue
            if job.write.op is Op.RELIST:
                continue
            if outcome.get("code") in MAYBE_APPLIED or job.write.op is Op.DELETE:
                lost.append(job)
        if not lost:
            return
        try:
            live = await self._read_live(lost, "recheck")
        except MeliError:
            return  # the failures stand; the next run reconciles them (reconcile.Next.CHECK)
        for job in lost:
            if job.write_id not in live:
                continue
            found, seen = live[job.write_id]
            if judge(job.write, seen, found=found).reached:
                self._record_reconciled(
                    job,
                    seen,
                    "the answer was lost, but Mercado Libre shows the write applied; not sent again",
                )
            else:
                self._append_verify(job, False, seen, source="recheck")

    # -- verification -------------------------------------------------------------------------

    async def _verify(self, jobs: Sequence[WriteJob]) -> None:
        """Read back every successful, unverified write (multiget, 20 per request)."""
        states = self.journal.log.states()
        pending = [
            j for j in jobs if (s := states.get(j.write_id)) is not None and s.succeeded and s.verify is None
        ]
        if not pending:
            return
        targets: dict[str, str] = {}
        for job in pending:
            state = states[job.write_id]
            assert state.outcome is not None
            if job.write.op in AD_OPS:
                # The ad-group PUT answers with the group; its status is the read-back.
                answer = {"status": state.outcome.get("status_after")}
                self._append_verify(job, target_reached(job.write, answer), answer, source="response")
            elif job.write.op is Op.RELIST:
                targets[job.write_id] = str(state.outcome.get("new_item_id") or "")
            else:
                targets[job.write_id] = job.write.item_id
        if not targets:
            return
        try:
            with self.calls.scope(None, "verify"):
                items = await self.read_items(list(targets.values()))
        except MeliError:
            return  # left unverified; the next run verifies (reconcile.Next.VERIFY)
        for job in pending:
            target = targets.get(job.write_id)
            if target is None or target not in items:
                continue
            found, seen = items[target]
            self._append_verify(job, target_reached(job.write, seen if found else None), seen)

    def _append_verify(
        self, job: WriteJob, ok: bool, seen: Mapping[str, Any] | None, *, source: str = "read"
    ) -> None:
        variation_quantity = None
        if seen is not None and job.write.variation_id is not None:
            for variation in seen.get("variations") or []:
                if isinstance(variation, Mapping) and variation.get("id") == job.write.variation_id:
                    variation_quantity = variation.get("available_quantity")
        self._append(
            "verify",
            job,
            ok=ok,
            source=source,
            status_seen=None if seen is None else seen.get("status"),
            sub_status_seen=None if seen is None else seen.get("sub_status"),
            variation_quantity_seen=variation_quantity,
        )


def _live_variation_ids(item: Mapping[str, Any] | None) -> list[int]:
    """The variation ids an item shows now (never the planned body's list, which may be stale)."""
    variations = (item or {}).get("variations") or []
    return [int(v["id"]) for v in variations if isinstance(v, Mapping) and v.get("id") is not None]


def _variation_quantity(item: Mapping[str, Any] | None, variation_id: int | None) -> int | None:
    """The variation's stock in ``item`` (read just before the write), ``None`` when not shown."""
    for variation in (item or {}).get("variations") or []:
        if isinstance(variation, Mapping) and variation.get("id") == variation_id:
            quantity = variation.get("available_quantity")
            return quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None
    return None
