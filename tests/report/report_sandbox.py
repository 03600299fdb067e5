"""A real run to report on: a workbook of sandbox listings, planned and executed over loopback HTTP."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook
from mltakedown.engine import ops, run
from mltakedown.engine.calls import CallLog
from mltakedown.meli import ClientConfig, MeliClient, RateLimiter
from mltakedown.sandbox.seed import SELLER_A, TOKEN_A


def _columns(ws: object) -> dict[str, int]:
    keys = L.header_keys()
    return {keys[L.normalise_header(c.value)]: c.column for c in ws[L.HEADER_ROW] if c.value}  # type: ignore[index]


def sandbox_book(path: Path, rows: Sequence[tuple[str, str, str]], *, lang: str, reason: str) -> Path:
    """A new workbook of seller A with ``(identifier, action, reference)`` rows, all for ``reason``."""
    create_workbook(path, lang)
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    col = _columns(ws)
    for offset, (identifier, action, reference) in enumerate(rows):
        row = L.FIRST_DATA_ROW + offset
        ws.cell(row, col["identifier"], identifier)
        ws.cell(row, col["action"], action)
        ws.cell(row, col["reason"], reason)
        ws.cell(row, col["reference"], reference or None)
    for cells in wb[L.SHEET_SETTINGS].iter_rows(min_row=2, max_col=2):
        if cells[0].value == "SELLER_ID":
            cells[1].value = SELLER_A
    wb.save(path)
    return path


def set_actions(path: Path, actions: dict[int, str]) -> None:
    """What a user may do after a run: type another Action into some rows (by offset from the first)."""
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    col = _columns(ws)
    for offset, action in actions.items():
        ws.cell(L.FIRST_DATA_ROW + offset, col["action"], action)
    wb.save(path)


@dataclass(frozen=True, slots=True)
class Ran:
    """What :func:`plan_and_execute` did."""

    plan_run_id: str
    nickname: str
    """Seller A's nickname, as ``/users/me`` gives it."""


async def plan_and_execute(url: str, path: Path) -> Ran:
    """Plan, then Execute (confirmed) the workbook against the sandbox at ``url``, as seller A."""
    calls = CallLog()
    config = ClientConfig(api_url=url, rate=50.0)
    async with MeliClient(config, tokens=TOKEN_A, on_call=calls, rate=RateLimiter(math.inf)) as api:
        nickname = (await api.me()).nickname or ""
        _stored, planned = await ops.plan(XlsxWorkbook.open(path), api)
        await run.execute(XlsxWorkbook.open(path), api, confirm=lambda counts: True, calls=calls)
    return Ran(planned.run_id, nickname)
