"""The data that flows between the engine's stages: live state, planned writes, the stored plan.

Pull turns each :class:`~mltakedown.book.ports.InputRow` into a :class:`LiveRow` (what the row
names, as Mercado Libre sees it now). Plan turns live rows into :class:`PlannedRow` objects — the
exact write Execute will make, or why it will not — and stores them as a :class:`Plan` with a hash
of the inputs. Execute and Restore consume plans and the journal.

Everything here is plain data (pydantic models, JSON-serialisable) so a plan can be stored beside
the workbook and read back by a later run.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mltakedown.book.ports import Result
from mltakedown.codes import Code


class Op(StrEnum):
    """One kind of write Execute or Restore can make."""

    PAUSE = "pause"
    """``PUT /items/{id} {"status": "paused"}``"""
    CLOSE = "close"
    """``PUT /items/{id} {"status": "closed"}`` (final: only a relist brings it back, with a new ID)."""
    DELETE = "delete"
    """Close if needed, then ``PUT /items/{id} {"deleted": "true"}``."""
    ZERO_VARIATION = "zero_variation"
    """``PUT /items/{id} {"variations": [{"id": V, "available_quantity": 0}, {"id": others}...]}``"""
    PAUSE_AD = "pause_ad"
    """``PUT …/product_ads/ad_groups/{id} {"status": "paused"}`` alongside a listing pause."""
    ACTIVATE = "activate"
    """Restore: ``PUT /items/{id} {"status": "active"}``"""
    RESTORE_VARIATION = "restore_variation"
    """Restore: a variation's stock back to its snapshot quantity."""
    RESTORE_AD = "restore_ad"
    """Restore: the ad group back to the status it had before."""
    RELIST = "relist"
    """Restore: ``POST /items/{id}/relist`` for a closed item (new item ID)."""


class LiveRow(BaseModel):
    """What Pull learned about one row. Fields are ``None`` when unknown or not applicable."""

    model_config = ConfigDict(extra="allow")

    row_number: int
    identifier: str = ""
    identifier_kind: str = ""
    """``item``, ``user_product``, ``sku`` or ``catalogue_product``."""
    item_id: str | None = None
    variation_id: int | None = None
    candidates: list[str] = Field(default_factory=list)
    """Item IDs a SKU matched when it matched more than one (the row is then blocked)."""
    site: str | None = None
    seller_id: int | None = None
    title: str | None = None
    permalink: str | None = None
    status: str | None = None
    sub_status: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    available_quantity: int | None = None
    variation_count: int = 0
    variation_quantity: int | None = None
    variation_ids: list[int] = Field(default_factory=list)
    """Every variation ID of the item, in item order (a variation write must name them all)."""
    is_full: bool = False
    catalog_listing: bool = False
    related_item_ids: list[str] = Field(default_factory=list)
    pending_orders: int = 0
    ad_group_id: str | None = None
    ad_status: str | None = None
    ad_group_item_ids: list[str] = Field(default_factory=list)
    """Every item the ad group serves (a CATALOG or FAMILY group serves several)."""
    unanswered_questions: int = 0
    item_json: dict[str, Any] | None = None
    """The full item as read, kept for the snapshot taken before the first write."""
    codes: list[Code] = Field(default_factory=list)
    """Live findings (not found, not your item, ambiguous…), most severe first."""
    detail: str = ""


class PlannedWrite(BaseModel):
    """One API write Execute will make for a row."""

    op: Op
    item_id: str
    variation_id: int | None = None
    ad_group_id: str | None = None
    site: str | None = None
    body: dict[str, Any] = Field(default_factory=dict)
    expected_status: str | None = None
    """The status the item must show after the write (what Verify checks)."""


class PlannedRow(BaseModel):
    """The plan for one row: the writes, or the reason there are none."""

    row_number: int
    action: str
    """PAUSE, CLOSE, DELETE, RESTORE or IGNORE (normalised)."""
    writes: list[PlannedWrite] = Field(default_factory=list)
    codes: list[Code] = Field(default_factory=list)
    """Every gate that fired, most severe first; the first one decides the row's result."""
    detail: str = ""
    live: LiveRow | None = None
    code_details: dict[str, str] = Field(default_factory=dict)
    """Per code (its value, e.g. ``"L208"``), the specifics its message names (IDs, counts…)."""
    result: Result | None = None
    """The row's verdict when it is not the first code's (e.g. a warning-only row that still
    cannot be written); ``None`` means "the first code decides" (``engine.gates.row_result``)."""


class Plan(BaseModel):
    """A stored plan. Execute refuses it when the rows changed since (``inputs_hash``)."""

    plan_id: str
    created_at: dt.datetime
    workbook: str
    seller_id: int | None
    inputs_hash: str
    """SHA-256 over the input cells of every row (see ``engine.plan.inputs_hash``)."""
    settings_hash: str = ""
    """SHA-256 over the Settings the gates read (seller, account, ad policy, site); empty in plans
    stored before it existed."""
    rows: list[PlannedRow]
    requests_estimate: int
    seconds_estimate: float


class StageReport(BaseModel):
    """What one stage (check, pull, plan, execute, restore) did, for the CLI, the ribbon and the report."""

    stage: str
    run_id: str
    counts: dict[str, int] = Field(default_factory=dict)
    """Rows per result (OK, SKIPPED, WARNING, BLOCKED, FAILED)."""
    code_counts: dict[str, int] = Field(default_factory=dict)
    requests: int = 0
    """API requests the stage made (attempts included)."""
    seconds: float = 0.0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    message: str = ""
    """One line for a message box or the console."""

    @property
    def blocked(self) -> int:
        """Rows that were blocked."""
        return self.counts.get("BLOCKED", 0)

    @property
    def failed(self) -> int:
        """Rows whose write failed."""
        return self.counts.get("FAILED", 0)
