"""Stage entry points used by the CLI and the ribbon: Check, Pull status, Plan.

Each stage reads the rows through the :class:`~mltakedown.book.ports.WorkbookPort`, does its work
and writes one outcome per row back (live columns, result, code, message and remedy in the
workbook's language), then the API calls to the Log sheet, and returns a
:class:`~mltakedown.engine.model.StageReport`.

Pull and Plan share :func:`read_live`: before any other request, ``/users/me`` must be the
workbook's seller; otherwise every row gets ``ACCOUNT_MISMATCH`` and nothing else is sent.
Plan also snapshots the listings it blocks as platform-controlled (:func:`save_appeal_evidence`):
the appeal packs need their state as it was, and nothing else ever snapshots a listing never written.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from mltakedown import codes
from mltakedown.accounts import AccountBook
from mltakedown.book.ports import BookSettings, CellValue, InputRow, Outcome, Result, WorkbookPort
from mltakedown.codes import Code, Severity, spec
from mltakedown.engine.actions import Action
from mltakedown.engine.calls import CallLog
from mltakedown.engine.check import CheckedRow, Issue, analyse_rows, check_rows, to_outcome
from mltakedown.engine.gates import code_order, plan_rows, row_result
from mltakedown.engine.journal import state_dir
from mltakedown.engine.live import LiveApi, build_live_row, read_details
from mltakedown.engine.meanings import describe_state
from mltakedown.engine.model import LiveRow, Op, Plan, PlannedRow, StageReport
from mltakedown.engine.plan import build_plan, save_plan
from mltakedown.engine.resolve import DEFAULT_CONCURRENCY, Strategy, resolve_rows
from mltakedown.engine.snapshots import EVIDENCE_DIR, SnapshotError, SnapshotStore
from mltakedown.meli.auth import OAuthApp, TokenManager
from mltakedown.meli.client import MeliClient
from mltakedown.meli.config import ClientConfig
from mltakedown.meli.constants import DEFAULT_RATE
from mltakedown.meli.errors import AuthenticationError, TokenError
from mltakedown.meli.models import User
from mltakedown.meli.tokens import TokenStore, default_token_store

LIVE_KEYS = (
    "item_id",
    "variation_id",
    "site",
    "title",
    "status_before",
    "sub_status",
    "available_qty",
    "pending_orders",
    "ad_status",
    "full",
    "catalog",
    "questions",
)
"""Output columns Pull fills (Plan adds ``planned_action``)."""

_EN = ("en",)
"""A stage's texts fall back to English when the workbook's language lacks one."""

DEFAULT_ACCOUNT_ALIAS = "default"
"""The login used when the Settings' ACCOUNT_ALIAS is empty."""


class PullApi(LiveApi, Protocol):
    """Everything Pull and Plan call: the account check plus the reads."""

    async def me(self) -> User:
        """``GET /users/me``."""
        ...


def new_run_id() -> str:
    """A short unique id for one stage run (Log sheet, journal, report)."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


# -- Check -------------------------------------------------------------------------------------


def check(book: WorkbookPort) -> StageReport:
    """Offline Check: every row's verdict, no network."""
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    rows = book.read_rows()
    lang = book.language
    outcomes = check_rows(rows, book.read_settings(), lang)
    book.write_outcomes(outcomes, stage="check")
    book.save()
    return _report("check", new_run_id(), outcomes, started, clock, requests=0, lang=lang)


# -- Pull --------------------------------------------------------------------------------------


@dataclass(slots=True)
class LiveRead:
    """What Pull learned: the checked rows, the live rows of those it read, and how."""

    checked: list[CheckedRow]
    live: dict[int, LiveRow] = field(default_factory=dict)
    account: User | None = None
    account_ok: bool = False
    strategy: Strategy = Strategy.NONE
    scopes: dict[str, str] = field(default_factory=dict)


def _readable(row: CheckedRow) -> bool:
    """A row Pull resolves: recognised, not blocked by Check, not IGNORE."""
    return row.identifier is not None and not row.blocked and row.action is not Action.IGNORE


