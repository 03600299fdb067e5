"""The Execute and Restore stages: from a workbook and a client to written rows.

Both stages follow the same frame: refuse what must not run (no plan, a stale plan, the wrong
account, a journal whose chain is broken, another run holding the workbook), show the counts
and ask for confirmation before anything is sent, then lock the workbook, run the writes through
the journal (:class:`~mltakedown.engine.runner.WriteRunner`), and write every row's outcome,
the snapshots and the call log back to the workbook. Every row gets an outcome, whatever
happened (``NOT_SENT`` for rows a stopped run did not reach).

Pass the same :class:`~mltakedown.engine.calls.CallLog` to the client as ``on_call`` and
to the stage as ``calls``, so every API call lands in the Log sheet with its row.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mltakedown.book.ports import InputRow, Outcome, Result, WorkbookPort
from mltakedown.codes import Code
from mltakedown.engine.actions import Action, parse_action
from mltakedown.engine.calls import CallLog
from mltakedown.engine.engine_api import EngineApi
from mltakedown.engine.error_codes import classify
from mltakedown.engine.gates import row_result
from mltakedown.engine.journal import (
    JOURNAL_NAME,
    JournalError,
    RunLock,
    WriteState,
    open_run,
    read_journal,
    state_dir,
    write_id,
)
from mltakedown.engine.model import Plan, PlannedRow, StageReport
from mltakedown.engine.outcomes import blocked_outcome, row_outcome
from mltakedown.engine.plan import is_current, load_plan, plan_path, settings_changed
from mltakedown.engine.reconcile import AD_OPS, triage
from mltakedown.engine.restore import find_takedowns, plan_restore, row_item_id
from mltakedown.engine.runner import CONCURRENCY, WriteRunner
from mltakedown.engine.snapshots import SnapshotStore
from mltakedown.engine.writes import WriteJob, read_items
from mltakedown.meli.client import MeliClient
from mltakedown.meli.errors import MeliError, TokenError
from mltakedown.meli.models import User

Confirm = Callable[[dict[str, int]], bool]
"""Shown the counts (``{"pause": 120, "blocked": 3, …}``); returns whether to go ahead."""

MAX_PLAN_AGE = dt.timedelta(hours=24)
"""Execute refuses a plan older than this: its gates read orders, ads and moderation state that
change by the hour."""


def plan_age(plan: Plan, now: dt.datetime | None = None) -> dt.timedelta:
    """How old ``plan`` is (a plan stored without a time zone is taken as UTC)."""
    created = plan.created_at if plan.created_at.tzinfo else plan.created_at.replace(tzinfo=dt.UTC)
    return (now or dt.datetime.now(dt.UTC)) - created


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: ``20261127T021500Z-1a2b3c``."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class _Frame:
    """What one stage run collects for its report."""

    stage: str
    run_id: str
    started: dt.datetime
    clock: float
    base_requests: int = 0
    """The call log's count when the stage began (a log shared across stages keeps counting)."""

    def report(self, outcomes: Sequence[Outcome], *, requests: int, message: str) -> StageReport:
        counts: dict[str, int] = {}
        code_counts: dict[str, int] = {}
        for outcome in outcomes:
            if outcome.result is not None:
                counts[outcome.result.value] = counts.get(outcome.result.value, 0) + 1
            if outcome.code:
                code_counts[outcome.code] = code_counts.get(outcome.code, 0) + 1
        return StageReport(
            stage=self.stage,
            run_id=self.run_id,
            counts=counts,
            code_counts=code_counts,
            requests=requests,
            seconds=round(time.monotonic() - self.clock, 3),
            started_at=self.started,
            finished_at=dt.datetime.now(dt.UTC),
            message=message,
        )


def _frame(stage: str) -> _Frame:
    now = dt.datetime.now(dt.UTC)
    return _Frame(stage, new_run_id(now), now, time.monotonic())


