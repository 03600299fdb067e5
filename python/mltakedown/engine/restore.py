"""Restore: bring back what this tool took down, and only that, from the journal.

For each row whose action is RESTORE, the journal is searched for successful take-down writes on
the row's item (the latest run that took it down). Each one is reversed with the state the
snapshot and the intent recorded:

* paused → ``active`` — never a listing Mercado Libre itself holds (moderation: the
  ``moderation_penalty`` tag or sub-status, ``under_review``, ``forbidden``…:
  ``RESTORE_MODERATED``), and not one without stock (``RESTORE_NO_STOCK``: ML refuses to
  activate it, so the row says to add stock first);
* a variation zeroed → its stock back to the snapshot quantity;
* an ad group paused → back to the status it had;
* closed → relisted (within 60 days of closing) with the snapshot's price, quantity and
  listing type; the new item ID goes to the row's ``new_item_id`` column, and the journal keeps
  the link from the old ID to the new one.

A row whose item the tool never touched gets ``RESTORE_NOT_OURS``. The writes themselves go
through :class:`~mltakedown.engine.runner.WriteRunner`, so Restore has the same journal,
reconciliation and verification as Execute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from mltakedown.book.ports import InputRow
from mltakedown.codes import Code
from mltakedown.engine.journal import WriteState, write_id
from mltakedown.engine.meanings import describe_state, is_platform_controlled
from mltakedown.engine.model import Op, PlannedWrite
from mltakedown.engine.snapshots import Snapshot, SnapshotError, SnapshotStore
from mltakedown.engine.writes import WriteJob, variation_ids_of
from mltakedown.ids import parse_item_id

RELIST_WINDOW: Final = dt.timedelta(days=60)
"""ML relists a closed item only within 60 days of closing."""

TAKEDOWN_OPS: Final = frozenset({Op.PAUSE, Op.CLOSE, Op.DELETE, Op.ZERO_VARIATION, Op.PAUSE_AD})
MODERATION_MARKS: Final = frozenset({"moderation_penalty", "under_review", "forbidden", "held"})
"""Tags or sub-statuses saying Mercado Libre, not the seller, holds the listing."""


@dataclass(frozen=True, slots=True)
class Takedown:
    """One successful take-down write found in the journal."""

    write_id: str
    run_id: str
    row_number: int
    identifier: str
    item_id: str
    op: Op
    variation_id: int | None
    ad_group_id: str | None
    site: str | None
    status_before: str | None
    done_at: dt.datetime
    quantity_before: int | None = None
    """A variation write: the variation's stock right before the tool zeroed it (from the intent)."""

    @property
    def unit(self) -> int | None:
        """What the take-down took down: the listing (``None``) or one variation of it.

        Each variation is taken down and restored on its own, possibly in different runs.
        """
        return self.variation_id if self.op is Op.ZERO_VARIATION else None


def find_takedowns(states: Mapping[str, WriteState]) -> dict[str, list[Takedown]]:
    """Per item, the take-down writes of the latest run that took it down (oldest write first)."""
    per_item: dict[str, list[Takedown]] = {}
    for state in states.values():
        if not state.succeeded or state.outcome is None:
            continue
        intent = state.intent
        try:
            op = Op(str(intent.get("op")))
        except ValueError:
            continue
        if op not in TAKEDOWN_OPS:
            continue
        per_item.setdefault(str(intent["item_id"]), []).append(
            Takedown(
                write_id=state.write_id,
                run_id=str(intent.get("run_id") or ""),
                row_number=int(intent.get("row") or 0),
                identifier=str(intent.get("identifier") or ""),
                item_id=str(intent["item_id"]),
                op=op,
                variation_id=intent.get("variation_id"),
                ad_group_id=intent.get("ad_group_id"),
                site=intent.get("site"),
                status_before=intent.get("status_before"),
                done_at=dt.datetime.fromisoformat(str(state.outcome["at"])),
                quantity_before=_int_or_none(intent.get("quantity_before")),
            )
        )
    latest: dict[str, list[Takedown]] = {}
    for item_id, writes in per_item.items():
        # The latest run per unit (the listing, or each variation): a variation zeroed on Monday
        # stays restorable after another variation of the listing is zeroed on Thursday.
        chosen = []
        for unit in dict.fromkeys(w.unit for w in writes):
            mine = [w for w in writes if w.unit == unit]
            last_run = max(mine, key=lambda w: w.done_at).run_id
            chosen += [w for w in mine if w.run_id == last_run]
        # The listing first, then its ad group (an ad on a paused listing cannot serve).
        chosen.sort(key=lambda w: (w.op is Op.PAUSE_AD, w.done_at))
        latest[item_id] = chosen
    return latest


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def row_item_id(row: InputRow, takedowns: Mapping[str, list[Takedown]]) -> str | None:
    """The item a RESTORE row names: the resolved ID Pull wrote, the identifier, or a journal match."""
    resolved = row.outputs.get("item_id")
    if isinstance(resolved, str) and parse_item_id(resolved):
        return parse_item_id(resolved)
    text = row.text("identifier")
    direct = parse_item_id(text)
    if direct:
        return direct
    for item_id, writes in takedowns.items():
        if any(w.identifier and w.identifier == text for w in writes):
            return item_id
    return None


