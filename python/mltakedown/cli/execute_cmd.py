"""Commands of the engine's write side: ``execute`` and ``restore``.

Both open the workbook headless, build a client for the workbook's account (``MLTAKEDOWN_API_URL``
and ``MLTAKEDOWN_ACCESS_TOKEN``, or the Settings' account alias), show what will be sent and ask
for confirmation (``--yes`` skips the question, for scripts), then run the stage and print a
summary. Exit status: 0 all rows fine, 1 some rows blocked or failed, 2 the file cannot be used,
3 the API cannot be reached, 4 nothing was sent (cancelled, another run holds the workbook, a
damaged journal).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.cli.stage_run import (
    EXIT_NOT_RUN,
    EXIT_OK,
    EXIT_ROWS,
    console,
    err_console,
    finish,
    run_stage,
)
from mltakedown.engine import ops, run
from mltakedown.engine.calls import CallLog
from mltakedown.engine.model import StageReport

FileArg = Annotated[Path, typer.Argument(help="The takedown workbook (.xlsx or .xlsm).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")]


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("What")
    table.add_column("Count", justify="right")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), str(value))
    return table


def _confirm(stage: str, assume_yes: bool) -> run.Confirm:
    def ask(counts: dict[str, int]) -> bool:
        console.print(_counts_table(f"{stage}: what will be sent", counts))
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            err_console.print("Not confirmed (no terminal to ask on); pass --yes to run unattended.")
            return False
        return typer.confirm(f"Go ahead with {stage}?", default=False)

    return ask


async def _run(stage: str, file: Path, assume_yes: bool) -> StageReport:
    book = XlsxWorkbook.open(file)
    settings = book.read_settings()
    calls = CallLog()
    async with ops.open_api(settings, calls=calls) as api:
        confirm = _confirm(stage, assume_yes)
        if stage == "execute":
            return await run.execute(book, api, confirm=confirm, calls=calls)
        return await run.restore(book, api, confirm=confirm, calls=calls)


def _stage(stage: str, file: Path, assume_yes: bool) -> None:
    report = run_stage(_run(stage, file, assume_yes))
    if not report.counts:
        err_console.print(report.message)
        raise typer.Exit(EXIT_NOT_RUN)
    finish(report, EXIT_ROWS if report.blocked or report.failed else EXIT_OK, with_codes=True)


def execute(file: FileArg, yes: YesOpt = False) -> None:
    """Execute the stored plan: snapshot, journal, write, verify; every row gets its outcome."""
    _stage("execute", file, yes)


def restore(file: FileArg, yes: YesOpt = False) -> None:
    """Restore the rows marked RESTORE: only what this tool took down, from the journal."""
    _stage("restore", file, yes)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("execute")(execute)
    app.command("restore")(restore)


def main() -> None:
    """Run these two commands on their own (``python -m mltakedown.cli.execute_cmd``)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":
    main()
