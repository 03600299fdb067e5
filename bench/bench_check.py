"""Benchmark: ``check`` on a 100,000-row workbook against a plain openpyxl load + save.

Each measurement runs in a fresh subprocess so that its peak memory (``ru_maxrss``) is its own.
Printed: wall time and peak RSS of

* ``baseline``  openpyxl ``load_workbook`` + ``save`` of the same file (the floor for any
                 openpyxl-based write-back),
* ``check``     the whole headless Check as ``mltakedown check`` runs it: preflight, streamed
                 read, check, verdicts with colours and the summary spliced into the
                 Takedown sheet's XML (every other part copied as is), atomic replace,
* ``openpyxl``  (with ``--openpyxl-path``) the same Check on the full-load openpyxl path that
                 the adapter falls back to for what the fast path does not cover,

and the ratio check / baseline (goal ≤ 1.3×). Run twice over: on a fresh workbook (verdict
columns empty, so Check adds 400,000 cells) and on an already-checked one (a re-check).

    python bench/bench_check.py [--rows 100000] [--openpyxl-path]

Reading the figures: the baseline re-serialises every cell of the workbook; Check parses the
Takedown sheet once and rewrites only that sheet's XML, so it costs less than the baseline even
though it adds four text cells per row (result, code, message, remedy). Timings vary with
machine load, so compare the columns of one run rather than runs of different days.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.book.xlsx import create_workbook


def build(path: Path, rows: int) -> None:
    """A takedown workbook with ``rows`` realistic input rows (IDs, SKUs, links, a few mistakes)."""
    create_workbook(path, "en")
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    rng = random.Random(7)
    actions = ["PAUSE", "PAUSE", "PAUSE", "CLOSE", "pausar", "下架", "RESTORE"]
    for i in range(rows):
        r = L.FIRST_DATA_ROW + i
        kind = i % 10
        if kind < 5:
            identifier: object = f"MLM{1_000_000_000 + i}"
        elif kind < 8:
            identifier = f"SKU-{i:06d}-{rng.choice('ABC')}"
        elif kind == 8:
            identifier = f"https://articulo.mercadolibre.com.mx/MLM-{2_000_000_000 + i}-producto-_JM"
        else:
            identifier = i  # a numeric SKU: warning
        ws.cell(r, 1, identifier)
        ws.cell(r, 2, actions[i % len(actions)])
        ws.cell(r, 3, "IP complaint")
        ws.cell(r, 4, f"CASE-{i // 100}")
        if i % 3 == 0:
            ws.cell(r, 5, "yes")
    wb.save(path)


def _child(mode: str, path: str) -> None:
    """Run one measurement in this process and print its figures as JSON."""
    target = Path(path)
    start = time.perf_counter()
    if mode == "baseline":
        wb = load_workbook(target)
        wb.save(target.with_name("baseline-out.xlsx"))
    else:
        from mltakedown.book.xlsx import XlsxWorkbook
        from mltakedown.engine.check import check_rows

        book = XlsxWorkbook.open(target, fast=mode == "check")
        rows = book.read_rows()
        settings = book.read_settings()
        outcomes = check_rows(rows, settings, settings.language)
        book.write_outcomes(outcomes, stage="check")
        book.save()
        if mode == "check" and book.fallback_reason is not None:
            raise SystemExit(f"the fast path was not taken: {book.fallback_reason}")
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))


def _measure(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _round(label: str, source: Path, work: Path, *, openpyxl_path: bool) -> None:
    shutil.copy(source, work / "base.xlsx")
    base = _measure("baseline", work / "base.xlsx")
    shutil.copy(source, work / "check.xlsx")
    check = _measure("check", work / "check.xlsx")
    ratio = check["seconds"] / base["seconds"]
    line = (
        f"{label:<22} baseline load+save {base['seconds']:6.2f} s {base['peak_mib']:7.0f} MiB | "
        f"check {check['seconds']:6.2f} s {check['peak_mib']:7.0f} MiB | ratio {ratio:4.2f}x"
    )
    if openpyxl_path:
        shutil.copy(source, work / "slow.xlsx")
        slow = _measure("openpyxl", work / "slow.xlsx")
        line += (
            f" | openpyxl path {slow['seconds']:6.2f} s {slow['peak_mib']:7.0f} MiB "
            f"({slow['seconds'] / base['seconds']:4.2f}x)"
        )
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--openpyxl-path", action="store_true", help="also time Check on the full-load openpyxl path"
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fresh = work / "fresh.xlsx"
        started = time.perf_counter()
        build(fresh, args.rows)
        size = fresh.stat().st_size / 1e6
        print(f"workbook: {args.rows:,} rows, {size:.1f} MB (built in {time.perf_counter() - started:.1f} s)")
        _round("fresh (no verdicts)", fresh, work, openpyxl_path=args.openpyxl_path)
        checked = work / "checked.xlsx"
        shutil.copy(work / "check.xlsx", checked)
        _round("re-check (verdicts)", checked, work, openpyxl_path=args.openpyxl_path)


if __name__ == "__main__":
    main()
