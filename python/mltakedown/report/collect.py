"""Rebuilding a :class:`RunRecord` from a saved workbook, its journal and its snapshots.

``mltakedown report FILE`` works after the fact, on the file alone: the Takedown rows give what
was asked (reference, reason) and what blocked rows show; the journal gives the run (start, end,
requests) and, for every row the run wrote, the facts of the write: status before and after,
read-back, time, request IDs, result. The journal wins over the cells, which every later run
rewrites (a Restore rewrites the rows it restores); a row the cells show as done with no write of
the run behind it is not reported as done. The snapshots give the listing's permalink and SKU as
they were before the change. A run's writes include those of the earlier runs it carried on
(:func:`run_family`: a re-run after a crash reconciles instead of writing again). The engine can
also build the record itself and skip this module.

Journal fields read (written by :mod:`mltakedown.engine.runner` and ``engine.run``):
``run_start``/``run_end``: ``run_id``, ``stage``, ``at``, ``requests`` (and, when present,
``seller_id``, ``nickname``, ``account_alias``, ``rate``); ``intent``: ``row``, ``item_id``,
``op`` (the action the run took, over the Action cell), ``snapshot``; ``outcome``: ``ok``,
``status_after``, ``request_id``, ``new_item_id``; ``verify``: ``status_seen``. What neither
holds (the link of a listing that was never written) comes from the state Pull read, kept in the
stored plan.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from mltakedown import codes
from mltakedown.book.ports import Result
from mltakedown.codes import Code, normalise_language
from mltakedown.engine.actions import Action, parse_action
from mltakedown.engine.journal import JOURNAL_NAME, JournalLog, WriteState, read_journal, state_dir
from mltakedown.engine.meanings import PLATFORM_SUB_STATUSES
from mltakedown.engine.model import LiveRow
from mltakedown.engine.plan import load_plan, plan_path
from mltakedown.engine.snapshots import SnapshotError, SnapshotStore, load_snapshot
from mltakedown.report.model import DONE_RESULTS, ReportRow, RunRecord
from mltakedown.report.workbook_read import SheetRow, read_workbook_record

_ITEM_ID = re.compile(r"^[A-Z]{3}\d{6,}$")
_AD_OPS = frozenset({"pause_ad", "restore_ad"})
_OP_ACTIONS = {
    "pause": "PAUSE",
    "close": "CLOSE",
    "delete": "DELETE",
    "zero_variation": "ZERO_VARIATION",
    "activate": "RESTORE",
    "restore_variation": "RESTORE",
    "relist": "RESTORE",
}
"""The action a listing write (journal ``op``) carried out, as the confirmation names it."""
_STOP_ACTIONS = frozenset({"PAUSE", "CLOSE", "DELETE"})
_DEFAULT_RATE = 5.0


class CollectError(RuntimeError):
    """The workbook has no run to report on."""


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _entries(log: JournalLog, run_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in log.entries if e.get("type") == kind and e.get("run_id") == run_id]


def _pick_run(log: JournalLog, wanted: str) -> str:
    runs = [str(e.get("run_id") or "") for e in log.runs()]
    if wanted:
        if wanted not in runs:
            raise CollectError(f"run {wanted} is not in the journal")
        return wanted
    if not runs:
        raise CollectError("the journal beside the workbook records no run yet (run Execute first)")
    return runs[-1]


def _split_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def _sub_status(text: str) -> list[str]:
    """The raw sub-status values of a Sub-status cell.

    Pull writes ``"held, warning: <meaning>"`` when the item has sub-statuses and the status's
    meaning alone (``"active"``, ``"activa"``…) when it has none: only the part before the colon
    holds raw values, and the meaning text may repeat them (``held: … (held for manual review)``).
    """
    head, sep, _meaning = text.partition(":")
    tokens = [token.strip() for token in head.split(",")]
    raw = [t for t in tokens if re.fullmatch(r"[a-z]+(?:_[a-z]+)*", t)]
    if not sep:
        # No meaning after the values: a bare list (typed or older files), or a status's meaning
        # ("active") that is no sub-status. Keep only what cannot be a plain status word.
        raw = [t for t in raw if "_" in t or t in PLATFORM_SUB_STATUSES]
    return list(dict.fromkeys(raw))


def sku_from_item(item: dict[str, Any], variation_id: int | None) -> str:
    """The seller SKU in an item's JSON: the variation's, else the item's (attribute, then custom field)."""
    sources: list[dict[str, Any]] = [item]
    if variation_id is not None:
        sources = [
            v for v in item.get("variations") or [] if isinstance(v, dict) and v.get("id") == variation_id
        ] + [item]
    for source in sources:
        for attribute in source.get("attributes") or []:
            if (
                isinstance(attribute, dict)
                and attribute.get("id") == "SELLER_SKU"
                and attribute.get("value_name")
            ):
                return str(attribute["value_name"])
        if source.get("seller_custom_field"):
            return str(source["seller_custom_field"])
    return ""


