"""Commands of the engine's read side: ``pull`` (live status) and ``plan`` (dry run).

Both open the workbook headless, build a client for the workbook's account (the Settings'
account alias, or ``MLTAKEDOWN_ACCESS_TOKEN``), run the stage, write the rows and the Log sheet
back and print a summary. Exit status: 0 when no row is blocked, 1 when some rows are blocked,
2 when the file cannot be used, 3 when the API cannot be reached or the account is not logged in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.cli.stage_run import EXIT_OK, EXIT_ROWS, console, finish, run_stage
from mltakedown.engine import ops
from mltakedown.engine.calls import CallLog
from mltakedown.engine.model import StageReport

FileArg = Annotated[Path, typer.Argument(help="The takedown workbook (.xlsx or .xlsm).", exists=False)]


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
    report = run_stage(_run(stage, file))
    finish(report, EXIT_ROWS if report.blocked else EXIT_OK)


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
