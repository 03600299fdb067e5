"""The safety gates: one live row plus the requested action becomes the exact write, or none.

Pure functions, no I/O. :func:`plan_row` is the whole policy of design.md §Safety gates:

* blocking live findings from Pull (account mismatch, not found, not the account's item,
  ambiguous or unknown SKU) plan nothing;
* an item whose ``seller_id`` is not the workbook's seller is never written (checked here again,
  whatever Pull said);
* platform-controlled states (under review, inactive, payment required, forbidden…) are explained
  with their meaning and the appeal path, never attempted;
* a SKU naming one variation of a multi-variation item sets that variation's stock to 0 and
  touches nothing else (not the item status, not the ad);
* paid orders whose shipment has not left block CLOSE and DELETE and warn on PAUSE;
* an item already in the target state is skipped (but a listing Mercado Libre paused only for
  lack of stock is not taken down: restocking reactivates it, so the seller's pause is still
  written); a closed item cannot be paused;
* CLOSE and DELETE are final (warning) and need ``Confirm``;
* FULL items: the stock stays in Mercado Libre's warehouse (warning) and no stock write is ever
  planned for them;
* an active ad is paused with the listing when the Settings say so, else noted; an ad group
  that also serves a listing the plan does not take down is only noted, and one shared by
  several listed items is paused once;
* a catalogue sibling the plan does not take down, and unanswered questions, are reported.

Codes are ordered most severe first; the first one decides the row's result unless
:attr:`PlannedRow.result` overrides it (see :func:`row_result`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from mltakedown.book.ports import BookSettings, Result
from mltakedown.codes import Code, Severity, spec, ui_text
from mltakedown.engine.meanings import appeal_path, describe_state, is_platform_controlled
from mltakedown.engine.model import LiveRow, Op, PlannedRow, PlannedWrite

PAUSE = "PAUSE"
CLOSE = "CLOSE"
DELETE = "DELETE"
RESTORE = "RESTORE"
IGNORE = "IGNORE"
TAKEDOWN_ACTIONS = frozenset({PAUSE, CLOSE, DELETE})
"""Actions that take a listing down (the ones the gates apply to)."""

LIVE_BLOCKERS = frozenset(
    {
        Code.ACCOUNT_MISMATCH,
        Code.NOT_FOUND,
        Code.NOT_YOUR_ITEM,
        Code.SKU_AMBIGUOUS,
        Code.SKU_NOT_FOUND,
        Code.NOT_LOGGED_IN,
    }
)
"""Pull findings after which nothing about the row can be planned."""

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def code_order(code: Code) -> tuple[bool, int]:
    """Sort key of a row's codes: blocking first (they decide a row that has no write), then
    by severity (errors, warnings, remarks)."""
    facts = spec(code)
    return (not facts.blocks_write, _SEVERITY_ORDER[facts.severity])


@dataclass(frozen=True, slots=True)
class GateContext:
    """What every row's gates share: the Settings, the language, the item IDs the list names."""

    settings: BookSettings
    lang: str = "en"
    listed_item_ids: frozenset[str] = field(default_factory=frozenset)
    """Item IDs resolved from every row of the list (for the catalogue-sibling gate)."""


@dataclass(slots=True)
class _Findings:
    """Accumulates codes (with their details) and writes for one row."""

    codes: list[Code] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    writes: list[PlannedWrite] = field(default_factory=list)
    result: Result | None = None

    def add(self, code: Code, detail: str = "") -> None:
        if code not in self.codes:
            self.codes.append(code)
        if detail:
            self.details[code.value] = detail

    def to_row(self, live: LiveRow, action: str) -> PlannedRow:
        ordered = sorted(self.codes, key=code_order)
        if self.writes and Code.PLANNED not in ordered:
            ordered.append(Code.PLANNED)
        detail = "; ".join(self.details[c.value] for c in ordered if c.value in self.details)
        return PlannedRow(
            row_number=live.row_number,
            action=action,
            writes=list(self.writes),
            codes=ordered,
            detail=detail,
            live=live,
            code_details={c.value: self.details[c.value] for c in ordered if c.value in self.details},
            result=self.result,
        )


def row_result(row: PlannedRow) -> Result:
    """The verdict shown for a planned row: the override, else the first code's, else OK."""
    if row.result is not None:
        return row.result
    if row.codes:
        return spec(row.codes[0]).result
    return Result.OK


