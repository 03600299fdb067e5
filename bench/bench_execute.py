"""Requests per row and sustained rate of Execute: 2,000 rows PAUSE, all gates on, at 5 requests/s.

Starts the sandbox on 127.0.0.1 with ``--rows`` generated active listings of seller A and a
per-application token bucket at ``--rate`` requests/s, plans PAUSE for all of them (keyed by item
ID, or by SKU with ``--by sku``) with every gate on, then runs Execute over loopback HTTP with
the journal, snapshots and read-back verification, and prints:

* requests per row (goal ≤ 1.15; the bound is 1 write + 1/20 verification read, plus the one
  account check);
* the sustained rate against the limit (goal ≥ 90%), and how many 429s the sandbox returned;
* that every row ended OK with exactly one write per item.

Run: ``python3 bench/bench_execute.py`` (about 7 minutes at 5 requests/s), or
``python3 bench/bench_execute.py --rows 200 --rate 20`` for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import bench_book, generated_items, pause_rows
from mltakedown.engine import run
from mltakedown.engine.calls import CallLog
from mltakedown.engine.ops import plan
from mltakedown.meli import ClientConfig, MeliClient
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox.seed import TOKEN_A


def _yes(counts: dict[str, int]) -> bool:
    print(f"  confirm: {counts}")
    return True


async def main(n_rows: int, rate: float, by: str) -> None:
    app = create_app(SandboxOptions(rate_per_second=rate, extra_items=n_rows))
    world = app.state.world
    rows = pause_rows(generated_items(world, n_rows), by)
    config = ClientConfig(api_url="http://127.0.0.1", client_id=f"bench-execute-{by}", rate=rate)
    with serve_in_thread(app) as url, tempfile.TemporaryDirectory() as tmp:
        config = ClientConfig(api_url=url, client_id=config.client_id, rate=rate)
        book = bench_book(Path(tmp), rows)
        started = time.monotonic()
        async with MeliClient(config, tokens=TOKEN_A) as api:
            stored, _ = await plan(book, api, rate=rate)
        print(
            f"plan: {time.monotonic() - started:.1f} s; execute estimate {stored.requests_estimate} requests"
        )
        await asyncio.sleep(1.0)  # the sandbox's bucket refills; the execute run starts from rest
        writes_before = len(world.writes)
        calls = CallLog()
        started = time.monotonic()
        async with MeliClient(config, tokens=TOKEN_A, on_call=calls) as api:
            report = await run.execute(book, api, confirm=_yes, plan=stored, calls=calls)
        seconds = time.monotonic() - started
    statuses: Counter[int | None] = Counter(entry.status for entry in calls.entries)
    writes = world.writes[writes_before:]
    per_item = Counter(w.item for w in writes if w.status < 400)
    span = (calls.last_at - calls.first_at).total_seconds() if calls.first_at and calls.last_at else seconds
    # Request starts are 1/rate apart: n requests span n - 1 intervals.
    sustained = (calls.requests - 1) / span if span else 0.0
    print(
        f"execute ({'item ID' if by == 'id' else 'SKU'}): {n_rows} rows, {report.requests} requests "
        f"= {report.requests / n_rows:.4f} requests/row (goal ≤ 1.15)"
    )
    print(
        f"  {seconds:.1f} s wall, {span:.1f} s from first to last request; sustained {sustained:.2f} req/s "
        f"= {sustained / rate:.1%} of the {rate:g}/s limit (goal ≥ 90%)"
    )
    print(f"  HTTP statuses: {dict(sorted(statuses.items(), key=lambda kv: kv[0] or 0))}")
    print(f"  rows: {report.counts}; codes: {report.code_counts}")
    print(
        f"  items written once: {sum(1 for n in per_item.values() if n == 1)}, "
        f"more than once: {sum(1 for n in per_item.values() if n > 1)}; snapshots {len(book.snapshots)}, "
        f"log entries {len(book.log)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument(
        "--rate", type=float, default=5.0, help="requests/s (client limiter and sandbox bucket)"
    )
    parser.add_argument("--by", choices=("id", "sku"), default="id", help="key the rows by item ID or by SKU")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.rate, args.by))
