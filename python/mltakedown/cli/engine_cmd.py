"""Commands of the engine's read side: ``pull`` (live status) and ``plan`` (dry run).

Both open the workbook headless, build a client for the workbook's account (the Settings'
account alias, or ``MLTAKEDOWN_ACCESS_TOKEN``), run the stage, write the rows and the Log sheet
back and print a summary. Exit status: 0 when no row is blocked, 1 when some rows are blocked,
2 when the file cannot be used, 3 when the API cannot be reached or the account is not logged in.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mltakedown.book.errors import WorkbookError
from mltakedown.book.ports import Result
from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.engine import ops
from mltakedown.engine.calls import CallLog
from mltakedown.engine.model import StageReport
from mltakedown.meli.errors import MeliError

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_BAD_FILE = 2
EXIT_API = 3

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

FileArg = Annotated[Path, typer.Argument(help="The takedown workbook (.xlsx or .xlsm).", exists=False)]


def _summary(report: StageReport) -> Table:
    table = Table(title=f"{report.stage} · run {report.run_id}", show_header=True, header_style="bold")
    table.add_column("Result")
    table.add_column("Rows", justify="right")
    for result in Result:
        count = report.counts.get(result.value, 0)
        if count:
            table.add_row(result.value, str(count))
    table.add_row("requests", str(report.requests))
    table.add_row("seconds", f"{report.seconds:.1f}")
    return table


async def _run(stage: str, file: Path) -> StageReport:
    book = XlsxWorkbook.open(file)
    settings = book.read_settings()
    calls = CallLog(ops.new_run_id())
    async with ops.open_api(settings, calls=calls) as api:
        if stage == "pull":
            return await ops.pull(book, api, calls=calls)
        stored, report = await ops.plan(book, api, calls=calls)
        console.print(
            f"Plan {stored.plan_id}: {stored.requests_estimate} requests, "
            f"about {stored.seconds_estimate:g} s at {api.limiter.rate:g} requests/s"
        )
        return report


def _stage(stage: str, file: Path) -> None:
    try:
        report = asyncio.run(_run(stage, file))
    except WorkbookError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}")
        raise typer.Exit(EXIT_BAD_FILE) from exc
    except MeliError as exc:
        err_console.print(f"[bold red]API error:[/] {exc}")
        raise typer.Exit(EXIT_API) from exc
    console.print(_summary(report))
    console.print(report.message)
    raise typer.Exit(EXIT_BLOCKED if report.blocked else EXIT_OK)


def pull(file: FileArg) -> None:
    """Pull status (read-only): resolve every row and fill the live columns."""
    _stage("pull", file)


def plan(file: FileArg) -> None:
    """Plan (dry run): the exact write per row, or why there is none; stored beside the workbook."""
    _stage("plan", file)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("pull")(pull)
    app.command("plan")(plan)