def _summary(stage: str, outcomes: Sequence[Outcome], requests: int, seconds: float) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.result is not None:
            counts[outcome.result.value] = counts.get(outcome.result.value, 0) + 1
    parts = ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))
    return f"{stage}: {parts or 'no rows'}; {requests} requests in {seconds:.1f} s"


def _log_calls(book: WorkbookPort, calls: CallLog) -> bool:
    """Append the calls not yet in the Log sheet; whether there were any."""
    entries = calls.drain()
    if entries:
        book.append_log(entries)
    return bool(entries)


def _refuse_all(
    book: WorkbookPort, rows: Sequence[InputRow], code: Code, detail: str, frame: _Frame, calls: CallLog
) -> StageReport:
    """Every row gets ``code``; nothing is sent. The calls made to find out (``/users/me``) still
    go to the Log sheet.

    Only result, code, message and remedy change: the execution columns a previous run wrote
    (status after, request ID, done at) stay, since they are still the truth about the listing.
    """
    lang = book.language
    outcomes = [blocked_outcome(row.row_number, code, lang=lang, detail=detail) for row in rows]
    for outcome in outcomes:
        outcome.values = {}
    book.write_outcomes(outcomes, stage=frame.stage)
    _log_calls(book, calls)
    book.save()
    return frame.report(outcomes, requests=0, message=f"{frame.stage}: nothing sent — {code.value}: {detail}")


def _refuse_run(
    frame: _Frame,
    reason: str,
    *,
    book: WorkbookPort | None = None,
    calls: CallLog | None = None,
    journal_digest: str | None = None,
) -> StageReport:
    """The run cannot start (locked, broken journal, declined); the rows are left as they are.

    With ``book`` and ``calls``, the reads already made still go to the Log sheet — but only
    under the workbook's run lock and, when ``journal_digest`` is given, only if no run has
    touched the journal since it was read: this stage loaded the workbook before the
    confirmation, and saving that copy after another run saved its outcomes would erase them.
    """
    if book is not None and calls is not None:
        folder = state_dir(book.path)
        with contextlib.suppress(JournalError, OSError), RunLock(folder, run_id=frame.run_id):
            current = read_journal(folder / JOURNAL_NAME).last_digest
            if journal_digest in (None, current) and _log_calls(book, calls):
                book.save()
    return frame.report([], requests=0, message=f"{frame.stage}: nothing sent — {reason}")


def _damaged(problems: Sequence[str]) -> str:
    return (
        f"the journal is damaged ({'; '.join(problems[:3])}); keep it as evidence, move the "
        "journal.jsonl aside, then run Plan again before Execute or Restore"
    )


def _api_refusal(exc: MeliError) -> tuple[Code, str]:
    """The code every row gets when the stage cannot even start talking to the API."""
    failure = classify(exc)
    # No stored login (or a refused refresh) is a sign-in matter, not a failed write.
    code = Code.NOT_LOGGED_IN if isinstance(exc, TokenError) else failure.code
    return code, failure.api_error


@dataclass(frozen=True, slots=True)
class _Account:
    """The signed-in account as ``/users/me`` gave it, and why it may not write ("" when it may)."""

    me: User
    problem: str


async def _check_account(api: EngineApi, book: WorkbookPort, expected: int | None) -> _Account:
    """``/users/me`` against the workbook's seller (and the plan's, when given)."""
    settings = book.read_settings()
    me = await api.me()
    wanted = {s for s in (settings.seller_id, expected) if s is not None}
    problem = ""
    if not wanted:
        problem = "the workbook's Settings name no seller ID"
    elif wanted != {me.id}:
        problem = f"signed in as seller {me.id} ({me.nickname}); the workbook is for seller {', '.join(map(str, sorted(wanted)))}"
    return _Account(me, problem)


