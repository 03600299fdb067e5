"""What the stage commands (``pull``, ``plan``, ``execute``, ``restore``) share: running a stage
with its errors mapped to exit statuses, and the summary table printed after it.

Exit statuses: 0 all rows fine, 1 some rows blocked (or failed), 2 the file cannot be used,
3 the API cannot be reached or the account is not logged in, 4 nothing was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from mltakedown.book.errors import WorkbookError
from mltakedown.book.ports import Result
from mltakedown.engine.model import StageReport
from mltakedown.meli.errors import MeliError

EXIT_OK = 0
EXIT_ROWS = 1
"""Some rows are blocked (or, for the write stages, failed)."""
EXIT_BAD_FILE = 2
EXIT_API = 3
EXIT_NOT_RUN = 4

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def run_stage(stage: Coroutine[Any, Any, StageReport]) -> StageReport:
    """Run ``stage`` to its report; a file that cannot be used or an unreachable API exits at once."""
    try:
        return asyncio.run(stage)
    except WorkbookError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}")
        raise typer.Exit(EXIT_BAD_FILE) from exc
    except MeliError as exc:
        err_console.print(f"[bold red]API error:[/] {exc}")
        raise typer.Exit(EXIT_API) from exc


def summary_table(report: StageReport, *, with_codes: bool = False) -> Table:
    """Rows per result (and, ``with_codes``, per code), requests and seconds of one stage run."""
    table = Table(title=f"{report.stage} · run {report.run_id}", show_header=True, header_style="bold")
    table.add_column("Result")
    table.add_column("Rows", justify="right")
    for result in Result:
        count = report.counts.get(result.value, 0)
        if count:
            table.add_row(result.value, str(count))
    if with_codes:
        for code, count in sorted(report.code_counts.items()):
            table.add_row(f"  {code}", str(count))
    table.add_row("requests", str(report.requests))
    table.add_row("seconds", f"{report.seconds:.1f}")
    return table


def finish(report: StageReport, exit_code: int, *, with_codes: bool = False) -> None:
    """Print the summary and the stage's message, then exit with ``exit_code``."""
    console.print(summary_table(report, with_codes=with_codes))
    console.print(report.message)
    raise typer.Exit(exit_code)
