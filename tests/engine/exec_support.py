"""Helpers for the Execute / Restore tests: an in-memory workbook, a sandbox-backed client, plans.

The client is the real :class:`MeliClient` talking to the real sandbox app (in process over
``httpx.ASGITransport``, or over loopback HTTP in the e2e tests), so the status machine, error
bodies and ``world.writes`` are the emulator's, not a fake's.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from mltakedown.book.memory import MemoryWorkbook
from mltakedown.book.ports import BookSettings, InputRow, Outcome
from mltakedown.engine import run
from mltakedown.engine.actions import parse_action
from mltakedown.engine.calls import CallLog
from mltakedown.engine.gates import plan_rows
from mltakedown.engine.model import LiveRow, Plan
from mltakedown.engine.plan import build_plan
from mltakedown.meli import ClientConfig, MeliClient, RateLimiter
from mltakedown.meli.models import Item
from mltakedown.sandbox import SandboxOptions, World, create_app
from mltakedown.sandbox.seed import SELLER_A, TOKEN_A

SANDBOX_URL = "https://api.sandbox.test"


@dataclass
class MemoryBook(MemoryWorkbook):
    """The in-memory workbook with seller A's settings, whose rows read back what the tool wrote."""

    settings: BookSettings = field(default_factory=lambda: BookSettings(seller_id=SELLER_A))

    def write_outcomes(self, outcomes: Sequence[Outcome], *, stage: str) -> None:
        super().write_outcomes(outcomes, stage=stage)
        for outcome in outcomes:
            # What the tool wrote becomes the row's outputs (as the adapters read them back).
            row = next(r for r in self.rows if r.row_number == outcome.row_number)
            row.outputs.update({k: v for k, v in outcome.values.items() if v not in (None, "")})


def input_row(
    n: int, identifier: str, action: str = "PAUSE", *, confirm: str = "", reason: str = "IP complaint"
) -> InputRow:
    values: dict[str, Any] = {"identifier": identifier, "action": action, "reason": reason}
    if confirm:
        values["confirm"] = confirm
    return InputRow(row_number=n, values=values, outputs={})


def make_book(tmp_path: Path, rows: Sequence[tuple[str, str]]) -> MemoryBook:
    """A book with ``(identifier, action)`` rows from row 2 on."""
    built = [input_row(i + 2, identifier, action) for i, (identifier, action) in enumerate(rows)]
    return MemoryBook(path=tmp_path / "takedown.xlsx", rows=built)


def close_book(tmp_path: Path, item_id: str) -> MemoryBook:
    """A book whose row 2 closes ``item_id``, confirmed (CLOSE asks for it)."""
    return MemoryBook(path=tmp_path / "t.xlsx", rows=[input_row(2, item_id, "CLOSE", confirm="yes")])


def live_row(
    row_number: int, identifier: str, item: Item | None, ad: dict[str, Any] | None = None
) -> LiveRow:
    """What Pull would report for an item-ID row (ads: ``{"id": .., "status": ..}``)."""
    if item is None:
        return LiveRow(row_number=row_number, identifier=identifier, identifier_kind="item", codes=[])
    return LiveRow(
        row_number=row_number,
        identifier=identifier,
        identifier_kind="item",
        item_id=item.id,
        site=item.site_id,
        seller_id=item.seller_id,
        title=item.title,
        status=item.status,
        sub_status=list(item.sub_status),
        tags=list(item.tags),
        available_quantity=item.available_quantity,
        variation_count=len(item.variations),
        variation_ids=[v.id for v in item.variations],
        is_full=item.is_full,
        item_json=item.model_dump(mode="json"),
        ad_group_id=(ad or {}).get("id"),
        ad_status=(ad or {}).get("status"),
    )


async def plan_for(
    api: MeliClient,
    book: MemoryBook,
    *,
    variations: dict[int, int] | None = None,
    ads: dict[str, dict[str, Any]] | None = None,
) -> Plan:
    """Pull (item IDs only) and plan the book's rows with the real gates; ``variations`` maps a row
    to the variation it names, ``ads`` an item to its ad group."""
    ids = [r.text("identifier") for r in book.rows]
    fetched = {res.id: res.item for res in await api.get_items(ids)}
    triples: list[tuple[LiveRow, str, bool]] = []
    for row in book.rows:
        ident = row.text("identifier")
        item = fetched.get(ident)
        live = live_row(row.row_number, ident, item, (ads or {}).get(ident))
        if variations and row.row_number in variations and item is not None:
            live.variation_id = variations[row.row_number]
            live.variation_quantity = next(
                v.available_quantity for v in item.variations if v.id == live.variation_id
            )
        action = parse_action(row.values.get("action"))
        triples.append((live, action.value if action else "", bool(row.values.get("confirm"))))
    planned = plan_rows(triples, settings=book.settings)
    return build_plan(planned, book.rows, workbook=book.path, seller_id=book.settings.seller_id)


@dataclass
class Harness:
    """A sandbox app and a client of it that logs every call into ``calls``."""

    app: Starlette
    api: MeliClient
    calls: CallLog

    @property
    def world(self) -> World:
        world: World = self.app.state.world
        return world

    def ok_writes(self, item_id: str | None = None) -> list[Any]:
        return [w for w in self.world.writes if w.status < 400 and (item_id is None or w.item == item_id)]


@asynccontextmanager
async def sandbox_client(**options: Any) -> AsyncIterator[Harness]:
    """The sandbox in process, and seller A's client of it (no client-side rate limit)."""
    app = create_app(SandboxOptions(**options))
    calls = CallLog()
    config = ClientConfig(api_url=SANDBOX_URL, rate=1000.0)
    async with MeliClient(
        config,
        tokens=TOKEN_A,
        transport=httpx.ASGITransport(app=app),
        on_call=calls,
        rate=RateLimiter(math.inf),
    ) as api:
        yield Harness(app, api, calls)


def yes(counts: dict[str, int]) -> bool:
    """A confirmation that always agrees."""
    return True


async def plan_and_execute(h: Harness, book: MemoryBook) -> Plan:
    """Plan ``book`` against the harness's sandbox and execute that plan, confirmed; the plan."""
    plan = await plan_for(h.api, book)
    await run.execute(book, h.api, confirm=yes, plan=plan, calls=h.calls)
    return plan