def _live_rows(workbook: Path) -> dict[int, LiveRow]:
    """The live state per row from the stored plan ({} when there is none or it does not parse)."""
    try:
        plan = load_plan(plan_path(workbook))
    except (OSError, ValueError):
        return {}
    return {row.row_number: row.live for row in plan.rows if row.live is not None}


def run_family(log: JournalLog, chosen: str) -> set[str]:
    """The reported run and the earlier runs whose writes it carries on.

    A re-run after a crash (or a second Execute of the same plan) does not write again what an
    earlier run did: it reconciles or skips those writes, and the rows it writes back show the
    earlier run's outcomes. So a run's writes are its own plus those of earlier runs of the same
    stage and plan (Execute records ``plan_id``), or, without a plan id (Restore), of the
    interrupted runs of the same stage right before it.
    """
    starts = log.runs()
    index = next((i for i, e in enumerate(starts) if e.get("run_id") == chosen), None)
    if index is None:
        return {chosen}
    stage, plan = starts[index].get("stage"), starts[index].get("plan_id")
    ends = {e.get("run_id"): e for e in log.entries if e.get("type") == "run_end"}
    family, contiguous = {chosen}, True
    for earlier in reversed(starts[:index]):
        run_id = str(earlier.get("run_id") or "")
        same_stage = earlier.get("stage") == stage
        end = ends.get(run_id)
        interrupted = end is None or bool(end.get("interrupted"))
        if same_stage and ((plan and earlier.get("plan_id") == plan) or (contiguous and interrupted)):
            family.add(run_id)
        else:
            contiguous = False
    return family


def _state_run(state: WriteState) -> str:
    """The run that last acted on a write: its outcome's, else (in flight) its intent's."""
    entry = state.outcome if state.outcome is not None else state.intent
    return str(entry.get("run_id") or "")


def _claims_done(row: ReportRow) -> bool:
    return row.result in DONE_RESULTS and bool(row.done_at_utc or row.status_after or row.new_item_id)