@dataclass(slots=True)
class RestorePlan:
    """What Restore will send, and what it refuses, per row."""

    jobs: list[WriteJob] = field(default_factory=list)
    refused: dict[int, tuple[Code, str]] = field(default_factory=dict)
    """Rows that send nothing: the code and the specifics."""
    sites: dict[int, str] = field(default_factory=dict)
    status_before: dict[int, str] = field(default_factory=dict)

    def counts(self, *, writes: bool = True) -> dict[str, int]:
        """Writes per operation (unless ``writes`` is false: the stage counts them against the
        journal, see :func:`~mltakedown.engine.run.write_counts`) and refusals per code."""
        counts: dict[str, int] = {}
        for job in self.jobs if writes else ():
            counts[job.write.op.value] = counts.get(job.write.op.value, 0) + 1
        for code, _ in self.refused.values():
            counts[code.name.lower()] = counts.get(code.name.lower(), 0) + 1
        return counts


def _moderated(item: Mapping[str, Any]) -> bool:
    status = item.get("status")
    subs = [str(s) for s in item.get("sub_status") or []]
    tags = {str(t) for t in item.get("tags") or []}
    return is_platform_controlled(status, subs) or bool(MODERATION_MARKS & (tags | set(subs)))


def _quantity(item: Mapping[str, Any], variation_id: int | None = None) -> int:
    if variation_id is None:
        variations = item.get("variations") or []
        if variations:
            return sum(int(v.get("available_quantity") or 0) for v in variations if isinstance(v, Mapping))
        return int(item.get("available_quantity") or 0)
    for variation in item.get("variations") or []:
        if isinstance(variation, Mapping) and variation.get("id") == variation_id:
            return int(variation.get("available_quantity") or 0)
    return 0