def _run_facts(api: EngineApi, book: WorkbookPort, me: User) -> dict[str, object]:
    """What ``run_start`` records about the account and the pace (the report's seller line reads them)."""
    alias, rate = "", None
    if isinstance(api, MeliClient):
        alias = api.account_alias
        # An unlimited limiter (tests) has no pace to record, and JSON has no infinity.
        rate = api.limiter.rate if math.isfinite(api.limiter.rate) else None
    return {
        "seller_id": me.id,
        "nickname": me.nickname or "",
        "account_alias": alias or book.read_settings().account_alias,
        "rate": rate,
    }


# --------------------------------------------------------------------------------------------
# Execute


def _plan_outcome(row: PlannedRow, lang: str) -> Outcome:
    """The outcome of a planned row that sends nothing (blocked or skipped by a gate)."""
    code = row.codes[0] if row.codes else Code.PLANNED
    detail = row.code_details.get(code.value, row.detail)
    outcome = blocked_outcome(row.row_number, code, lang=lang, detail=detail, result=row_result(row))
    if row.live is not None:
        outcome.values["status_before"] = row.live.status or ""
    return outcome


def _jobs_for(plan: Plan, row: PlannedRow) -> list[WriteJob]:
    live = row.live
    jobs: list[WriteJob] = []
    for write in row.writes:
        detail = str(write.variation_id or write.ad_group_id or "")
        is_ad = write.op in AD_OPS
        jobs.append(
            WriteJob(
                write_id=write_id(plan.plan_id, row.row_number, write.item_id, write.op.value, detail),
                row_number=row.row_number,
                write=write,
                identifier=live.identifier if live else "",
                item=live.item_json if live else None,
                status_before=(live.ad_status if is_ad else live.status) if live else None,
                variation_ids=list(live.variation_ids) if live else [],
                ad_group_id=live.ad_group_id if live else write.ad_group_id,
                ad_status=live.ad_status if live else None,
            )
        )
    return jobs


def execute_counts(
    plan: Plan,
    jobs: Sequence[WriteJob],
    skipped_rows: Sequence[PlannedRow],
    states: Mapping[str, WriteState] | None = None,
    *,
    not_ours: int = 0,
) -> dict[str, int]:
    """The counts the confirmation shows: writes per operation, rows per verdict (``not_ours``:
    rows held back because the item is another seller's, shown as blocked), and — on a re-run —
    how many writes an earlier run already did or left to reconcile."""
    counts = write_counts(jobs, states)
    for row in skipped_rows:
        key = row_result(row).value.lower()
        counts[key] = counts.get(key, 0) + 1
    if not_ours:
        counts["blocked"] = counts.get("blocked", 0) + not_ours
    counts["rows"] = len(plan.rows)
    return counts


def write_counts(jobs: Sequence[WriteJob], states: Mapping[str, WriteState] | None) -> dict[str, int]:
    """Writes per operation that *will be sent*; writes an earlier run already did count as
    ``already_done``, maybe-applied ones as ``to_reconcile`` (read first, sent only if needed).

    The confirmation must not announce "2 pause" on a re-run that sends nothing.
    """
    sorted_ids = triage([job.write_id for job in jobs], states or {})
    fresh = set(sorted_ids.write)
    counts: dict[str, int] = {}
    for job in jobs:
        if job.write_id in fresh:
            counts[job.write.op.value] = counts.get(job.write.op.value, 0) + 1
    if done := len(sorted_ids.done) + len(sorted_ids.verify):
        counts["already_done"] = done
    if sorted_ids.check:
        counts["to_reconcile"] = len(sorted_ids.check)
    return counts


