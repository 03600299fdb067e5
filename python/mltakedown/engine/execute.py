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
import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol
from zoneinfo import ZoneInfo

from mltakedown import codes
from mltakedown.book.ports import CellValue, LogEntry, Outcome, Result, SnapshotRow
from mltakedown.codes import Code, spec
from mltakedown.engine.journal import Journal, WriteState
from mltakedown.engine.model import Op, PlannedWrite
from mltakedown.engine.reconcile import AD_OPS, judge, target_reached, triage
from mltakedown.engine.snapshots import SnapshotError, SnapshotStore
from mltakedown.meli.calls import CallRecord
from mltakedown.meli.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    MeliError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TokenError,
)
from mltakedown.meli.models import AdGroup, Advertiser, Item, User

CONCURRENCY: Final = 8
"""Rows in flight at once. The rate limiter, not this, sets the pace; a few spare slots keep it busy
while responses are on their way back."""

SITE_ZONES: Final[dict[str, str]] = {
    "MLM": "America/Mexico_City",
    "MLB": "America/Sao_Paulo",
    "MLA": "America/Argentina/Buenos_Aires",
    "MLC": "America/Santiago",
    "MCO": "America/Bogota",
    "MLU": "America/Montevideo",
    "MPE": "America/Lima",
    "MEC": "America/Guayaquil",
    "MLV": "America/Caracas",
    "MBO": "America/La_Paz",
    "MPY": "America/Asuncion",
    "MCR": "America/Costa_Rica",
    "MPA": "America/Panama",
    "MRD": "America/Santo_Domingo",
    "MGT": "America/Guatemala",
    "MHN": "America/Tegucigalpa",
    "MNI": "America/Managua",
    "MSV": "America/El_Salvador",
}
"""Each site's local time zone (the Done-at-local column)."""

ITEM_WRITE_OPS: Final = frozenset(
    {Op.PAUSE, Op.CLOSE, Op.DELETE, Op.ZERO_VARIATION, Op.ACTIVATE, Op.RESTORE_VARIATION, Op.RELIST}
)

ItemStatus = Literal["active", "paused", "closed"]
AdGroupStatus = Literal["active", "paused"]


class ItemResultLike(Protocol):
    """One multiget entry (``mltakedown.meli.models.ItemResult``)."""

    @property
    def id(self) -> str: ...

    @property
    def code(self) -> int: ...

    @property
    def item(self) -> Item | None: ...


class EngineApi(Protocol):
    """The calls Execute, Reconcile and Restore make (a subset of :class:`~mltakedown.meli.client.MeliClient`)."""

    async def me(self) -> User: ...

    async def get_items(self, ids: Sequence[str], /) -> Sequence[ItemResultLike]: ...

    async def set_item_status(self, item_id: str, status: ItemStatus, /) -> Item: ...

    async def delete_item(self, item_id: str, /) -> Item: ...

    async def set_variation_stock(
        self, item_id: str, quantities: Mapping[int, int], /, keep: Sequence[int] = ()
    ) -> Item: ...

    async def relist_item(
        self,
        item_id: str,
        /,
        *,
        price: float,
        quantity: int,
        listing_type_id: str,
        variations: Sequence[Mapping[str, Any]] | None = None,
    ) -> Item: ...

    async def get_advertiser(self, site_id: str, /) -> Advertiser | None: ...

    async def search_ad_groups(
        self, site_id: str, advertiser_id: int | str, item_ids: Sequence[str], /
    ) -> list[AdGroup]: ...

    async def set_ad_group_status(
        self, site_id: str, ad_group_id: str, status: AdGroupStatus, /
    ) -> AdGroup: ...


# --------------------------------------------------------------------------------------------
# API errors → execution codes