class _RowBuilder:
    def __init__(
        self, workbook: Path, run_id: str, states: list[WriteState], family: set[str], lang: str
    ) -> None:
        self.folder = state_dir(workbook)
        self.run_id = run_id
        self.lang = lang
        self.store = SnapshotStore(self.folder, run_id)
        self.live = _live_rows(workbook)
        self.by_row: dict[int, list[WriteState]] = {}
        for state in states:
            row = state.intent.get("row")
            if isinstance(row, int) and _state_run(state) in family:
                self.by_row.setdefault(row, []).append(state)
        for row_states in self.by_row.values():
            # The listing's write first; an ad write rides along with it.
            row_states.sort(key=lambda s: str(s.intent.get("op") or "") in _AD_OPS)

    def build(self, sheet_row: SheetRow) -> ReportRow:
        text = sheet_row.text
        result_text = text("result").upper()
        variation = text("variation_id")
        row = ReportRow(
            row=sheet_row.row,
            identifier=text("identifier"),
            item_id=text("item_id"),
            variation_id=int(variation) if variation.isdigit() else None,
            title=text("title"),
            site=text("site") or text("item_id")[:3],
            action=text("action").upper(),
            reason=text("reason"),
            reference=text("reference"),
            result=Result(result_text) if result_text in Result.__members__ else None,
            code=text("code"),
            message=text("message"),
            status_before=text("status_before"),
            status_after=text("status_after"),
            sub_status=_sub_status(text("sub_status")),
            done_at_utc=_time(sheet_row.values.get("done_at_utc")),
            request_ids=_split_ids(text("request_id")),
            api_error=text("api_error"),
            new_item_id=text("new_item_id"),
        )
        self._action(row)
        self._journal(row)
        self._snapshot(row)
        self._pulled(row)
        typed = row.identifier
        looks_like_sku = bool(typed) and not _ITEM_ID.match(typed.upper()) and "://" not in typed
        if not row.sku and looks_like_sku and typed != row.item_id:
            row.sku = typed
        if not row.permalink and "://" in row.identifier:
            row.permalink = row.identifier
        return row

    def _action(self, row: ReportRow) -> None:
        """What this run did to the row's listing, from the journal's writes (the Action cell may
        have been changed since, e.g. to RESTORE); the cell stays when the run wrote nothing."""
        for state in self.by_row.get(row.row, []):
            action = _OP_ACTIONS.get(str(state.intent.get("op") or ""))
            if action is None:
                continue
            if action == "ZERO_VARIATION" and row.action in _STOP_ACTIONS:
                # The cell's stop action is kept: the confirmation itself says "variation stock
                # set to 0" once the write is confirmed, and names the asked action otherwise.
                return
            row.action = action
            return

    def _describe(self, code: str, detail: str, fallback: str) -> str:
        try:
            known = Code(code)
        except ValueError:
            return fallback or (f"{code}: {detail}" if detail else code)
        return codes.describe_or_raw(known, self.lang, detail, fallbacks=("en",))[0]

    def _journal(self, row: ReportRow) -> None:
        """The row's facts as this run's journal recorded them, over whatever the cells show.

        The cells are rewritten by every later run (a Restore rewrites the rows it restores), so
        the status before and after, the time, the request IDs and the result of the reported
        run come from its journal entries. A row the cells show as done with no write of this
        run behind it is not reported as done.
        """
        states = self.by_row.get(row.row, [])
        if not states:
            if _claims_done(row):
                shown = " ".join(part for part in (row.result.value if row.result else "", row.code) if part)
                row.message = (
                    f"the journal records no write for this row in run {self.run_id}; "
                    f"the sheet's {shown} is not this run's"
                )
                row.result, row.code = None, ""
                row.status_after = row.verified_status = row.new_item_id = ""
                row.done_at_utc, row.request_ids = None, []
            return
        row.request_ids = list(
            dict.fromkeys(
                str(s.outcome.get("request_id"))
                for s in states
                if s.outcome is not None and s.outcome.get("request_id")
            )
        )
        item_states = [s for s in states if str(s.intent.get("op") or "") not in _AD_OPS]
        main = item_states[0] if item_states else states[0]
        intent, outcome = main.intent, main.outcome or {}
        written = str(intent.get("item_id") or "")
        if row.item_id and written and row.item_id not in (written, str(outcome.get("new_item_id") or "")):
            # The row now names another listing (rows moved or re-pulled since the run): describe
            # the listing the run wrote, from its snapshot, never with the other one's title/link.
            row.title = row.permalink = row.sku = ""
            row.sub_status = []
            row.identifier = str(intent.get("identifier") or written)
            row.site = str(intent.get("site") or written[:3])
        row.item_id = written or row.item_id
        variation = intent.get("variation_id")
        if isinstance(variation, int):
            row.variation_id = variation
        row.status_before = str(intent.get("status_before") or row.status_before)
        row.status_after = row.verified_status = row.new_item_id = ""
        row.done_at_utc = None
        if outcome.get("ok"):
            row.status_after = str(outcome.get("status_after") or "")
            # A reconciled write was sent by a run that died before its answer came: it took
            # effect when sent (the intent's time), not when the re-run found it done.
            sent = intent.get("at") if outcome.get("reconciled") else None
            row.done_at_utc = _time(sent) or _time(outcome.get("at"))
            row.new_item_id = str(outcome.get("new_item_id") or "")
            if main.verify is not None and main.verify.get("status_seen"):
                row.verified_status = str(main.verify["status_seen"])
        self._verdict(row, states, main)

    def _verdict(self, row: ReportRow, states: list[WriteState], main: WriteState) -> None:
        """Result, code and message of the row from its writes (as the engine's row outcome)."""
        failed = next((s for s in states if s.outcome is not None and not s.outcome.get("ok")), None)
        row.api_error = ""
        if failed is not None and failed.outcome is not None:
            code = str(failed.outcome.get("code") or Code.SERVER_ERROR.value)
            detail = str(failed.outcome.get("message") or "")
            row.api_error = str(failed.outcome.get("api_error") or "")
        elif any(s.outcome is None for s in states):
            code, detail = (
                Code.NETWORK.value,
                "sent but not confirmed (the run stopped); run again to reconcile",
            )
        elif main.verify is not None and not main.verify.get("ok"):
            code = Code.VERIFY_MISMATCH.value
            detail = f"Mercado Libre shows {row.verified_status or 'nothing'}"
        else:
            outcome = main.outcome or {}
            code = str(outcome.get("code") or Code.DONE.value)
            detail = str(outcome.get("message") or "") if code == Code.RECONCILED.value else ""
            if row.new_item_id:
                detail = f"{row.new_item_id} (was {row.item_id})"
        failing = failed is not None or code in (Code.NETWORK.value, Code.VERIFY_MISMATCH.value)
        if code != row.code:
            row.message = self._describe(code, detail, row.message)
        row.code = code
        row.result = Result.FAILED if failing else Result.OK

    def _pulled(self, row: ReportRow) -> None:
        """Fill what is still missing from the state Pull read (kept in the stored plan)."""
        live = self.live.get(row.row)
        if live is None or not row.item_id or live.item_id != row.item_id:
            return
        row.permalink = row.permalink or (live.permalink or "")
        row.title = row.title or (live.title or "")
        if not row.sub_status:
            row.sub_status = list(live.sub_status)
        if not row.sku and live.item_json:
            row.sku = sku_from_item(live.item_json, row.variation_id)

    def _snapshot(self, row: ReportRow) -> None:
        if not row.item_id:
            return
        path = self.store.find(row.item_id)
        if path is None:
            return
        row.snapshot_file = path.relative_to(self.folder.parent).as_posix()
        try:
            snapshot = load_snapshot(path)
        except SnapshotError:
            return  # an altered snapshot is not used as a source; verify-record reports it
        row.snapshot_sha256 = snapshot.sha256
        row.permalink = row.permalink or str(snapshot.key.get("permalink") or "")
        row.title = row.title or str(snapshot.key.get("title") or "")
        row.sku = row.sku or sku_from_item(snapshot.item, row.variation_id)


