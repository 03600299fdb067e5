"""A workbook with the full record of one run on disk, written with the engine's own writers.

The Takedown rows, the Snapshots sheet, the journal (``Journal.append``, hash-chained) and the
snapshot files (``SnapshotStore.ensure``, with ``.sha256``) are produced exactly as Execute
produces them, from the fixture run of :mod:`report_fixtures`, so ``verify-record`` and ``report``
are tested against the real formats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.book.ports import Outcome
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook
from mltakedown.engine.journal import JOURNAL_NAME, Journal, state_dir
from mltakedown.engine.snapshots import SnapshotStore
from mltakedown.report.model import ReportRow, RunRecord

_OPS = {"PAUSE": "pause", "CLOSE": "close", "DELETE": "delete"}


def item_json(row: ReportRow) -> dict[str, Any]:
    """The item as the API would have returned it before the write."""
    variations = []
    if row.variation_id is not None:
        variations = [
            {"id": row.variation_id, "available_quantity": 4, "seller_custom_field": row.sku},
            {"id": row.variation_id + 1, "available_quantity": 9, "seller_custom_field": row.sku + "-RED"},
        ]
    return {
        "id": row.item_id,
        "site_id": row.site,
        "seller_id": 1001,
        "title": row.title,
        "status": row.status_before,
        "sub_status": list(row.sub_status),
        "price": 349.0,
        "currency_id": {"MLB": "BRL", "MLA": "ARS", "MLC": "CLP", "MCO": "COP"}.get(row.site, "MXN"),
        "available_quantity": 13,
        "listing_type_id": "gold_special",
        "permalink": row.permalink,
        "seller_custom_field": None if variations else row.sku,
        "variations": variations,
        "attributes": [{"id": "SELLER_SKU", "value_name": row.sku}] if row.sku and not variations else [],
    }


def _write_inputs(path: Path, run: RunRecord) -> None:
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    keys = L.header_keys()
    columns = {
        keys[L.normalise_header(cell.value)]: cell.column
        for cell in ws[L.HEADER_ROW]
        if L.normalise_header(cell.value) in keys
    }
    for row in run.rows:
        for key in ("identifier", "action", "reason", "reference"):
            value = getattr(row, key)
            if value:
                ws.cell(row.row, columns[key], value)
    wb.save(path)


def _outcome(row: ReportRow) -> Outcome:
    values: dict[str, Any] = {
        "item_id": row.item_id or None,
        "variation_id": row.variation_id,
        "site": row.site or None,
        "title": row.title or None,
        "status_before": row.status_before or None,
        "sub_status": ", ".join(row.sub_status) or None,
        "status_after": (row.verified_status or row.status_after) or None,
        "api_error": row.api_error or None,
        "request_id": row.request_ids[0] if row.request_ids else None,
        "done_at_utc": row.done_at_utc.replace(tzinfo=None) if row.done_at_utc else None,
    }
    return Outcome(row.row, row.result, row.code, row.message, "", values)


def _journal(workbook: Path, run: RunRecord) -> list[Any]:
    folder = state_dir(workbook)
    store = SnapshotStore(folder, run.run_id)
    snapshot_rows = []
    with Journal(folder / JOURNAL_NAME) as journal:
        journal.append(
            "run_start", run_id=run.run_id, stage=run.stage, workbook=workbook.name, writes=5,
            seller_id=run.seller_id, nickname=run.nickname, account_alias=run.account_alias,
            rate=run.rate_per_second,
        )  # fmt: skip
        for row in run.rows:
            attempted = row.was_written or row.result is not None and row.result.value == "FAILED"
            if not attempted:
                continue
            snap = store.ensure(item_json(row), variation_id=row.variation_id, row_number=row.row)
            if snap is not None:
                snapshot_rows.append(snap)
            op = "zero_variation" if row.variation_id is not None else _OPS[row.action]
            wid = f"w{row.row:03d}"
            journal.append(
                "intent", write_id=wid, run_id=run.run_id, row=row.row, identifier=row.identifier,
                item_id=row.item_id, op=op, variation_id=row.variation_id, site=row.site,
                status_before=row.status_before, snapshot=f"{row.item_id}.json",
            )  # fmt: skip
            if row.was_written:
                journal.append(
                    "outcome", write_id=wid, run_id=run.run_id, ok=True, code=row.code, item_id=row.item_id,
                    status_before=row.status_before, status_after=row.status_after,
                    request_id=row.request_ids[0], new_item_id=None,
                )  # fmt: skip
                journal.append(
                    "verify", write_id=wid, run_id=run.run_id, ok=True, source="read",
                    status_seen=row.verified_status, sub_status_seen=[],
                )  # fmt: skip
            else:
                journal.append(
                    "outcome", write_id=wid, run_id=run.run_id, ok=False, code=row.code, item_id=row.item_id,
                    error="ReadTimeout", message=row.message, api_error=row.api_error, request_id=None,
                )  # fmt: skip
        journal.append("run_end", run_id=run.run_id, stage=run.stage, sent=5, reconciled=0, requests=14)
    return snapshot_rows


def build_recorded_workbook(folder: Path, run: RunRecord, suffix: str = ".xlsx") -> Path:
    """Create the workbook, its rows, its journal and snapshots for ``run``; returns its path."""
    path = create_workbook(folder / f"takedown-2026-11{suffix}", "en")
    _write_inputs(path, run)
    snapshot_rows = _journal(path, run)
    book = XlsxWorkbook.open(path)
    book.write_outcomes([_outcome(row) for row in run.rows], stage="execute")
    book.write_snapshots(snapshot_rows)
    book.save()
    return path


def journal_path(workbook: Path) -> Path:
    """The journal beside ``workbook``."""
    return state_dir(workbook) / JOURNAL_NAME
