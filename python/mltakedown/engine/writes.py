"""One planned write as a job, and how it is sent.

A :class:`WriteJob` is a write with what the journal and the row need to know about it;
:func:`perform` sends it through the :class:`~mltakedown.engine.engine_api.EngineApi`;
:func:`read_items` is the multiget the runner, Reconcile and Restore read live state with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from mltakedown.codes import Code
from mltakedown.engine.engine_api import EngineApi
from mltakedown.engine.model import Op, PlannedWrite
from mltakedown.engine.reconcile import AD_OPS
from mltakedown.meli.models import AdGroup, Item

ITEM_WRITE_OPS: Final = frozenset(
    {Op.PAUSE, Op.CLOSE, Op.DELETE, Op.ZERO_VARIATION, Op.ACTIVATE, Op.RESTORE_VARIATION, Op.RELIST}
)


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