def collect_run(workbook: Path, run_id: str = "") -> RunRecord:
    """The record of run ``run_id`` (default: the journal's latest run).

    Not the run the Report sheet describes: after Execute → Report → Restore, the Report button
    and ``mltakedown report FILE`` must describe the Restore, not the Execute again.
    """
    record = read_workbook_record(workbook)
    journal_path = state_dir(workbook) / JOURNAL_NAME
    log = read_journal(journal_path)
    chosen = _pick_run(log, run_id)
    start = next(e for e in log.runs() if e.get("run_id") == chosen)
    ends = _entries(log, chosen, "run_end")
    end = ends[-1] if ends else {}
    started, finished = _time(start.get("at")), _time(end.get("at"))
    lang = normalise_language(record.settings.get("LANGUAGE"))
    family = run_family(log, chosen)
    builder = _RowBuilder(workbook, chosen, list(log.states().values()), family, lang)
    rows = [builder.build(sheet_row) for sheet_row in record.rows]
    stage = str(start.get("stage") or "execute")
    if stage == "restore":
        # Restore works on the rows marked RESTORE only; the others still show what Execute did
        # and have no place in a restore confirmation (neither as restored nor as "not done").
        rows = [
            row for row in rows if row.row in builder.by_row or parse_action(row.action) is Action.RESTORE
        ]
    settings = record.settings
    seller = start.get("seller_id") or settings.get("SELLER_ID") or ""
    lines = journal_path.read_bytes().count(b"\n") if journal_path.is_file() else 0
    return RunRecord(
        run_id=chosen,
        seller_id=int(seller) if str(seller).isdigit() else None,
        nickname=str(start.get("nickname") or ""),
        account_alias=str(start.get("account_alias") or settings.get("ACCOUNT_ALIAS") or ""),
        sites=sorted({row.site for row in rows if row.site}),
        stage=stage,
        workbook=workbook.name,
        started_at=started,
        finished_at=finished,
        requests_used=int(end.get("requests") or 0),
        seconds=(finished - started).total_seconds() if started and finished else 0.0,
        rate_per_second=float(start.get("rate") or _DEFAULT_RATE),
        journal_head=log.last_digest if lines else "",
        journal_lines=lines,
        rows=rows,
    )