async def read_live(
    rows: Sequence[InputRow],
    settings: BookSettings,
    api: PullApi,
    *,
    lang: str = "en",
    concurrency: int = DEFAULT_CONCURRENCY,
) -> LiveRead:
    """Account check, then resolve and read every readable row (batched, concurrent)."""
    checked = analyse_rows(rows, settings, lang)
    read = LiveRead(checked=checked)
    try:
        me = await api.me()
    except (TokenError, AuthenticationError) as exc:
        # No usable login: every row says so, and nothing else is sent.
        for row in checked:
            read.live[row.row_number] = _blocked_live(row, Code.NOT_LOGGED_IN, str(exc))
        return read
    read.account = me
    if settings.seller_id is None or me.id != settings.seller_id:
        detail = f"/users/me = {me.id} ({me.nickname or ''}), Settings = {settings.seller_id}"
        for row in checked:
            read.live[row.row_number] = _blocked_live(row, Code.ACCOUNT_MISMATCH, detail)
        return read
    read.account_ok = True
    readable = [row for row in checked if _readable(row)]
    entries = [(row.row_number, row.identifier) for row in readable if row.identifier is not None]
    resolved = await resolve_rows(api, me.id, entries, concurrency=concurrency)
    read.strategy = resolved.strategy
    owned_ids = {
        res.item_id
        for res in resolved.resolutions.values()
        if not res.codes and res.item_id in resolved.items and resolved.items[res.item_id].seller_id == me.id
    }
    owned = [resolved.items[i] for i in sorted(i for i in owned_ids if i is not None)]
    details = await read_details(
        api,
        me.id,
        owned,
        resolved.items,
        resolved.missing,
        catalogue_known=resolved.strategy is Strategy.SCAN,
        concurrency=concurrency,
    )
    read.scopes = dict(details.strategies)
    for row_number, res in resolved.resolutions.items():
        item = resolved.items.get(res.item_id) if res.item_id else None
        read.live[row_number] = build_live_row(res, item, details, seller_id=settings.seller_id)
    return read


def _blocked_live(row: CheckedRow, code: Code, detail: str) -> LiveRow:
    ident = row.identifier
    return LiveRow(
        row_number=row.row_number,
        identifier=ident.value if ident else row.row.text("identifier"),
        identifier_kind=ident.kind.value if ident else "",
        codes=[code],
        detail=detail,
    )


def live_values(live: LiveRow, lang: str) -> dict[str, CellValue]:
    """The live output columns of one row."""
    subs = ", ".join(live.sub_status)
    meaning = describe_state(live.status, live.sub_status, lang)
    ad = live.ad_status or ""
    if live.ad_group_id:
        ad = f"{ad} ({live.ad_group_id})"
    catalog = ""
    if live.catalog_listing or live.related_item_ids:
        kind = "catalog" if live.catalog_listing else "classic"
        catalog = f"{kind} ↔ {', '.join(live.related_item_ids)}" if live.related_item_ids else kind
    return {
        # Candidates of an ambiguous SKU go in the message, never in the Item ID cell.
        "item_id": live.item_id,
        "variation_id": str(live.variation_id) if live.variation_id is not None else None,
        "site": live.site,
        "title": live.title,
        "status_before": live.status,
        "sub_status": f"{subs}: {meaning}" if subs else meaning,
        "available_qty": live.variation_quantity
        if live.variation_id is not None
        else live.available_quantity,
        "pending_orders": live.pending_orders if live.item_id and live.status else None,
        "ad_status": ad or None,
        "full": "FULL" if live.is_full else None,
        "catalog": catalog or None,
        "questions": live.unanswered_questions if live.status else None,
    }


