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
from mltakedown.engine.snapshots import SnapshotError, SnapshotStore
from mltakedown.engine.writes import WriteJob, perform, read_items, variation_ids_of
from mltakedown.meli.errors import MeliError

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

    async def run(self, jobs: Sequence[WriteJob]) -> dict[str, WriteState]:
        """Do every job that still needs doing; returns the journal state per write id."""
        by_id = {job.write_id: job for job in jobs}
        sorted_ids = triage(list(by_id), self.journal.log.states())
        to_write = set(sorted_ids.write)
        if sorted_ids.check:
            to_write |= await self._reconcile([by_id[w] for w in sorted_ids.check])
        await self._write_all([job for job in jobs if job.write_id in to_write])
        await self._verify(jobs)
        return self.journal.log.states()

    # -- reconciliation -----------------------------------------------------------------------

    async def _reconcile(self, jobs: Sequence[WriteJob]) -> set[str]:
        """Read the live state of maybe-applied writes; returns the ids still to be sent."""
        item_jobs = [j for j in jobs if j.write.op not in AD_OPS]
        ad_jobs = [j for j in jobs if j.write.op in AD_OPS]
        to_write: set[str] = set()
        try:
            with self.calls.scope(None, "reconcile"):
                items = await self.read_items(
                    [j.write.item_id for j in item_jobs if j.write.op is not Op.RELIST]
                )
                groups = await self.read_ad_groups(ad_jobs)
        except MeliError as exc:
            failure = classify(exc)
            for job in jobs:
                self._record_failure(job, failure, note="the live state could not be read to reconcile")
            return to_write
        for job in jobs:
            if job.write.op in AD_OPS:
                seen = groups.get(job.write.ad_group_id or "")
                found = seen is not None
            else:
                found, seen = items.get(job.write.item_id, (False, None))
            verdict = judge(job.write, seen, found=found)
            if verdict.reached:
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
                    message="already in the target state after an interrupted run; not sent again",
                )
                self._append(
                    "verify",
                    job,
                    ok=True,
                    source="reconcile",
                    status_seen=status,
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

        await asyncio.gather(*(one_item(group) for group in items.values()))

    def _snapshot(self, job: WriteJob) -> str | None:
        """Take the item's first-ever snapshot if none exists; returns the snapshot file's name.

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
        return path.name

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
                snapshot=snapshot,
                source_write_id=job.source_write_id,
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
