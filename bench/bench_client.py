"""Throughput of the API client against the sandbox: how close does a bulk run get to the limit?

Starts the sandbox on 127.0.0.1 (random port) with a 5 req/s per-application token bucket and
10% injected 5xx answers, then runs a 600-call workload of mixed reads and writes through one
``MeliClient`` whose shared limiter is set to the same 5 req/s. Prints total time, HTTP
attempts, sustained rate and its ratio to the limit (goal: >= 0.90) and the number of calls
that failed after retries (goal: 0).

Run: ``python3 bench/bench_client.py [--rate 5] [--fail-rate 0.1] [--calls 600]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from mltakedown.meli import CallRecord, ClientConfig, MeliClient, MeliError, RateLimiter
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox.seed import CLIENT_ID, SELLER_A, TOKEN_A


@dataclass
class Tally:
    """What the on_call hook saw, and what the workload saw."""

    attempts: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    calls_ok: int = 0
    calls_failed: int = 0
    failures: list[str] = field(default_factory=list)

    def on_call(self, record: CallRecord) -> None:
        self.attempts += 1
        self.statuses[str(record.status) if record.status else record.error or "transport"] += 1


def plan_workload(ids: list[str], calls: int) -> list[tuple[str, list[str]]]:
    """A mix of the engine's calls: ~30% writes, multigets, single reads, searches, counts."""
    kinds = [
        ("multiget", 2),
        ("get_item", 3),
        ("pause", 2),
        ("activate", 1),
        ("stock", 1),
        ("search_sku", 1),
    ]
    cycle = [k for k, weight in kinds for _ in range(weight)]
    plan: list[tuple[str, list[str]]] = []
    cursor = 0
    for n in range(calls):
        kind = cycle[n % len(cycle)]
        if kind == "multiget":
            chunk = [ids[(cursor + j) % len(ids)] for j in range(20)]
            cursor += 20
            plan.append((kind, chunk))
        else:
            plan.append((kind, [ids[n % len(ids)]]))
    plan[-1] = ("count", [])
    return plan


async def run_call(api: MeliClient, kind: str, args: list[str], sku_of: dict[str, str]) -> None:
    if kind == "multiget":
        await api.get_items(args)
    elif kind == "get_item":
        await api.get_item(args[0])
    elif kind == "pause":
        await api.set_item_status(args[0], "paused")
    elif kind == "activate":
        await api.set_item_status(args[0], "active")
    elif kind == "stock":
        await api.set_item_stock(args[0], 7)
    elif kind == "search_sku":
        await api.search_item_ids(SELLER_A, seller_sku=sku_of.get(args[0], "none"))
    else:
        await api.count_items(SELLER_A, status="active")


async def bench(url: str, rate: float, calls: int, concurrency: int) -> tuple[Tally, float]:
    tally = Tally()
    config = ClientConfig(api_url=url, client_id=CLIENT_ID, rate=rate)
    # Preparation (catalogue ids and SKUs) runs on its own client, outside the timing; the
    # sandbox bucket is shared, so wait afterwards until it is full again.
    async with MeliClient(config, tokens=TOKEN_A, rate=RateLimiter(rate)) as prep:
        ids = await prep.scan_item_ids(SELLER_A, status="active")
        # Only the generated load-test items (SKU ACME-GEN-…): the seeded tricky cases would
        # (rightly) refuse some writes, which is not what this benchmark measures.
        items = await prep.get_items(ids)
    sku_of = {
        r.id: r.item.seller_sku
        for r in items
        if r.item is not None and r.item.seller_sku and r.item.seller_sku.startswith("ACME-GEN-")
    }
    generated = list(sku_of)[:600]
    await asyncio.sleep(1.5)

    plan = plan_workload(generated, calls)
    queue: asyncio.Queue[tuple[str, list[str]]] = asyncio.Queue()
    for step in plan:
        queue.put_nowait(step)

    async with MeliClient(config, tokens=TOKEN_A, rate=RateLimiter(rate), on_call=tally.on_call) as api:

        async def worker() -> None:
            while not queue.empty():
                kind, args = queue.get_nowait()
                try:
                    await run_call(api, kind, args, sku_of)
                    tally.calls_ok += 1
                except MeliError as exc:
                    tally.calls_failed += 1
                    tally.failures.append(f"{kind}: {exc}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return tally, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=5.0, help="limit in requests/s (server and client)")
    parser.add_argument("--fail-rate", type=float, default=0.10, help="share of injected 5xx answers")
    parser.add_argument("--calls", type=int, default=600, help="logical calls in the workload")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent workers")
    args = parser.parse_args()
    # Each retry logs a warning; the tally below counts them instead.
    logging.getLogger("mltakedown.meli").setLevel(logging.ERROR)

    app = create_app(SandboxOptions(rate_per_second=args.rate, fail_rate=args.fail_rate, extra_items=600))
    with serve_in_thread(app) as url:
        tally, elapsed = asyncio.run(bench(url, args.rate, args.calls, args.concurrency))
    sustained = tally.attempts / elapsed
    print(f"sandbox            {url}  limit {args.rate:g} req/s, injected 5xx {args.fail_rate:.0%}")
    print(f"workload           {args.calls} calls, {args.concurrency} workers")
    print(f"calls ok / failed  {tally.calls_ok} / {tally.calls_failed}")
    print(f"HTTP attempts      {tally.attempts}  ({dict(sorted(tally.statuses.items()))})")
    print(f"429 answers        {tally.statuses.get('429', 0)}")
    print(f"total time         {elapsed:.1f} s")
    print(f"sustained rate     {sustained:.2f} req/s")
    print(f"rate / limit       {sustained / args.rate:.3f}  (goal >= 0.90)")
    for line in tally.failures[:10]:
        print(f"  failed: {line}")


if __name__ == "__main__":
    main()