def is_variation_only(live: LiveRow) -> bool:
    """True when the row names one variation of an item that has several."""
    return live.variation_id is not None and live.variation_count > 1


def plan_row(live: LiveRow, action: str, *, confirm: bool, ctx: GateContext) -> PlannedRow:
    """Apply every gate to one row and return its plan (writes, or the reasons there are none).

    ``action`` is the normalised action (PAUSE, CLOSE, DELETE, RESTORE, IGNORE); ``confirm``
    whether the row's Confirm cell is set.
    """
    found = _Findings()
    action = action.upper()
    blockers = [code for code in live.codes if code in LIVE_BLOCKERS]
    if blockers:
        for code in blockers:
            found.add(code, live.detail)
        return found.to_row(live, action)
    if action == IGNORE:
        found.add(Code.IGNORED)
        return found.to_row(live, action)
    if action == RESTORE:
        # Restore is planned from the journal by the restore stage, not from live state here.
        return PlannedRow(row_number=live.row_number, action=RESTORE, live=live)
    if action not in TAKEDOWN_ACTIONS:
        found.add(Code.ACTION_UNKNOWN, action)
        return found.to_row(live, action)
    if not _owned(live, ctx.settings, found):
        return found.to_row(live, action)
    if action in {CLOSE, DELETE} and not confirm:
        found.add(Code.CONFIRM_MISSING, action)
        return found.to_row(live, action)
    if is_platform_controlled(live.status, live.sub_status) and not _deleted(live):
        found.add(
            Code.PLATFORM_CONTROLLED,
            f"{describe_state(live.status, live.sub_status, ctx.lang)}. {appeal_path(live.status, ctx.lang)}",
        )
        return found.to_row(live, action)
    if is_variation_only(live):
        _plan_variation(live, ctx, found)
    else:
        _plan_listing(live, action, ctx, found)
    _note_siblings_and_questions(live, ctx, found)
    return found.to_row(live, action)


def _owned(live: LiveRow, settings: BookSettings, found: _Findings) -> bool:
    """Never write another seller's item, whatever Pull concluded."""
    if live.item_id is None:
        found.add(Code.NOT_FOUND, live.identifier)
        return False
    if settings.seller_id is None or live.seller_id != settings.seller_id:
        found.add(Code.NOT_YOUR_ITEM, f"{live.item_id}: seller {live.seller_id}")
        return False
    return True


def _deleted(live: LiveRow) -> bool:
    return live.status == "closed" and "deleted" in live.sub_status


def resumes_on_restock(live: LiveRow) -> bool:
    """A listing Mercado Libre paused only for lack of stock: it comes back by itself.

    Stock 0 pauses an active item with ``sub_status: ["out_of_stock"]``, and restocking it
    (an ERP sync, a FULL inbound) reactivates it unless the seller paused it (ml-api.md §0.8).
    Such a listing is not taken down yet: the seller's own pause must still be written.
    """
    return (
        live.status == "paused"
        and "out_of_stock" in live.sub_status
        and "paused_by_seller" not in live.sub_status
    )


def _plan_variation(live: LiveRow, ctx: GateContext, found: _Findings) -> None:
    """A SKU naming one variation: that variation's stock to 0, nothing else."""
    assert live.item_id is not None and live.variation_id is not None
    found.add(
        Code.VARIATION_ONLY,
        f"{live.item_id} / {live.variation_id} ({live.variation_count})",
    )
    if live.status == "closed":
        found.add(Code.CLOSED_CANNOT_CHANGE, describe_state(live.status, live.sub_status, ctx.lang))
        return
    if live.variation_quantity == 0:
        found.add(Code.ALREADY_IN_TARGET, f"{live.variation_id}: 0")
        return
    if live.is_full:
        # FULL stock sits in Mercado Libre's warehouse and cannot be set through the API, and
        # pausing the listing would take every other variation down: nothing safe to write.
        found.add(Code.FULL_STOCK, f"{live.item_id} / {live.variation_id}")
        found.result = Result.BLOCKED
        return
    if live.pending_orders:
        # Zeroing stock does not touch paid orders; they still have to ship.
        found.add(Code.PENDING_ORDERS_WARN, str(live.pending_orders))
    if live.ad_status == "active":
        # The ad serves the whole listing; the other variations keep selling, so it stays on.
        found.add(Code.AD_ACTIVE_NOTED, live.ad_group_id or "")
    variations: list[dict[str, int]] = [{"id": live.variation_id, "available_quantity": 0}]
    variations += [{"id": vid} for vid in live.variation_ids if vid != live.variation_id]
    found.writes.append(
        PlannedWrite(
            op=Op.ZERO_VARIATION,
            item_id=live.item_id,
            variation_id=live.variation_id,
            site=live.site,
            body={"variations": variations},
            expected_status=live.status,
        )
    )


