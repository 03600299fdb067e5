"""Rebuilding a :class:`RunRecord` from a saved workbook, its journal and its snapshots.

``mltakedown report FILE`` works after the fact, on the file alone: the Takedown rows give what
was asked and what each row shows; the journal gives the run (start, end, requests), the write
response and the read-back per write, and the request IDs; the snapshots give the listing's
permalink and SKU as they were before the change. The engine can also build the record itself
and skip this module.

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

from mltakedown.book.ports import Result
from mltakedown.engine.journal import JOURNAL_NAME, JournalLog, WriteState, read_journal, state_dir
from mltakedown.engine.model import LiveRow
from mltakedown.engine.plan import load_plan, plan_path
from mltakedown.engine.snapshots import SnapshotError, SnapshotStore, load_snapshot
from mltakedown.report.model import ReportRow, RunRecord
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
    # The cell may hold the raw values or the raw values with their meaning: keep the raw tokens.
    return re.findall(
        r"\b[a-z]+(?:_[a-z]+)+\b|\b(?:held|warning|forbidden|suspended|banned|freezed|deleted)\b", text
    )


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


class _RowBuilder:
    def __init__(self, workbook: Path, run_id: str, states: list[WriteState]) -> None:
        self.folder = state_dir(workbook)
        self.run_id = run_id
        self.store = SnapshotStore(self.folder, run_id)
        self.live = _live_rows(workbook)
        self.by_row: dict[int, list[WriteState]] = {}
        for state in states:
            row = state.intent.get("row")
            if isinstance(row, int):
                self.by_row.setdefault(row, []).append(state)

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
            ran_here = self.run_id in ((state.outcome or {}).get("run_id"), state.intent.get("run_id"))
            action = _OP_ACTIONS.get(str(state.intent.get("op") or ""))
            if not ran_here or action is None:
                continue
            if action == "ZERO_VARIATION" and row.action in _STOP_ACTIONS:
                # The cell's stop action is kept: the confirmation itself says "variation stock
                # set to 0" once the write is confirmed, and names the asked action otherwise.
                return
            row.action = action
            return

    def _journal(self, row: ReportRow) -> None:
        states = [s for s in self.by_row.get(row.row, []) if (s.outcome or {}).get("run_id") == self.run_id]
        states.sort(key=lambda s: str(s.intent.get("op") or "") in _AD_OPS)  # the listing's write first
        for state in states:
            outcome = state.outcome or {}
            request_id = str(outcome.get("request_id") or "")
            if request_id and request_id not in row.request_ids:
                row.request_ids.append(request_id)
        item_states = [s for s in states if str(s.intent.get("op") or "") not in _AD_OPS]
        if not item_states:
            return
        main = item_states[0]
        outcome = main.outcome or {}
        if outcome.get("ok"):
            row.status_after = str(outcome.get("status_after") or row.status_after)
            row.done_at_utc = _time(outcome.get("at")) or row.done_at_utc
            if main.verify is not None and main.verify.get("status_seen"):
                row.verified_status = str(main.verify["status_seen"])
        row.item_id = row.item_id or str(main.intent.get("item_id") or "")

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
    """The record of run ``run_id`` (default: the Report sheet's run, else the journal's last)."""
    record = read_workbook_record(workbook)
    journal_path = state_dir(workbook) / JOURNAL_NAME
    log = read_journal(journal_path)
    chosen = _pick_run(log, run_id or record.report_run_id)
    start = next(e for e in log.runs() if e.get("run_id") == chosen)
    ends = _entries(log, chosen, "run_end")
    end = ends[-1] if ends else {}
    started, finished = _time(start.get("at")), _time(end.get("at"))
    builder = _RowBuilder(workbook, chosen, list(log.states().values()))
    rows = [builder.build(sheet_row) for sheet_row in record.rows]
    settings = record.settings
    seller = start.get("seller_id") or settings.get("SELLER_ID") or ""
    lines = journal_path.read_bytes().count(b"\n") if journal_path.is_file() else 0
    return RunRecord(
        run_id=chosen,
        seller_id=int(seller) if str(seller).isdigit() else None,
        nickname=str(start.get("nickname") or ""),
        account_alias=str(start.get("account_alias") or settings.get("ACCOUNT_ALIAS") or ""),
        sites=sorted({row.site for row in rows if row.site}),
        stage=str(start.get("stage") or "execute"),
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