def _message(codes_: Sequence[Code], details: dict[str, str], lang: str) -> tuple[str, str]:
    """The first code's message and remedy; the other codes named after it."""
    first, *others = codes_
    message, remedy = codes.describe_or_raw(first, lang, details.get(first.value, ""), fallbacks=_EN)
    extra = []
    for code in others:
        if code is Code.PLANNED:
            continue
        text, _ = codes.describe_or_raw(code, lang, details.get(code.value, ""), fallbacks=_EN)
        extra.append(f"{code.value} {text}")
    if extra:
        message = f"{message} | " + " | ".join(extra)
    return message, remedy


def _coded_outcome(
    row_number: int,
    result: Result | None,
    codes_: Sequence[Code],
    details: dict[str, str],
    values: dict[str, CellValue],
    lang: str,
) -> Outcome:
    """A read row's outcome: its codes (the first one's texts, the others named after it) and
    its live columns."""
    message, remedy = _message(codes_, details, lang)
    return Outcome(
        row_number=row_number,
        result=result,
        code=", ".join(c.value for c in codes_),
        message=message,
        remedy=remedy,
        values=values,
    )


def _cleared(outcome: Outcome, extra: dict[str, CellValue] | None = None) -> Outcome:
    """Check's outcome for a row Pull did not read, with the live columns emptied (no stale values)."""
    outcome.values = {key: None for key in LIVE_KEYS} | (extra or {})
    return outcome


def _pull_outcome(row: CheckedRow, live: LiveRow | None, lang: str) -> Outcome:
    if live is None:
        return _cleared(to_outcome(row, lang))
    codes_ = live.codes or [Code.FOUND]
    details = {code.value: live.detail for code in codes_ if live.detail}
    extra = [issue for issue in check_warnings(row) if issue.code not in codes_]
    if extra:
        details |= {issue.code.value: issue.detail for issue in extra if issue.detail}
        codes_ = sorted([*codes_, *(issue.code for issue in extra)], key=code_order)
    values = live_values(live, lang)
    return _coded_outcome(row.row_number, spec(codes_[0]).result, codes_, details, values, lang)