def _plan_listing(live: LiveRow, action: str, ctx: GateContext, found: _Findings) -> None:
    """PAUSE, CLOSE or DELETE of the whole listing."""
    assert live.item_id is not None
    state = describe_state(live.status, live.sub_status, ctx.lang)
    if action == PAUSE:
        if live.status == "paused" and not resumes_on_restock(live):
            found.add(Code.ALREADY_IN_TARGET, state)
            return
        if live.status == "closed":
            found.add(Code.CLOSED_CANNOT_CHANGE, state)
            return
    elif (action == CLOSE and live.status == "closed") or (action == DELETE and _deleted(live)):
        found.add(Code.ALREADY_IN_TARGET, state)
        return
    if live.pending_orders:
        if action == PAUSE:
            found.add(Code.PENDING_ORDERS_WARN, str(live.pending_orders))
        else:
            found.add(Code.PENDING_ORDERS_BLOCK, str(live.pending_orders))
            return
    if action in {CLOSE, DELETE}:
        found.add(Code.CLOSE_IS_FINAL, live.item_id)
    if live.is_full:
        found.add(Code.FULL_STOCK, str(live.available_quantity or 0))
    found.writes.append(_listing_write(live, action))
    if live.ad_status == "active" and live.status != "closed":
        # A CATALOG or FAMILY ad group also serves other listings: pausing it for one of them
        # would stop the ads of listings nobody asked to take down.
        shared = [i for i in live.ad_group_item_ids if i != live.item_id and i not in ctx.listed_item_ids]
        if shared:
            found.add(Code.AD_ACTIVE_NOTED, f"{live.ad_group_id} ({', '.join(shared)})")
        elif ctx.settings.pause_ads_with_listing and live.ad_group_id:
            found.add(Code.AD_PAUSED_WITH_LISTING, live.ad_group_id)
            found.writes.append(
                PlannedWrite(
                    op=Op.PAUSE_AD,
                    item_id=live.item_id,
                    ad_group_id=live.ad_group_id,
                    site=live.site,
                    body={"status": "paused"},
                    expected_status="paused",
                )
            )
        else:
            found.add(Code.AD_ACTIVE_NOTED, live.ad_group_id or "")


def _listing_write(live: LiveRow, action: str) -> PlannedWrite:
    assert live.item_id is not None
    if action == PAUSE:
        return PlannedWrite(
            op=Op.PAUSE,
            item_id=live.item_id,
            site=live.site,
            body={"status": "paused"},
            expected_status="paused",
        )
    if action == CLOSE:
        return PlannedWrite(
            op=Op.CLOSE,
            item_id=live.item_id,
            site=live.site,
            body={"status": "closed"},
            expected_status="closed",
        )
    # DELETE: Execute closes first when the item is not closed yet (Op.DELETE), then deletes.
    return PlannedWrite(
        op=Op.DELETE, item_id=live.item_id, site=live.site, body={"deleted": "true"}, expected_status="closed"
    )


def _note_siblings_and_questions(live: LiveRow, ctx: GateContext, found: _Findings) -> None:
    missing = [rid for rid in live.related_item_ids if rid not in ctx.listed_item_ids]
    if missing and not is_variation_only(live):
        found.add(Code.CATALOGUE_SIBLING, ", ".join(missing))
    if live.unanswered_questions:
        found.add(Code.UNANSWERED_QUESTIONS, str(live.unanswered_questions))


