"""Requests per row of Pull + Plan (the read side) for 2,000 rows by item ID and 2,000 by SKU.

Starts the sandbox on 127.0.0.1 with ``extra_items`` generated listings for seller A (each with
its own SELLER_SKU) and a per-application token bucket at ``--rate`` requests/s, then plans
PAUSE for every generated listing twice: once keyed by item ID, once by SKU. For each it prints
the HTTP requests Plan made (the account check, resolution, multiget, orders, shipments, ads,
questions), requests per row, wall time, the sustained rate against the limit, and the write
requests the stored plan estimates for Execute (per row, the design's bound is 1 write + 1/20
verification read).

The SKU run shows the search-or-scan choice at work: 2,000 SKU searches would cost 2,000+
requests; one catalogue scan plus multigets costs about 125.

Run: ``python3 bench/bench_pull_plan.py [--rows 2000] [--rate 5]`` (at 5 requests/s each run
takes about half a minute; ``--rate 50`` for a quick look).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mltakedown.book.ports import BookSettings, InputRow
from mltakedown.engine.calls import CallLog
from mltakedown.engine.model import StageReport
from mltakedown.engine.ops import plan
from mltakedown.meli import ClientConfig, MeliClient
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox.seed import SELLER_A, TOKEN_A


@dataclass
class Book:
    """A minimal in-memory WorkbookPort: the bench measures the API side, not the file."""

    folder: Path
    rows: list[InputRow]

    @property
    def path(self) -> Path:
        return self.folder / "bench.xlsx"

    @property
    def language(self) -> str:
        return "en"

    def read_rows(self) -> list[InputRow]:
        return self.rows

    def read_settings(self) -> BookSettings:
        return BookSettings(seller_id=SELLER_A, account_alias="bench")

    def write_outcomes(self, outcomes: object, *, stage: str) -> None:
        pass

    def append_log(self, entries: object) -> None:
        pass

    def write_snapshots(self, snapshots: object) -> None:
        pass

    def save(self) -> None:
        pass


async def run_once(url: str, rows: list[InputRow], rate: float, label: str, folder: Path) -> None:
    calls = CallLog(label)
    config = ClientConfig(api_url=url, client_id=f"bench-{label}", rate=rate)
    started = time.monotonic()
    async with MeliClient(config, tokens=TOKEN_A, on_call=calls) as api:
        stored, report = await plan(Book(folder, rows), api, calls=calls, rate=rate)
    seconds = time.monotonic() - started
    paths: Counter[str] = Counter(_route(entry.path) for entry in calls.entries)
    _print(label, len(rows), report, seconds, rate, paths)
    print(
        f"  execute estimate: {stored.requests_estimate} requests "
        f"({stored.requests_estimate / len(rows):.3f}/row), ~{stored.seconds_estimate:g} s at {rate:g}/s"
    )


def _route(path: str) -> str:
    bare = path.split("?", 1)[0]
    for prefix in ("/items", "/users/me", "/orders", "/shipments", "/advertising", "/my/", "/questions"):
        if bare.startswith(prefix):
            return prefix.strip("/")
    return "search" if "/items/search" in bare else bare


def _print(label: str, n: int, report: StageReport, seconds: float, rate: float, paths: Counter[str]) -> None:
    sustained = report.requests / seconds if seconds else 0.0
    print(f"{label}: {n} rows, {report.requests} requests = {report.requests / n:.4f} requests/row")
    print(
        f"  {seconds:.1f} s, sustained {sustained:.2f} req/s = {sustained / rate:.0%} of the {rate:g}/s limit"
    )
    print(f"  by endpoint: {dict(sorted(paths.items()))}")
    print(f"  rows: {report.counts}")


async def main(n_rows: int, rate: float) -> None:
    app = create_app(SandboxOptions(rate_per_second=rate, extra_items=n_rows))
    world = app.state.world
    generated = [item for item in world.items.values() if "ACME-GEN-" in str(item["attributes"])]
    generated = generated[:n_rows]
    by_id = [
        InputRow(5 + n, {"identifier": it["id"], "action": "PAUSE", "reason": "TRO"})
        for n, it in enumerate(generated)
    ]
    by_sku = [
        InputRow(5 + n, {"identifier": _sku(it), "action": "PAUSE", "reason": "TRO"})
        for n, it in enumerate(generated)
    ]
    with serve_in_thread(app) as url, tempfile.TemporaryDirectory() as tmp:
        await run_once(url, by_id, rate, "by item ID", Path(tmp))
        await run_once(url, by_sku, rate, "by SKU", Path(tmp))


def _sku(item: dict[str, object]) -> str:
    attributes = item["attributes"]
    assert isinstance(attributes, list)
    return next(str(a["value_name"]) for a in attributes if a["id"] == "SELLER_SKU")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, default=5.0, help="requests/s (client limiter and sandbox bucket)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.rate))