@dataclass(frozen=True, slots=True)
class Failure:
    """A write that did not go through, as the row and the journal show it."""

    code: Code
    message: str
    http_status: int | None = None
    error: str = ""
    cause_codes: tuple[str, ...] = ()
    request_id: str | None = None

    @property
    def api_error(self) -> str:
        """The API's own words for the ``api_error`` column: status, error code, causes, message."""
        parts: list[str] = []
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.error:
            parts.append(self.error)
        if self.cause_codes:
            parts.append(", ".join(self.cause_codes))
        head = " ".join(parts)
        return f"{head}: {self.message}" if head else self.message


def classify(exc: BaseException) -> Failure:
    """Map an exception from the client to the execution code the row shows.

    429 after the client's retries → RATE_LIMITED; 401 or an unusable token → AUTH_FAILED;
    timeouts and connection failures → NETWORK; 409 → CONFLICT; 403 → FORBIDDEN; 400 →
    API_VALIDATION (with the cause); 5xx → SERVER_ERROR.
    """
    if isinstance(exc, APIError):
        code = _api_error_code(exc)
        return Failure(
            code=code,
            message=exc.message,
            http_status=exc.status_code,
            error=exc.error,
            cause_codes=tuple(exc.cause_codes),
            request_id=exc.request_id,
        )
    if isinstance(exc, TokenError):
        return Failure(Code.AUTH_FAILED, exc.message, error=exc.code)
    if isinstance(exc, APIConnectionError):
        sent = "the request may have reached the server" if exc.request_sent else "the request was not sent"
        return Failure(Code.NETWORK, f"{exc.message} ({sent})", error=exc.code)
    if isinstance(exc, MeliError):
        return Failure(Code.SERVER_ERROR, exc.message, error=exc.code, request_id=exc.request_id)
    if isinstance(exc, TimeoutError | OSError):
        return Failure(Code.NETWORK, str(exc) or type(exc).__name__, error=type(exc).__name__)
    raise TypeError(f"not an API failure: {exc!r}") from exc


def _api_error_code(exc: APIError) -> Code:
    if isinstance(exc, RateLimitError):
        return Code.RATE_LIMITED
    if isinstance(exc, AuthenticationError):
        return Code.AUTH_FAILED
    if isinstance(exc, ConflictError):
        return Code.CONFLICT
    if isinstance(exc, PermissionDeniedError):
        return Code.FORBIDDEN
    if isinstance(exc, NotFoundError):
        return Code.NOT_FOUND
    if isinstance(exc, BadRequestError):
        return Code.API_VALIDATION
    if isinstance(exc, ServerError) or exc.status_code >= 500:
        return Code.SERVER_ERROR
    return Code.API_VALIDATION


# --------------------------------------------------------------------------------------------
# The call log (Log sheet) with the row each call belongs to

_scope: ContextVar[tuple[int | None, str]] = ContextVar("mltakedown_call_scope", default=(None, ""))


class CallLog:
    """The ``on_call`` hook of the client: every attempt becomes a Log-sheet entry.

    Calls made inside :meth:`scope` are tagged with the row number and a note (the write id and
    operation); the tag travels with the asyncio task, so concurrent rows do not mix.
    """

    def __init__(self, run_id: str = "") -> None:
        self.run_id = run_id
        self.entries: list[LogEntry] = []
        self.requests = 0
        self.first_at: dt.datetime | None = None
        self.last_at: dt.datetime | None = None
        self._request_ids: dict[str, str] = {}
        self._drained = 0

    def __call__(self, record: CallRecord) -> None:
        row, note = _scope.get()
        self.requests += 1
        self.first_at = record.at if self.first_at is None else min(self.first_at, record.at)
        self.last_at = record.at if self.last_at is None else max(self.last_at, record.at)
        if note and record.request_id:
            self._request_ids[note] = record.request_id
        text = note
        if record.error:
            text = f"{note} {record.error}".strip()
        if record.attempt > 1:
            text = f"{text} (attempt {record.attempt})".strip()
        self.entries.append(
            LogEntry(
                at=record.at,
                method=record.method,
                path=record.path + (f"?{record.query}" if record.query else ""),
                status=record.status,
                request_id=record.request_id or "",
                duration_ms=record.duration_ms,
                row_number=row,
                run_id=self.run_id,
                note=text,
            )
        )

    @contextlib.contextmanager
    def scope(self, row_number: int | None, note: str) -> Iterator[None]:
        """Tag the calls made inside the block with ``row_number`` and ``note``."""
        token = _scope.set((row_number, note))
        try:
            yield
        finally:
            _scope.reset(token)

    def request_id(self, note: str) -> str | None:
        """The request ID of the last answered call made under ``note``."""
        return self._request_ids.get(note)

    def drain(self) -> list[LogEntry]:
        """Entries not handed out yet (for appending to the Log sheet in pieces)."""
        fresh = self.entries[self._drained :]
        self._drained = len(self.entries)
        return fresh