async def _preflight(
    book: WorkbookPort,
    api: EngineApi,
    rows: Sequence[InputRow],
    plan: Plan | None,
    frame: _Frame,
    calls: CallLog,
) -> tuple[Plan, User] | StageReport:
    """The plan to run and the signed-in account, or the report of why nothing may be sent (every
    row then says why)."""
    if plan is None:
        try:
            plan = load_plan(plan_path(book.path))
        except FileNotFoundError:
            return _refuse_all(book, rows, Code.NO_PLAN, "run Plan first", frame, calls)
    if not is_current(plan, rows):
        detail = "the rows changed since the plan was made; run Plan again"
        return _refuse_all(book, rows, Code.PLAN_STALE, detail, frame, calls)
    if settings_changed(plan, book.read_settings()):
        detail = "the Settings (seller, account, ad policy or site) changed since the plan was made; run Plan again"
        return _refuse_all(book, rows, Code.PLAN_STALE, detail, frame, calls)
    age = plan_age(plan)
    if age > MAX_PLAN_AGE:
        # The gates were decided on live state (orders, ads, moderation) that an old plan no
        # longer describes: a listing may have sold meanwhile, so its close would now hurt.
        hours = age.total_seconds() / 3600
        detail = f"the plan is {hours:.0f} hours old (the limit is {MAX_PLAN_AGE.total_seconds() / 3600:.0f}); run Plan again"
        return _refuse_all(book, rows, Code.PLAN_STALE, detail, frame, calls)
    try:
        account = await _check_account(api, book, plan.seller_id)
    except MeliError as exc:
        return _refuse_all(book, rows, *_api_refusal(exc), frame, calls)
    if account.problem:
        return _refuse_all(book, rows, Code.ACCOUNT_MISMATCH, account.problem, frame, calls)
    return plan, account.me


@dataclass(slots=True)
class _Split:
    """A plan's rows sorted into those that write and those that do not."""

    jobs: list[WriteJob]
    quiet: list[PlannedRow]
    not_ours: dict[int, str]


def _split(plan: Plan) -> _Split:
    split = _Split([], [], {})
    for row in plan.rows:
        if not row.writes or row_result(row) in (Result.BLOCKED, Result.SKIPPED):
            split.quiet.append(row)
        elif row.live is not None and row.live.seller_id not in (None, plan.seller_id):
            # Belt and braces: the plan's gate already refuses another seller's item.
            split.not_ours[row.row_number] = f"{row.live.item_id}: seller {row.live.seller_id}"
        else:
            split.jobs.extend(_jobs_for(plan, row))
    return split


@dataclass(slots=True)
class _Ran:
    """What a locked run through the journal left."""

    runner: WriteRunner
    states: dict[str, WriteState]
    interrupted: BaseException | None


async def _run_locked(
    book: WorkbookPort,
    api: EngineApi,
    jobs: Sequence[WriteJob],
    frame: _Frame,
    calls: CallLog,
    *,
    concurrency: int,
    start: dict[str, object],
) -> _Ran | StageReport:
    """Lock the workbook, frame the run in the journal, and run the jobs."""
    folder = state_dir(book.path)
    try:
        with open_run(book.path, frame.run_id) as (journal, _lock):
            if not journal.log.chain_ok:
                # The lock is held: the reads made so far can safely go to the Log sheet.
                entries = calls.drain()
                if entries:
                    book.append_log(entries)
                    book.save()
                return _refuse_run(frame, _damaged(journal.log.problems))
            journal.append("run_start", run_id=frame.run_id, stage=frame.stage, writes=len(jobs), **start)
            snapshots = SnapshotStore(folder, frame.run_id)
            runner = WriteRunner(api, journal, snapshots, calls, run_id=frame.run_id, concurrency=concurrency)
            interrupted: BaseException | None = None
            try:
                await _fill_missing_items(runner, jobs)
                await runner.run(jobs)
            except (Exception, asyncio.CancelledError, KeyboardInterrupt) as exc:
                # Still write every row's outcome (the journal holds the truth), then re-raise.
                interrupted = exc
            journal.append(
                "run_end",
                run_id=frame.run_id,
                stage=frame.stage,
                sent=runner.sent,
                reconciled=runner.reconciled,
                requests=calls.requests - frame.base_requests,
                interrupted=repr(interrupted) if interrupted else None,
                recovered_snapshot_runs=runner.recovered_runs,
            )
            return _Ran(runner, journal.log.states(), interrupted)
    except JournalError as exc:  # JournalLocked included
        return _refuse_run(frame, str(exc))


