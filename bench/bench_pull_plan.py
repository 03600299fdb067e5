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
from pathlib import Path

from _common import bench_book, generated_items, pause_rows
from mltakedown.book.ports import InputRow
from mltakedown.engine.calls import CallLog
from mltakedown.engine.model import StageReport
from mltakedown.engine.ops import plan
from mltakedown.meli import ClientConfig, MeliClient
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox.seed import TOKEN_A


async def run_once(url: str, rows: list[InputRow], rate: float, label: str, folder: Path) -> None:
    calls = CallLog(label)
    config = ClientConfig(api_url=url, client_id=f"bench-{label}", rate=rate)
    started = time.monotonic()
    async with MeliClient(config, tokens=TOKEN_A, on_call=calls) as api:
        stored, report = await plan(bench_book(folder, rows), api, calls=calls, rate=rate)
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
    generated = generated_items(app.state.world, n_rows)
    by_id = pause_rows(generated, "id")
    by_sku = pause_rows(generated, "sku")
    with serve_in_thread(app) as url, tempfile.TemporaryDirectory() as tmp:
        await run_once(url, by_id, rate, "by item ID", Path(tmp))
        await run_once(url, by_sku, rate, "by SKU", Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, default=5.0, help="requests/s (client limiter and sandbox bucket)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.rate))