async def pull(
    book: WorkbookPort,
    api: PullApi,
    *,
    calls: CallLog | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> StageReport:
    """Pull status (read-only): fill the live columns of every row and log the calls."""
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()
    run_id = calls.run_id if calls and calls.run_id else new_run_id()
    rows, settings, lang = book.read_rows(), book.read_settings(), book.language
    before = calls.requests if calls else 0
    read = await read_live(rows, settings, api, lang=lang, concurrency=concurrency)
    outcomes = [_pull_outcome(row, read.live.get(row.row_number), lang) for row in read.checked]
    book.write_outcomes(outcomes, stage="pull")
    requests = _flush_log(book, calls, before)
    book.save()
    return _report("pull", run_id, outcomes, started, clock, requests=requests, lang=lang, read=read)


# -- Plan --------------------------------------------------------------------------------------


def planned_action(row: PlannedRow) -> str:
    """The write(s) in a cell: ``pause + pause_ad AG1`` or ``zero_variation 1800…``; ``—`` for none."""
    parts = []
    for write in row.writes:
        if write.op is Op.ZERO_VARIATION:
            parts.append(f"{write.op.value} {write.variation_id}")
        elif write.op is Op.PAUSE_AD:
            parts.append(f"{write.op.value} {write.ad_group_id}")
        else:
            parts.append(write.op.value)
    if not parts and row.action == Action.RESTORE.value:
        return "restore"
    return " + ".join(parts) or "—"


def plan_rows_from(read: LiveRead, settings: BookSettings, lang: str) -> list[PlannedRow]:
    """Apply the gates to every row Pull read; rows Check blocked stay unplanned (no writes).

    Check's warnings on a read row (a SKU Excel stored as a number, an unknown reason…) stay
    on its plan: the plan is what people review before Execute, so a warning must not vanish.
    """
    entries = [
        (live, row.action.value if row.action else "", row.confirmed)
        for row in read.checked
        if (live := read.live.get(row.row_number)) is not None
    ]
    gated = {p.row_number: p for p in plan_rows(entries, settings=settings, lang=lang)}
    planned: list[PlannedRow] = []
    for row in read.checked:
        found = gated.get(row.row_number)
        if found is None:
            action = row.action.value if row.action else ""
            planned.append(PlannedRow(row_number=row.row_number, action=action, codes=[row.verdict]))
            continue
        planned.append(_with_check_warnings(found, row))
    return planned


def check_warnings(row: CheckedRow) -> list[Issue]:
    """Check's findings on a row that do not block it but must stay visible (warnings)."""
    return [
        issue
        for issue in row.issues
        if not spec(issue.code).blocks_write and spec(issue.code).severity is not Severity.INFO
    ]


def _with_check_warnings(planned: PlannedRow, row: CheckedRow) -> PlannedRow:
    """``planned`` with Check's warnings merged into its codes (most severe first, PLANNED last)."""
    extra = [issue for issue in check_warnings(row) if issue.code not in planned.codes]
    if not extra:
        return planned
    for issue in extra:
        if issue.detail:
            planned.code_details.setdefault(issue.code.value, issue.detail)
    merged = sorted(
        [c for c in planned.codes if c is not Code.PLANNED] + [i.code for i in extra], key=code_order
    )
    if Code.PLANNED in planned.codes:
        merged.append(Code.PLANNED)
    planned.codes = merged
    planned.detail = "; ".join(
        planned.code_details[c.value] for c in merged if c.value in planned.code_details
    )
    return planned


def save_appeal_evidence(planned: Sequence[PlannedRow], workbook: Path, run_id: str) -> int:
    """Snapshot every item whose row is blocked as ``PLATFORM_CONTROLLED``; returns how many were new.

    Such a listing is never written, so no pre-write snapshot would exist; its appeal pack
    (:mod:`mltakedown.report.appeal`) needs the state Pull read now, not whatever the listing
    shows when the report is made. Saved in the same format (with ``.sha256``) under ``evidence/``, not
    ``snapshots/``, so Restore never mistakes it for the state before the tool's own first write.
    """
    store: SnapshotStore | None = None
    taken = 0
    for row in planned:
        live = row.live
        if Code.PLATFORM_CONTROLLED not in row.codes or live is None or not live.item_json:
            continue
        store = store or SnapshotStore(state_dir(workbook), run_id, area=EVIDENCE_DIR)
        try:
            new = store.ensure(
                live.item_json,
                variation_id=live.variation_id,
                ad_group_id=live.ad_group_id,
                ad_status=live.ad_status,
                row_number=row.row_number,
            )
        except (SnapshotError, OSError):
            # Evidence, not a precondition: the plan stands, and the report falls back to the
            # state the stored plan holds.
            continue
        taken += new is not None
    return taken


def _plan_outcome(planned: PlannedRow, checked: CheckedRow, lang: str) -> Outcome:
    live = planned.live
    if live is None:
        return _cleared(to_outcome(checked, lang), {"planned_action": "—"})
    values = live_values(live, lang)
    values["planned_action"] = planned_action(planned)
    codes_ = planned.codes or [Code.PLANNED]
    return _coded_outcome(planned.row_number, row_result(planned), codes_, planned.code_details, values, lang)


async def plan(
    book: WorkbookPort,
    api: PullApi,
    *,
    calls: CallLog | None = None,
    rate: float | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> tuple[Plan, StageReport]:
    """Plan (dry run): read live state, apply the gates, store the plan beside the workbook.

    ``rate`` (requests/s) prices the time estimate; by default the client's own limit.
    """
    if rate is None:
        rate = api.limiter.rate if isinstance(api, MeliClient) else DEFAULT_RATE
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()
    run_id = calls.run_id if calls and calls.run_id else new_run_id()
    rows, settings, lang = book.read_rows(), book.read_settings(), book.language
    before = calls.requests if calls else 0
    read = await read_live(rows, settings, api, lang=lang, concurrency=concurrency)
    planned = plan_rows_from(read, settings, lang)
    stored = build_plan(
        planned, rows, workbook=book.path, seller_id=settings.seller_id, rate=rate, settings=settings
    )
    save_plan(stored, book.path)
    save_appeal_evidence(planned, book.path, run_id)
    checked = {row.row_number: row for row in read.checked}
    outcomes = [_plan_outcome(p, checked[p.row_number], lang) for p in planned]
    book.write_outcomes(outcomes, stage="plan")
    requests = _flush_log(book, calls, before)
    book.save()
    report = _report("plan", run_id, outcomes, started, clock, requests=requests, lang=lang, read=read)
    report.message += (
        f"; execute: ~{stored.requests_estimate} requests, ~{stored.seconds_estimate:g} s at {rate:g}/s"
    )
    return stored, report


# -- shared ------------------------------------------------------------------------------------


def _flush_log(book: WorkbookPort, calls: CallLog | None, before: int) -> int:
    if calls is None:
        return 0
    book.append_log(calls.drain())
    return calls.requests - before


def _report(
    stage: str,
    run_id: str,
    outcomes: Sequence[Outcome],
    started: dt.datetime,
    clock: float,
    *,
    requests: int,
    lang: str,
    read: LiveRead | None = None,
) -> StageReport:
    counts: Counter[str] = Counter(o.result.value for o in outcomes if o.result is not None)
    code_counts: Counter[str] = Counter(o.code.split(",")[0].strip() for o in outcomes if o.code)
    summary = ", ".join(f"{r.value} {counts[r.value]}" for r in Result if counts[r.value])
    message = f"{stage}: {len(outcomes)} rows ({summary or 'none'})"
    if read is not None and not read.account_ok and read.live:
        first = next(iter(read.live.values()))
        if first.codes:
            message += f"; {codes.describe_or_raw(first.codes[0], lang, first.detail, fallbacks=_EN)[0]}"
    if requests:
        message += f"; {requests} requests"
    return StageReport(
        stage=stage,
        run_id=run_id,
        counts=dict(counts),
        code_counts=dict(code_counts),
        requests=requests,
        seconds=round(time.monotonic() - clock, 3),
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        message=message,
    )


# -- the client --------------------------------------------------------------------------------


def open_api(
    settings: BookSettings,
    *,
    config: ClientConfig | None = None,
    store: TokenStore | None = None,
    accounts: AccountBook | None = None,
    calls: CallLog | None = None,
    rate: float | None = None,
) -> MeliClient:
    """A client for the workbook's account.

    ``MLTAKEDOWN_ACCESS_TOKEN`` wins (scripted use, no refresh). Otherwise the Settings'
    ACCOUNT_ALIAS names a login made with ``mltakedown login``: its tokens (token store), and
    the application and API URL they were issued for (accounts file), so a refresh goes to the
    right place. An empty alias means the default login: the only account when there is one,
    else the alias ``default``. When no tokens are stored, the first call raises
    :class:`TokenError` and the stage marks every row ``NOT_LOGGED_IN``.
    """
    config = config or ClientConfig.from_env()
    if config.access_token:
        return MeliClient(config, tokens=config.access_token, on_call=calls, rate=rate)
    book = accounts or AccountBook()
    alias = settings.account_alias.strip()
    account = book.get(alias or DEFAULT_ACCOUNT_ALIAS)
    if account is None and not alias:
        known = book.all()
        account = known[0] if len(known) == 1 else None
    app: OAuthApp | None = None
    if account is not None:
        alias = account.alias
        app = account.oauth_app()
        # The tokens belong to that application and API: use them, keep the configured pace.
        config = replace(
            config, api_url=account.api_url, client_id=account.client_id, client_secret=account.client_secret
        )
    elif config.client_id and config.client_secret:
        app = OAuthApp(
            client_id=config.client_id,
            client_secret=config.client_secret,
            redirect_uri="",
            site_id=settings.default_site or "MLM",
            api_url=config.api_url,
        )
    manager = TokenManager(store or default_token_store(), alias or DEFAULT_ACCOUNT_ALIAS, app)
    return MeliClient(config, tokens=manager, on_call=calls, rate=rate)
