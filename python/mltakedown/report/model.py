"""The typed input of the report area: one run and its rows, as the engine recorded them.

Everything the documents, the appeal packs, the ``Report`` sheet and ``verify-record`` show comes
from a :class:`RunRecord`. The engine fills it at the end of Execute or Restore (or
:mod:`mltakedown.report.collect` rebuilds it from a saved workbook and its journal), so the report
code never reaches into the engine's internals and can be tested with a hand-made record.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from mltakedown.book.ports import Result

DONE_RESULTS: frozenset[Result] = frozenset({Result.OK, Result.WARNING})
"""Results that may describe a write that happened (a WARNING row can still have been executed)."""


class ReportRow(BaseModel):
    """One row of the Takedown sheet after a run: what was asked, what was done, the proof."""

    row: int
    """Sheet row number (as Excel shows it)."""
    identifier: str = ""
    """What the user typed (SKU, item ID, user product ID or permalink)."""
    sku: str = ""
    """The seller SKU of the listing or variation, when known."""
    item_id: str = ""
    variation_id: int | None = None
    title: str = ""
    permalink: str = ""
    site: str = ""
    """Site ID (MLM, MLB…)."""
    action: str = ""
    """PAUSE, CLOSE, DELETE, RESTORE or IGNORE (normalised): what the run did, from its journal,
    else the Action cell; ZERO_VARIATION when the run zeroed a variation and the cell no longer
    names a take-down."""
    reason: str = ""
    reference: str = ""
    """The complaint or case number the user gave."""
    result: Result | None = None
    code: str = ""
    message: str = ""
    status_before: str = ""
    status_after: str = ""
    """The status the write response showed."""
    verified_status: str = ""
    """The status a separate read-back (GET) showed after the write: the API's own verification."""
    sub_status: list[str] = Field(default_factory=list)
    """Sub-status before the write (``under_review`` → ``held``, ``forbidden``…)."""
    done_at_utc: dt.datetime | None = None
    done_at_local: str = ""
    """The same instant in the site's local time, as text (blank: computed from the site)."""
    request_ids: list[str] = Field(default_factory=list)
    """``x-request-id`` of every write and verification call for this row."""
    api_error: str = ""
    """The API's own error text and cause code, when the write failed."""
    snapshot_file: str = ""
    """Path of the pre-write snapshot relative to the workbook's folder
    (``X.mltakedown/snapshots/<run>/<item>.json``, as the Snapshots sheet's File column has it)."""
    snapshot_sha256: str = ""
    new_item_id: str = ""
    """The new item ID after a relist (Restore of a closed listing)."""

    @property
    def was_written(self) -> bool:
        """True when the row's change was made: a done result, a time and a resulting status.

        Blocked, failed and skipped rows are never "done", whatever other columns hold.
        """
        return (
            self.result in DONE_RESULTS
            and self.done_at_utc is not None
            and bool(self.status_after or self.verified_status or self.new_item_id)
        )

    @property
    def is_skipped(self) -> bool:
        """True when the row needed no change (already in the target state, ignored, duplicate)."""
        return self.result is Result.SKIPPED


class RunRecord(BaseModel):
    """One run of Execute or Restore: the account, the budget it used and every row."""

    run_id: str
    seller_id: int | None = None
    nickname: str = ""
    account_alias: str = ""
    sites: list[str] = Field(default_factory=list)
    stage: str = "execute"
    """``execute`` or ``restore``."""
    workbook: str = ""
    """File name of the workbook the run worked on."""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    requests_used: int = 0
    """API requests the run made (retries included)."""
    seconds: float = 0.0
    rate_per_second: float = 5.0
    """The configured request rate (Mercado Libre allows about 5/s per application)."""
    journal_head: str = ""
    """SHA-256 of the journal's last line when the record was made (stamped in the Report sheet)."""
    journal_lines: int = 0
    """Lines the journal had then."""
    rows: list[ReportRow] = Field(default_factory=list)

    @property
    def main_site(self) -> str:
        """The site most rows belong to (ties: the first listed), or ``""``."""
        counts: dict[str, int] = {}
        for row in self.rows:
            if row.site:
                counts[row.site] = counts.get(row.site, 0) + 1
        if not counts:
            return self.sites[0] if self.sites else ""
        return max(counts, key=lambda site: counts[site])

    @property
    def request_budget(self) -> int:
        """Requests the rate limit allowed over the run's duration (the ceiling it could have used)."""
        return int(self.rate_per_second * self.seconds)