def _by_row(jobs: Sequence[WriteJob]) -> dict[int, list[WriteJob]]:
    by_row: dict[int, list[WriteJob]] = {}
    for job in jobs:
        by_row.setdefault(job.row_number, []).append(job)
    return by_row


def _execute_outcomes(plan: Plan, split: _Split, ran: _Ran, lang: str) -> list[Outcome]:
    by_row = _by_row(split.jobs)
    outcomes: list[Outcome] = []
    for row in plan.rows:
        live = row.live
        if row.row_number in split.not_ours:
            detail = split.not_ours[row.row_number]
            outcomes.append(blocked_outcome(row.row_number, Code.NOT_YOUR_ITEM, lang=lang, detail=detail))
        elif row.row_number in by_row:
            outcome = row_outcome(
                row.row_number,
                by_row[row.row_number],
                ran.states,
                lang=lang,
                site=(live.site if live else None) or row.writes[0].site,
                status_before=live.status if live else None,
                not_sent=ran.runner.not_sent,
            )
            outcomes.append(outcome)
        else:
            outcomes.append(_plan_outcome(row, lang))
    return outcomes


async def execute(
    book: WorkbookPort,
    api: EngineApi,
    *,
    confirm: Confirm,
    plan: Plan | None = None,
    calls: CallLog | None = None,
    concurrency: int = CONCURRENCY,
) -> StageReport:
    """Run the stored plan's writes against the API; every row gets its outcome.

    Refuses (every row says why, nothing is sent) without a plan (``NO_PLAN``), with a plan
    older than the rows (``PLAN_STALE``) or when the signed-in account is not the workbook's
    (``ACCOUNT_MISMATCH``). ``confirm`` sees the counts before anything is sent.
    """
    frame = _frame("execute")
    calls = calls if calls is not None else CallLog()
    calls.run_id = frame.run_id
    frame.base_requests = calls.requests
    rows = book.read_rows()
    checked = await _preflight(book, api, rows, plan, frame, calls)
    if isinstance(checked, StageReport):
        return checked
    plan, me = checked
    split = _split(plan)
    journal = read_journal(state_dir(book.path) / JOURNAL_NAME)
    counts = execute_counts(plan, split.jobs, split.quiet, journal.states(), not_ours=len(split.not_ours))
    if not confirm(counts):
        return _refuse_run(
            frame, "cancelled at the confirmation", book=book, calls=calls, journal_digest=journal.last_digest
        )
    start: dict[str, object] = {
        "plan_id": plan.plan_id,
        "inputs_hash": plan.inputs_hash,
        "workbook": book.path.name,
        **_run_facts(api, book, me),
    }
    ran = await _run_locked(book, api, split.jobs, frame, calls, concurrency=concurrency, start=start)
    if isinstance(ran, StageReport):
        return ran
    outcomes = _execute_outcomes(plan, split, ran, book.language)
    _write_back(book, outcomes, ran.runner, calls, stage="execute")
    if ran.interrupted is not None:
        raise ran.interrupted
    requests = calls.requests - frame.base_requests
    message = _summary("execute", outcomes, requests, time.monotonic() - frame.clock)
    if ran.runner.aborted is not None:
        message += f" — stopped: {ran.runner.aborted.api_error}"
    return frame.report(outcomes, requests=requests, message=message)


async def _fill_missing_items(runner: WriteRunner, jobs: Sequence[WriteJob]) -> None:
    """Read the items a plan holds no JSON for (the snapshot needs it), 20 per request."""
    missing = [j for j in jobs if j.item is None and j.is_item_write]
    if not missing:
        return
    with runner.calls.scope(None, "snapshot"):
        items = await runner.read_items([j.write.item_id for j in missing])
    for job in missing:
        found, item = items.get(job.write.item_id, (False, None))
        if found:
            job.item = item


