"""What the benchmarks share: the generated listings of the sandbox, rows for them, an in-memory book.

The benchmarks run as scripts (``python3 bench/bench_execute.py``), so this folder is on
``sys.path`` and they import this module as ``_common``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mltakedown.book.memory import MemoryWorkbook
from mltakedown.book.ports import BookSettings, InputRow
from mltakedown.sandbox.seed import SELLER_A

FIRST_ROW = 5
"""The sheet row the benchmarks' rows start at."""


def generated_items(world: Any, n_rows: int) -> list[dict[str, Any]]:
    """The first ``n_rows`` listings the sandbox generated for seller A (``extra_items``)."""
    generated = [item for item in world.items.values() if "ACME-GEN-" in str(item["attributes"])]
    return generated[:n_rows]


def sku(item: dict[str, Any]) -> str:
    """The listing's SELLER_SKU attribute."""
    attributes = item["attributes"]
    assert isinstance(attributes, list)
    return next(str(a["value_name"]) for a in attributes if a["id"] == "SELLER_SKU")


def pause_rows(items: list[dict[str, Any]], by: str) -> list[InputRow]:
    """One PAUSE row per listing, keyed by item ID (``by="id"``) or by SKU (``by="sku"``)."""
    return [
        InputRow(
            FIRST_ROW + n,
            {"identifier": it["id"] if by == "id" else sku(it), "action": "PAUSE", "reason": "TRO"},
        )
        for n, it in enumerate(items)
    ]


def bench_book(folder: Path, rows: list[InputRow]) -> MemoryWorkbook:
    """An in-memory book of seller A: the benchmarks measure the API side (journal and snapshots
    are real files in ``folder``)."""
    return MemoryWorkbook(
        folder / "bench.xlsx", rows, BookSettings(seller_id=SELLER_A, account_alias="bench")
    )
