"""The stored plan: its input hash, its cost estimate, and where it lives.

A plan is only valid for the rows it was made from. :func:`inputs_hash` digests every input
cell of every row (row number included, so moving a row counts as a change); Execute calls
:func:`is_current` and refuses a plan whose hash no longer matches the sheet.

The plan is stored as JSON beside the workbook, in the folder it shares with the journal
(``X.xlsm`` → ``X.mltakedown/plan.json``, ARCHITECTURE.md §4), written atomically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from pathlib import Path

from mltakedown.book.ports import BookSettings, InputRow
from mltakedown.engine.gates import requests_for
from mltakedown.engine.journal import state_dir
from mltakedown.engine.model import Op, Plan, PlannedRow
from mltakedown.fileio import write_atomic
from mltakedown.meli.constants import DEFAULT_RATE, MULTIGET_MAX_IDS

PLAN_FILE = "plan.json"
HASH_VERSION = "v1"
"""Bumped if the digest recipe changes, so an old plan is never mistaken for a current one."""


def _cell(value: object) -> str:
    """A cell as a stable, type-tagged string (``1`` and ``"1"`` differ; ``1.0`` and ``1`` do not).

    Every type gets its own tag, so a cell that changes type always changes the digest: Excel
    hands out times (``03:12:00`` typed in a cell) and durations besides the declared
    :data:`~mltakedown.book.ports.CellValue` types, and Check reads them differently from text.
    """
    if value is None:
        return "n:"
    if isinstance(value, bool):
        return f"b:{value}"
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, float):
        return f"i:{int(value)}" if value.is_integer() else f"f:{value!r}"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f"d:{value.isoformat()}"
    if isinstance(value, str):
        return f"s:{value}"
    return f"{type(value).__name__}:{value!r}"


def inputs_hash(rows: Sequence[InputRow]) -> str:
    """SHA-256 over the input cells of every row, in row order (``v1:<hex>``)."""
    digest = hashlib.sha256(HASH_VERSION.encode())
    for row in sorted(rows, key=lambda r: r.row_number):
        cells = {key: _cell(value) for key, value in row.values.items()}
        record = {"row": row.row_number, "cells": cells, "formulas": sorted(row.formulas)}
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return f"{HASH_VERSION}:{digest.hexdigest()}"


def settings_hash(settings: BookSettings) -> str:
    """SHA-256 over the Settings the gates and Execute depend on (``v1:<hex>``)."""
    record = {
        "seller_id": settings.seller_id,
        "account_alias": settings.account_alias.strip(),
        "default_site": settings.default_site.strip().upper(),
        "pause_ads_with_listing": settings.pause_ads_with_listing,
    }
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode())
    return f"{HASH_VERSION}:{digest.hexdigest()}"


def settings_changed(plan: Plan, settings: BookSettings) -> bool:
    """True when the Settings the plan was made with differ from ``settings`` (old plans: never)."""
    return bool(plan.settings_hash) and plan.settings_hash != settings_hash(settings)


def is_current(plan: Plan, rows: Sequence[InputRow]) -> bool:
    """True when ``plan`` was made from exactly these rows."""
    return plan.inputs_hash == inputs_hash(rows)


def estimate_requests(rows: Sequence[PlannedRow]) -> int:
    """Requests Execute will send: every write, the fresh read before variation writes (a
    variations PUT must list every current variation), and the read-back verification (multigets
    of 20)."""
    writes = sum(requests_for(row) for row in rows)
    verified = {write.item_id for row in rows for write in row.writes}
    variation_items = {w.item_id for row in rows for w in row.writes if w.op is Op.ZERO_VARIATION}
    return (
        writes
        + math.ceil(len(verified) / MULTIGET_MAX_IDS)
        + math.ceil(len(variation_items) / MULTIGET_MAX_IDS)
    )


def estimate_seconds(requests: int, rate: float = DEFAULT_RATE) -> float:
    """How long ``requests`` take at ``rate`` requests per second (the application's budget)."""
    return round(requests / rate, 1) if rate > 0 else 0.0


def build_plan(
    rows: Sequence[PlannedRow],
    inputs: Sequence[InputRow],
    *,
    workbook: Path,
    seller_id: int | None,
    rate: float = DEFAULT_RATE,
    now: dt.datetime | None = None,
    settings: BookSettings | None = None,
) -> Plan:
    """Wrap planned rows into a :class:`Plan` with its hashes and estimates."""
    requests = estimate_requests(rows)
    return Plan(
        plan_id=uuid.uuid4().hex,
        created_at=now or dt.datetime.now(dt.UTC),
        workbook=str(workbook),
        seller_id=seller_id,
        inputs_hash=inputs_hash(inputs),
        settings_hash=settings_hash(settings) if settings is not None else "",
        rows=list(rows),
        requests_estimate=requests,
        seconds_estimate=estimate_seconds(requests, rate),
    )


def plan_path(workbook: Path) -> Path:
    """Where the plan of ``workbook`` is stored."""
    return state_dir(workbook) / PLAN_FILE


def save_plan(plan: Plan, workbook: Path) -> Path:
    """Store ``plan`` beside ``workbook`` (atomic replace); returns the file."""
    path = plan_path(workbook)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, plan.model_dump_json(indent=1))
    return path


def load_plan(path: Path) -> Plan:
    """Read a stored plan (``path`` is the plan file, or a workbook whose plan to read)."""
    if path.suffix.lower() != ".json":
        path = plan_path(path)
    return Plan.model_validate_json(path.read_text(encoding="utf-8"))