def plan_rows(
    rows: Collection[tuple[LiveRow, str, bool]],
    *,
    settings: BookSettings,
    lang: str = "en",
) -> list[PlannedRow]:
    """Plan many rows: ``(live, action, confirm)`` each; siblings are judged against the whole list.

    "In the list" means the plan really leaves that listing down (see :func:`taken_down`): a row
    that only restores, ignores, is blocked or zeroes one variation does not take its listing
    down, so a catalogue twin or ad group it shares must not be treated as coming down with it.
    Which listings come down never depends on the list (only the ad and sibling notes do), so
    a first pass finds them and a second one plans against them.
    """
    entries = list(rows)

    def once(listed: frozenset[str]) -> list[PlannedRow]:
        ctx = GateContext(settings=settings, lang=lang, listed_item_ids=listed)
        return one_write_per_target(
            [plan_row(live, action, confirm=confirm, ctx=ctx) for live, action, confirm in entries], lang=lang
        )

    return once(taken_down(once(frozenset())))


LISTING_OPS = frozenset({Op.PAUSE, Op.CLOSE, Op.DELETE})
"""Writes that take a whole listing down."""


def taken_down(rows: Iterable[PlannedRow]) -> frozenset[str]:
    """Item IDs whose whole listing this plan leaves down.

    A row counts when it plans a listing write (pause, close, delete), or asks to take the
    listing down and finds it already down (already in the target state, or closed). Rows that
    restore, are blocked, or zero one variation leave their listing on sale.
    """
    down: set[str] = set()
    for row in rows:
        listing = [w.item_id for w in row.writes if w.op in LISTING_OPS]
        if listing:
            down.update(listing)
            continue
        live = row.live
        if (
            live is not None
            and live.item_id
            and not row.writes
            and row.action in TAKEDOWN_ACTIONS
            and not is_variation_only(live)
            and any(c in row.codes for c in (Code.ALREADY_IN_TARGET, Code.CLOSED_CANNOT_CHANGE))
        ):
            down.add(live.item_id)
    return frozenset(down)


def one_write_per_target(rows: list[PlannedRow], *, lang: str = "en") -> list[PlannedRow]:
    """Rows that resolve to the same item (or variation) must not write it twice.

    A SKU row and an item-ID row, or two SKUs of one listing, can name the same target; Check
    cannot see that, only the resolved IDs show it. The same action on it: the first row writes,
    later ones are skipped as duplicates. Different actions: intent is unclear, none writes.
    An ad group shared by several listed items (a CATALOG or FAMILY group) is paused once, by
    the first row that pauses it; the others name that row.
    """
    groups: dict[tuple[str, int | None], list[PlannedRow]] = {}
    for row in rows:
        if row.writes:
            first = row.writes[0]
            groups.setdefault((first.item_id, first.variation_id), []).append(row)
    for (item_id, variation_id), group in groups.items():
        if len(group) < 2:
            continue
        target = item_id if variation_id is None else f"{item_id} / {variation_id}"
        numbers = ", ".join(str(r.row_number) for r in group)
        same = len({r.action for r in group}) == 1
        for row in group if not same else group[1:]:
            code = Code.DUPLICATE_ROW if same else Code.CONFLICTING_ACTIONS
            row.writes = []
            row.codes = [code, *(c for c in row.codes if c is not Code.PLANNED)]
            row.code_details[code.value] = f"{target}: {numbers}"
            row.detail = "; ".join(row.code_details.values())
            row.result = None
    _one_ad_pause_per_group(rows, lang)
    return rows


def _one_ad_pause_per_group(rows: Sequence[PlannedRow], lang: str) -> None:
    """Keep one ``PAUSE_AD`` per ad group: the first row's; later rows name it instead."""
    owner: dict[str, int] = {}
    for row in rows:
        for write in list(row.writes):
            if write.op is not Op.PAUSE_AD or not write.ad_group_id:
                continue
            first = owner.setdefault(write.ad_group_id, row.row_number)
            if first == row.row_number:
                continue
            row.writes.remove(write)
            where = ui_text("row", lang).format(n=first)
            row.code_details[Code.AD_PAUSED_WITH_LISTING.value] = f"{write.ad_group_id} ({where})"
            row.detail = "; ".join(row.code_details.values())


def requests_for(row: PlannedRow) -> int:
    """API writes Execute will send for the row (a DELETE of an open item is close + delete)."""
    total = 0
    for write in row.writes:
        total += 1
        if write.op is Op.DELETE and row.live is not None and row.live.status != "closed":
            total += 1
    return total