def _write_back(
    book: WorkbookPort, outcomes: Sequence[Outcome], runner: WriteRunner, calls: CallLog, *, stage: str
) -> None:
    if runner.snapshot_rows:
        book.write_snapshots(runner.snapshot_rows)
    entries = calls.drain()
    if entries:
        book.append_log(entries)
    book.write_outcomes(outcomes, stage=stage)
    book.save()


# --------------------------------------------------------------------------------------------
# Restore


def _restore_rows(rows: Sequence[InputRow]) -> list[InputRow]:
    return [row for row in rows if parse_action(row.values.get("action")) is Action.RESTORE]


async def restore(
    book: WorkbookPort,
    api: EngineApi,
    *,
    confirm: Confirm,
    calls: CallLog | None = None,
    concurrency: int = CONCURRENCY,
    now: dt.datetime | None = None,
) -> StageReport:
    """Undo this tool's take-downs on the rows marked RESTORE, from the journal and the snapshots."""
    frame = _frame("restore")
    calls = calls if calls is not None else CallLog()
    calls.run_id = frame.run_id
    frame.base_requests = calls.requests
    rows = _restore_rows(book.read_rows())
    if not rows:
        return _refuse_run(frame, "no row has the action RESTORE")
    folder = state_dir(book.path)
    log = read_journal(folder / JOURNAL_NAME)
    if not log.chain_ok:
        return _refuse_run(frame, _damaged(log.problems))
    states = log.states()
    takedowns = find_takedowns(states)
    # Only the items the RESTORE rows name are read (not every item the journal ever took down).
    named = [i for row in rows if (i := row_item_id(row, takedowns)) is not None and i in takedowns]
    try:
        account = await _check_account(api, book, None)
        if account.problem:
            return _refuse_all(book, rows, Code.ACCOUNT_MISMATCH, account.problem, frame, calls)
        with calls.scope(None, "restore-read"):
            live = await read_items(api, named)
    except MeliError as exc:
        return _refuse_all(book, rows, *_api_refusal(exc), frame, calls)
    lang = book.language
    snapshots = SnapshotStore(folder, frame.run_id)
    when = now or dt.datetime.now(dt.UTC)
    plan = plan_restore(rows, takedowns, live, snapshots, states, now=when, lang=lang)
    counts = write_counts(plan.jobs, states)
    counts.update(plan.counts(writes=False))
    if not confirm(counts):
        return _refuse_run(
            frame, "cancelled at the confirmation", book=book, calls=calls, journal_digest=log.last_digest
        )
    ran = await _run_locked(
        book,
        api,
        plan.jobs,
        frame,
        calls,
        concurrency=concurrency,
        start={"workbook": book.path.name, **_run_facts(api, book, account.me)},
    )
    if isinstance(ran, StageReport):
        return ran
    by_row = _by_row(plan.jobs)
    outcomes: list[Outcome] = []
    for row in rows:
        before = plan.status_before.get(row.row_number, "")
        if row.row_number in plan.refused:
            code, detail = plan.refused[row.row_number]
            outcome = blocked_outcome(row.row_number, code, lang=lang, detail=detail)
            outcome.values["status_before"] = before
        else:
            outcome = row_outcome(
                row.row_number,
                by_row[row.row_number],
                ran.states,
                lang=lang,
                site=plan.sites.get(row.row_number),
                status_before=before,
                not_sent=ran.runner.not_sent,
            )
        outcomes.append(outcome)
    _write_back(book, outcomes, ran.runner, calls, stage="restore")
    if ran.interrupted is not None:
        raise ran.interrupted
    requests = calls.requests - frame.base_requests
    message = _summary("restore", outcomes, requests, time.monotonic() - frame.clock)
    return frame.report(outcomes, requests=requests, message=message)
