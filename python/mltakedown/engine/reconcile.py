"""Reconciliation: what a re-run does with writes an earlier run left behind.

A run killed by kill -9 or a power cut leaves, per write, one of:

* nothing in the journal — the write was never sent; it is made now;
* an ``outcome`` that succeeded — done; it is not redone (only verified if that never happened);
* an ``outcome`` that failed for good (validation, forbidden…) — kept as the row's answer;
* an ``intent`` without ``outcome``, or an outcome that failed for a passing reason (network,
  429, 5xx, conflict, auth) — the write may or may not have reached Mercado Libre. The item is
  read back: if it already shows the target state the write is recorded as ``RECONCILED`` and
  **not sent again**; otherwise it is sent once.

So however often a run is killed and restarted, each item receives at most one successful
write per planned change. A relist in flight is never sent again automatically: it creates a new
listing, and a duplicate would be a second live listing.

:func:`target_reached` is also what Verify uses to judge a read-back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from mltakedown.codes import Code
from mltakedown.engine.journal import WriteState
from mltakedown.engine.model import Op, PlannedWrite

AD_OPS: Final = frozenset({Op.PAUSE_AD, Op.RESTORE_AD})
"""Writes to an ad group rather than an item."""

TRANSIENT_CODES: Final = frozenset(
    {Code.RATE_LIMITED, Code.NETWORK, Code.SERVER_ERROR, Code.CONFLICT, Code.AUTH_FAILED, Code.NOT_SENT}
)
"""Failures a re-run tries again (after checking live state), unlike validation or permission errors."""


class Next(StrEnum):
    """What a run does with one planned write, given the journal."""

    WRITE = "write"
    """Never sent, or known not applied: send it."""
    CHECK = "check"
    """Maybe applied: read the live state first."""
    VERIFY = "verify"
    """Succeeded earlier, never verified: read back only."""
    DONE = "done"
    """Succeeded and verified, or failed for good: nothing to do."""


def _variation_quantity(item: Mapping[str, Any], variation_id: int | None) -> int | None:
    for variation in item.get("variations") or []:
        if isinstance(variation, Mapping) and variation.get("id") == variation_id:
            quantity = variation.get("available_quantity")
            return quantity if isinstance(quantity, int) else None
    return None


def target_reached(write: PlannedWrite, seen: Mapping[str, Any] | None) -> bool:
    """Whether ``seen`` (the live item, or the ad group for ad writes) shows the write's effect.

    ``seen`` is ``None`` when the read-back found nothing (404): only a delete counts that as
    done (a deleted item may drop out of reads).
    """
    if seen is None:
        return write.op is Op.DELETE
    status = seen.get("status")
    sub_status = seen.get("sub_status") or []
    if write.op is Op.PAUSE:
        # Paused only for lack of stock is not a takedown: the next restock reactivates it.
        return bool(status == "paused") and (
            "paused_by_seller" in sub_status or "out_of_stock" not in sub_status
        )
    if write.op is Op.CLOSE:
        return bool(status == "closed")
    if write.op is Op.DELETE:
        return status == "closed" and "deleted" in sub_status
    if write.op is Op.ACTIVATE:
        return bool(status == "active")
    if write.op is Op.ZERO_VARIATION:
        return _variation_quantity(seen, write.variation_id) == 0
    if write.op is Op.RESTORE_VARIATION:
        wanted = write.body.get("available_quantity")
        return _variation_quantity(seen, write.variation_id) == wanted
    if write.op in AD_OPS:
        return bool(status == write.body.get("status", write.expected_status))
    if write.op is Op.RELIST:
        # Judged on the *new* item: it exists and is on sale (or about to be).
        return status in {"active", "not_yet_active", "paused"}
    return False


def next_step(state: WriteState | None) -> Next:
    """What to do with a write given its journal state (``None``: never intended)."""
    if state is None:
        return Next.WRITE
    if state.outcome is None:
        return Next.CHECK
    if state.succeeded:
        return Next.DONE if state.verify is not None else Next.VERIFY
    code = state.outcome.get("code")
    if code in {c.value for c in TRANSIENT_CODES}:
        return Next.CHECK
    return Next.DONE


@dataclass(slots=True)
class Triage:
    """Planned writes sorted by what the run must do with them (write ids)."""

    write: list[str] = field(default_factory=list)
    check: list[str] = field(default_factory=list)
    verify: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)


def triage(write_ids: Sequence[str], states: Mapping[str, WriteState]) -> Triage:
    """Sort ``write_ids`` by :func:`next_step`."""
    result = Triage()
    buckets = {
        Next.WRITE: result.write,
        Next.CHECK: result.check,
        Next.VERIFY: result.verify,
        Next.DONE: result.done,
    }
    for wid in write_ids:
        buckets[next_step(states.get(wid))].append(wid)
    return result


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The live answer for one maybe-applied write."""

    reached: bool
    """The live state already shows the write's effect: record RECONCILED, do not send."""
    uncertain: bool = False
    """The effect cannot be read back (a relist in flight): do not send, ask the user to look."""
    seen: Mapping[str, Any] | None = None
    """What was read (the item, or the ad group)."""


def judge(write: PlannedWrite, seen: Mapping[str, Any] | None, *, found: bool) -> CheckResult:
    """Decide one maybe-applied write from its live read.

    ``found`` says whether the read returned the object at all. A relist cannot be judged from
    the old item, so it is reported uncertain rather than risked twice.
    """
    if write.op is Op.RELIST:
        return CheckResult(reached=False, uncertain=True, seen=seen)
    if not found:
        return CheckResult(reached=write.op is Op.DELETE, seen=None)
    return CheckResult(reached=target_reached(write, seen), seen=seen)