# --------------------------------------------------------------------------------------------
# Jobs


@dataclass(slots=True)
class WriteJob:
    """One write to make, with what the journal and the row need to know about it."""

    write_id: str
    row_number: int
    write: PlannedWrite
    identifier: str = ""
    item: dict[str, Any] | None = None
    """The item as last read (snapshot source; refreshed by reconciliation)."""
    status_before: str | None = None
    """The item's status (or the ad group's, for ad writes) before the write."""
    variation_ids: list[int] = field(default_factory=list)
    """Every variation id of the item (a variation write must list them all to keep them)."""
    ad_group_id: str | None = None
    ad_status: str | None = None
    success_code: Code = Code.DONE
    """The code a successful write shows (DONE, RESTORED, RELISTED)."""
    source_write_id: str | None = None
    """Restore: the take-down write this one reverses."""

    @property
    def is_item_write(self) -> bool:
        """A write to the item itself (not its ad group)."""
        return self.write.op in ITEM_WRITE_OPS


def _dump(model: Item | AdGroup | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


async def perform(api: EngineApi, job: WriteJob) -> dict[str, Any]:
    """Send one job's write(s); returns the API's answer (the item or ad group) as JSON."""
    write = job.write
    item_id = write.item_id
    op = write.op
    if op is Op.PAUSE:
        answer: Item | AdGroup = await api.set_item_status(item_id, "paused")
    elif op is Op.CLOSE:
        answer = await api.set_item_status(item_id, "closed")
    elif op is Op.ACTIVATE:
        answer = await api.set_item_status(item_id, "active")
    elif op is Op.DELETE:
        # Deleting is a second PUT on a closed item; close it first when it is still open.
        if job.status_before != "closed":
            await api.set_item_status(item_id, "closed")
        answer = await api.delete_item(item_id)
    elif op in (Op.ZERO_VARIATION, Op.RESTORE_VARIATION):
        if write.variation_id is None:
            raise ValueError(f"{op} needs a variation id")
        quantity = 0 if op is Op.ZERO_VARIATION else int(write.body["available_quantity"])
        answer = await api.set_variation_stock(
            item_id, {write.variation_id: quantity}, keep=job.variation_ids
        )
    elif op in AD_OPS:
        status = write.body.get("status", write.expected_status)
        if status not in ("active", "paused") or not write.ad_group_id or not write.site:
            raise ValueError(f"{op} needs a site, an ad group and a status")
        answer = await api.set_ad_group_status(write.site, write.ad_group_id, status)
    elif op is Op.RELIST:
        body = write.body
        answer = await api.relist_item(
            item_id,
            price=float(body["price"]),
            quantity=int(body["quantity"]),
            listing_type_id=str(body["listing_type_id"]),
            variations=body.get("variations"),
        )
    else:
        raise ValueError(f"Execute does not know how to send {op}")
    return answer.model_dump(mode="json")


def variation_ids_of(
    write: PlannedWrite, item: Mapping[str, Any] | None, known: Sequence[int] = ()
) -> list[int]:
    """Every variation id of the item: from Pull, else the planned body, else the item JSON."""
    if known:
        return list(known)
    from_body = [v.get("id") for v in write.body.get("variations", []) if isinstance(v, Mapping)]
    if from_body:
        return [int(v) for v in from_body if v is not None]
    variations = (item or {}).get("variations") or []
    return [int(v["id"]) for v in variations if isinstance(v, Mapping) and v.get("id") is not None]


async def read_items(api: EngineApi, ids: Sequence[str]) -> dict[str, tuple[bool, dict[str, Any] | None]]:
    """Multiget ``ids`` (20 per request); per id: (found, item JSON). Other per-item errors are left out."""
    unique = list(dict.fromkeys(i for i in ids if i))
    if not unique:
        return {}
    seen: dict[str, tuple[bool, dict[str, Any] | None]] = {}
    for result in await api.get_items(unique):
        if result.item is not None:
            seen[result.id] = (True, _dump(result.item))
        elif result.code == 404:
            seen[result.id] = (False, None)
    return seen


# --------------------------------------------------------------------------------------------
# The runner


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
                self.journal.append(
                    "outcome",
                    write_id=job.write_id,
                    run_id=self.run_id,
                    ok=True,
                    reconciled=True,
                    code=Code.RECONCILED.value,
                    item_id=job.write.item_id,
                    status_before=job.status_before,
                    status_after=status,
                    message="already in the target state after an interrupted run; not sent again",
                )
                self.journal.append(
                    "verify",
                    write_id=job.write_id,
                    run_id=self.run_id,
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
            self.journal.append(
                "intent",
                write_id=job.write_id,
                run_id=self.run_id,
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
        self.journal.append(
            "outcome",
            write_id=job.write_id,
            run_id=self.run_id,
            ok=True,
            code=job.success_code.value,
            item_id=write.item_id,
            status_before=job.status_before,
            status_after=answer.get("status"),
            request_id=self.calls.request_id(note),
            new_item_id=new_item_id,
        )
        return True

    def _record_failure(self, job: WriteJob, failure: Failure, *, note: str = "") -> None:
        message = f"{note}: {failure.message}" if note else failure.message
        self.journal.append(
            "outcome",
            write_id=job.write_id,
            run_id=self.run_id,
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
        self.journal.append(
            "verify",
            write_id=job.write_id,
            run_id=self.run_id,
            ok=ok,
            source=source,
            status_seen=None if seen is None else seen.get("status"),
            sub_status_seen=None if seen is None else seen.get("sub_status"),
            variation_quantity_seen=variation_quantity,
        )


# --------------------------------------------------------------------------------------------
# Row outcomes


def local_times(at: dt.datetime, site: str | None) -> tuple[dt.datetime, dt.datetime]:
    """``at`` as naive UTC and as naive local time of the site (Excel cells hold no zone)."""
    utc = at.astimezone(dt.UTC)
    zone = SITE_ZONES.get((site or "")[:3].upper())
    local = utc.astimezone(ZoneInfo(zone)) if zone else utc
    return utc.replace(tzinfo=None), local.replace(tzinfo=None)


def texts(code: Code, lang: str, detail: str = "") -> tuple[str, str]:
    """Message and remedy of ``code`` in ``lang``; the raw detail when the catalogue lacks the code."""
    try:
        return codes.describe(code, lang, detail)
    except (KeyError, OSError):
        return (f"{code.value}: {detail}" if detail else code.value), ""


@dataclass(slots=True)
class _RowVerdict:
    code: Code
    detail: str = ""
    api_error: str = ""
    request_id: str = ""
    status_after: str = ""
    at: dt.datetime | None = None
    new_item_id: str = ""


def _verdict(job: WriteJob, state: WriteState | None, held: str | None) -> _RowVerdict:
    if state is None:
        return _RowVerdict(Code.NOT_SENT, held or "the run stopped before this row")
    outcome = state.outcome
    if outcome is None:
        return _RowVerdict(Code.NETWORK, "sent but not confirmed (the run stopped); run again to reconcile")
    at = dt.datetime.fromisoformat(str(outcome["at"]))
    request_id = str(outcome.get("request_id") or "")
    if not outcome.get("ok"):
        return _RowVerdict(
            Code(str(outcome.get("code") or Code.SERVER_ERROR.value)),
            detail=str(outcome.get("message") or ""),
            api_error=str(outcome.get("api_error") or ""),
            request_id=request_id,
            at=at,
        )
    verify = state.verify
    seen = str((verify or {}).get("status_seen") or outcome.get("status_after") or "")
    new_item_id = str(outcome.get("new_item_id") or "")
    if verify is not None and not verify.get("ok"):
        expected = job.write.expected_status or job.write.body
        detail = f"expected {expected}, Mercado Libre shows {seen or 'nothing'}"
        if verify.get("variation_quantity_seen") is not None:
            detail += f" (variation stock {verify['variation_quantity_seen']})"
        return _RowVerdict(Code.VERIFY_MISMATCH, detail, request_id=request_id, status_after=seen, at=at)
    code = Code(str(outcome.get("code") or job.success_code.value))
    detail = str(outcome.get("message") or "") if code is Code.RECONCILED else ""
    if verify is None:
        detail = "not read back yet; the next run verifies it"
    if new_item_id:
        detail = f"{new_item_id} (was {job.write.item_id})"
    return _RowVerdict(code, detail, request_id=request_id, status_after=seen, at=at, new_item_id=new_item_id)


def row_outcome(
    row_number: int,
    jobs: Sequence[WriteJob],
    states: Mapping[str, WriteState],
    *,
    lang: str,
    site: str | None,
    status_before: str | None,
    not_sent: Mapping[str, str] | None = None,
) -> Outcome:
    """The outcome of a row whose writes went (or should have gone) through the runner.

    The row shows its first failing write if any, else its first write (the listing's); the
    status after is the listing's as read back.
    """
    held = not_sent or {}
    verdicts = [_verdict(job, states.get(job.write_id), held.get(job.write_id)) for job in jobs]
    failing = [v for v in verdicts if spec(v.code).result is Result.FAILED]
    main = failing[0] if failing else verdicts[0]
    item_verdicts = [v for job, v in zip(jobs, verdicts, strict=True) if job.is_item_write]
    status_after = (item_verdicts[0] if item_verdicts else main).status_after
    message, remedy = texts(main.code, lang, main.detail)
    values: dict[str, CellValue] = {
        "status_before": status_before or "",
        "status_after": status_after,
        "api_error": main.api_error,
        "request_id": main.request_id or next((v.request_id for v in verdicts if v.request_id), ""),
        "new_item_id": next((v.new_item_id for v in verdicts if v.new_item_id), ""),
    }
    at = main.at or next((v.at for v in verdicts if v.at), None)
    if at is not None:
        values["done_at_utc"], values["done_at_local"] = local_times(at, site)
    else:
        values["done_at_utc"] = values["done_at_local"] = None
    return Outcome(
        row_number=row_number,
        result=spec(main.code).result,
        code=main.code.value,
        message=message,
        remedy=remedy,
        values=values,
    )


def blocked_outcome(
    row_number: int, code: Code, *, lang: str, detail: str = "", result: Result | None = None
) -> Outcome:
    """The outcome of a row that sends nothing (blocked, skipped, or refused at the stage level)."""
    message, remedy = texts(code, lang, detail)
    return Outcome(
        row_number=row_number,
        result=result or spec(code).result,
        code=code.value,
        message=message,
        remedy=remedy,
        values={
            "api_error": "",
            "request_id": "",
            "status_after": "",
            "done_at_utc": None,
            "done_at_local": None,
        },
    )