class _Refusal(Exception):
    def __init__(self, code: Code, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


REVERSE_OP: Final = {
    Op.PAUSE: Op.ACTIVATE,
    Op.ZERO_VARIATION: Op.RESTORE_VARIATION,
    Op.PAUSE_AD: Op.RESTORE_AD,
    Op.CLOSE: Op.RELIST,
}
"""The restore write of each take-down write (a DELETE has none)."""


def _restore_write_id(takedown: Takedown, op: Op) -> str:
    """The id of the write that undoes ``takedown``: one per take-down, whichever row asks.

    Not tied to the row number: after a row is inserted above, or the restore is asked from
    another row, a re-run must still find the earlier attempt. A relist leaves the old listing
    closed, so without this the live state would invite a second relist (a duplicate listing).
    """
    return write_id(f"restore:{takedown.write_id}", 0, takedown.item_id, op.value)


def _from_journal(row: InputRow, takedown: Takedown, states: Mapping[str, WriteState]) -> WriteJob | None:
    """The job of a restore write an earlier run already put in the journal, rebuilt from its intent."""
    op = REVERSE_OP.get(takedown.op)
    if op is None:
        return None
    state = states.get(_restore_write_id(takedown, op))
    if state is None:
        return None
    intent = state.intent
    write = PlannedWrite(
        op=op,
        item_id=takedown.item_id,
        variation_id=intent.get("variation_id"),
        ad_group_id=intent.get("ad_group_id"),
        site=intent.get("site"),
        body=dict(intent.get("body") or {}),
        expected_status=intent.get("expected_status"),
    )
    return WriteJob(
        write_id=state.write_id,
        row_number=row.row_number,
        write=write,
        identifier=row.text("identifier"),
        status_before=intent.get("status_before"),
        variation_ids=[int(v) for v in intent.get("variation_ids") or []],
        ad_group_id=intent.get("ad_group_id"),
        success_code=Code.RELISTED if op is Op.RELIST else Code.RESTORED,
        source_write_id=takedown.write_id,
    )


def _job(
    row: InputRow, takedown: Takedown, write: PlannedWrite, live: Mapping[str, Any] | None, **extra: Any
) -> WriteJob:
    return WriteJob(
        write_id=_restore_write_id(takedown, write.op),
        row_number=row.row_number,
        write=write,
        identifier=row.text("identifier"),
        item=dict(live) if live is not None else None,
        status_before=str((live or {}).get("status") or ""),
        source_write_id=takedown.write_id,
        **extra,
    )


def _reverse(
    row: InputRow,
    takedown: Takedown,
    live: Mapping[str, Any] | None,
    snapshot: Snapshot | None,
    *,
    now: dt.datetime,
    lang: str,
) -> WriteJob | None:
    """The write that undoes ``takedown``, ``None`` when nothing is needed; raises _Refusal."""
    if takedown.op is Op.PAUSE_AD:
        return _reverse_ad(row, takedown)
    item_id = takedown.item_id
    if live is None:
        raise _Refusal(Code.NOT_FOUND, item_id)
    state = describe_state(live.get("status"), live.get("sub_status") or [], lang)
    if _moderated(live):
        raise _Refusal(Code.RESTORE_MODERATED, f"{item_id}: {state}")
    site = takedown.site or str(live.get("site_id") or item_id[:3])
    if takedown.op is Op.PAUSE:
        return _reverse_pause(row, takedown, live, site, state)
    if takedown.op is Op.ZERO_VARIATION:
        return _reverse_variation(row, takedown, live, snapshot, site)
    # CLOSE or DELETE: only a relist brings it back, with a new item ID.
    if takedown.op is Op.DELETE or "deleted" in (live.get("sub_status") or []):
        raise _Refusal(Code.CLOSED_CANNOT_CHANGE, f"{item_id}: deleted listings cannot be relisted")
    if now - takedown.done_at > RELIST_WINDOW:
        raise _Refusal(Code.RELIST_WINDOW_PASSED, f"{item_id}: closed {takedown.done_at:%Y-%m-%d}")
    if live.get("status") != "closed":
        raise _Refusal(Code.ALREADY_IN_TARGET, state)
    return _relist_job(row, takedown, live, snapshot, site)


def _reverse_ad(row: InputRow, takedown: Takedown) -> WriteJob | None:
    if not takedown.ad_group_id or not takedown.site:
        return None
    before = takedown.status_before if takedown.status_before in ("active", "paused") else "active"
    write = PlannedWrite(
        op=Op.RESTORE_AD,
        item_id=takedown.item_id,
        ad_group_id=takedown.ad_group_id,
        site=takedown.site,
        body={"status": before},
        expected_status=before,
    )
    job = _job(row, takedown, write, None, ad_group_id=takedown.ad_group_id, success_code=Code.RESTORED)
    job.status_before = "paused"
    return job


def _reverse_pause(
    row: InputRow, takedown: Takedown, live: Mapping[str, Any], site: str, state: str
) -> WriteJob:
    item_id = takedown.item_id
    if live.get("status") == "active":
        raise _Refusal(Code.ALREADY_IN_TARGET, state)
    if live.get("status") == "closed":
        raise _Refusal(Code.CLOSED_CANNOT_CHANGE, state)
    if _quantity(live) <= 0:
        # ML refuses to activate an item without stock (cause item.status.invalid, 323).
        raise _Refusal(Code.RESTORE_NO_STOCK, f"{item_id}: available quantity 0 — add stock, then restore")
    write = PlannedWrite(
        op=Op.ACTIVATE, item_id=item_id, site=site, body={"status": "active"}, expected_status="active"
    )
    return _job(row, takedown, write, live, success_code=Code.RESTORED)


def _reverse_variation(
    row: InputRow, takedown: Takedown, live: Mapping[str, Any], snapshot: Snapshot | None, site: str
) -> WriteJob:
    item_id, variation_id = takedown.item_id, takedown.variation_id
    # The stock right before this take-down, when the intent recorded it; else the item's first
    # snapshot (which predates the tool's first write to the listing, perhaps by weeks: another
    # variation's take-down may have been the first).
    wanted = takedown.quantity_before
    if wanted is None:
        wanted = snapshot.variation_quantity(variation_id) if snapshot and variation_id else None
    if wanted is None:
        raise _Refusal(Code.RESTORE_NO_STOCK, f"{item_id} / {variation_id}: no stock figure in the snapshot")
    if wanted <= 0:
        raise _Refusal(Code.RESTORE_NO_STOCK, f"{item_id} / {variation_id}: the snapshot shows 0")
    if _quantity(live, variation_id) == wanted:
        raise _Refusal(Code.ALREADY_IN_TARGET, f"{variation_id}: {wanted}")
    write = PlannedWrite(
        op=Op.RESTORE_VARIATION,
        item_id=item_id,
        variation_id=variation_id,
        site=site,
        body={"available_quantity": wanted},
        expected_status=str(live.get("status") or ""),
    )
    return _job(
        row, takedown, write, live, variation_ids=variation_ids_of(write, live), success_code=Code.RESTORED
    )


def _relist_job(
    row: InputRow, takedown: Takedown, live: Mapping[str, Any], snapshot: Snapshot | None, site: str
) -> WriteJob:
    item_id = takedown.item_id
    key: Mapping[str, Any] = snapshot.key if snapshot is not None else live
    price = key.get("price")
    listing_type = key.get("listing_type_id")
    if price is None or not listing_type:
        raise _Refusal(Code.RESTORE_NO_STOCK, f"{item_id}: the snapshot lacks price or listing type")
    body: dict[str, Any] = {"price": price, "listing_type_id": listing_type}
    variations = [v for v in key.get("variations") or [] if isinstance(v, Mapping)]
    if variations:
        body["variations"] = [
            {
                "id": v["id"],
                "price": v.get("price") or price,
                "quantity": int(v.get("available_quantity") or 0),
            }
            for v in variations
        ]
        body["quantity"] = sum(v["quantity"] for v in body["variations"])
    else:
        body["quantity"] = int(key.get("available_quantity") or 0)
    if body["quantity"] <= 0:
        raise _Refusal(Code.RESTORE_NO_STOCK, f"{item_id}: the snapshot shows no stock to relist with")
    write = PlannedWrite(op=Op.RELIST, item_id=item_id, site=site, body=body, expected_status="active")
    return _job(row, takedown, write, live, success_code=Code.RELISTED)


def _for_row(row: InputRow, writes: Sequence[Takedown]) -> list[Takedown]:
    """The take-downs a row asks to undo: those made from the same identifier when there are
    any, else the ones on the row's variation (another variation's stock stays as it is)."""
    text = row.text("identifier")
    same = [w for w in writes if w.identifier and w.identifier == text]
    if same:
        return same
    variation = row.outputs.get("variation_id")
    if isinstance(variation, int | float) and variation:
        return [w for w in writes if w.op is not Op.ZERO_VARIATION or w.variation_id == int(variation)]
    return list(writes)


def _plan_row(
    plan: RestorePlan,
    row: InputRow,
    writes: Sequence[Takedown],
    current: Mapping[str, Any] | None,
    snapshot: Snapshot | None,
    states: Mapping[str, WriteState],
    *,
    now: dt.datetime,
    lang: str,
) -> None:
    row_jobs: list[WriteJob] = []
    refusal: _Refusal | None = None
    for takedown in writes:
        if takedown.op is Op.PAUSE_AD and refusal is not None and refusal.code is not Code.ALREADY_IN_TARGET:
            break  # the listing stays down, so its ad stays paused
        earlier = _from_journal(row, takedown, states)
        if earlier is not None:
            # An earlier restore run already intended this write: the runner reports it
            # (done, or reconciled from live state) instead of planning it afresh.
            row_jobs.append(earlier)
            continue
        try:
            job = _reverse(row, takedown, current, snapshot, now=now, lang=lang)
        except _Refusal as exc:
            refusal = exc
            continue
        if job is not None:
            row_jobs.append(job)
    if refusal is not None and (refusal.code is not Code.ALREADY_IN_TARGET or not row_jobs):
        plan.refused[row.row_number] = (refusal.code, refusal.detail)
    elif not row_jobs:
        plan.refused[row.row_number] = (Code.ALREADY_IN_TARGET, writes[0].item_id)
    else:
        plan.jobs.extend(row_jobs)


def plan_restore(
    rows: Sequence[InputRow],
    takedowns: Mapping[str, list[Takedown]],
    live: Mapping[str, tuple[bool, dict[str, Any] | None]],
    snapshots: SnapshotStore,
    states: Mapping[str, WriteState],
    *,
    now: dt.datetime,
    lang: str = "en",
) -> RestorePlan:
    """Decide, for each RESTORE row, the writes that undo the tool's take-down (or why not).

    Each take-down is undone once: a second row naming the same item (by SKU and by item ID,
    say) gets ``DUPLICATE_ROW`` instead of a second write.
    """
    plan = RestorePlan()
    claimed: dict[str, int] = {}
    for row in rows:
        item_id = row_item_id(row, takedowns)
        writes = _for_row(row, takedowns.get(item_id or "", []))
        if item_id is None or not writes:
            plan.refused[row.row_number] = (Code.RESTORE_NOT_OURS, item_id or row.text("identifier"))
            continue
        taken = [claimed[w.write_id] for w in writes if w.write_id in claimed]
        if taken:
            plan.refused[row.row_number] = (Code.DUPLICATE_ROW, f"{item_id}: restored by row {taken[0]}")
            continue
        claimed.update({w.write_id: row.row_number for w in writes})
        found, item = live.get(item_id, (False, None))
        current = item if found else None
        plan.sites[row.row_number] = writes[0].site or item_id[:3]
        plan.status_before[row.row_number] = str((current or {}).get("status") or "")
        try:
            snapshot = snapshots.load(item_id)
        except SnapshotError as exc:
            plan.refused[row.row_number] = (Code.RESTORE_NO_STOCK, str(exc))
            continue
        _plan_row(plan, row, writes, current, snapshot, states, now=now, lang=lang)
    return plan
