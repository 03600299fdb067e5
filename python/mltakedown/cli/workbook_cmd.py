"""Commands of the workbook area: ``new``, ``check`` and ``upgrade``.

Exit status of ``check``: 0 when no row is blocked, 1 when some rows are blocked, 2 when the
file itself cannot be used (the message names the file and what is wrong).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mltakedown.book.errors import WorkbookError
from mltakedown.book.layout import SUMMARY_RESULTS
from mltakedown.book.ports import Outcome, Result
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook, upgrade_workbook
from mltakedown.codes import LANGUAGES, normalise_language, system_language
from mltakedown.engine.check import check_rows, summarise

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_BAD_FILE = 2
SHOWN_PROBLEMS = 20
"""How many blocked/warning rows ``check`` lists before saying "and N more"."""

_STYLES = {
    Result.OK: "green",
    Result.SKIPPED: "dim",
    Result.WARNING: "yellow",
    Result.BLOCKED: "red",
    Result.FAILED: "bold red",
}

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _fail(error: Exception) -> typer.Exit:
    err_console.print(f"[bold red]Error:[/] {error}")
    return typer.Exit(EXIT_BAD_FILE)


def new(
    file: Annotated[Path, typer.Argument(help="The workbook to create (.xlsx, or .xlsm with the ribbon).")],
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help=f"Language of headers and messages: {', '.join(LANGUAGES)} (default: system)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Create a new takedown workbook with every sheet, drop-down and the code list."""
    language = normalise_language(lang) if lang else system_language()
    try:
        create_workbook(file, language, overwrite=force)
    except (WorkbookError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(
        f"Created [bold]{file}[/] (language {language}). Fill the Takedown sheet, then run "
        f"[bold]mltakedown check {file.name}[/]."
    )


def check(
    file: Annotated[Path, typer.Argument(help="The takedown workbook (.xlsx or .xlsm).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print the verdicts; do not write them into the file.")
    ] = False,
) -> None:
    """Check every row offline (no network) and write result, code, message and remedy on each."""
    try:
        book = XlsxWorkbook.open(file, writable=not dry_run)
        rows = book.read_rows()
        settings = book.read_settings()
        outcomes = check_rows(rows, settings, settings.language)
        if not dry_run:
            book.write_outcomes(outcomes, stage="check")
            book.save()
    except (WorkbookError, OSError) as exc:
        raise _fail(exc) from exc
    counts = summarise(outcomes)
    _print_summary(file, counts, outcomes, written=not dry_run)
    raise typer.Exit(EXIT_BLOCKED if counts[Result.BLOCKED] else EXIT_OK)


def upgrade(file: Annotated[Path, typer.Argument(help="The workbook to migrate, in place.")]) -> None:
    """Migrate a workbook made from an older template to the current one, keeping every input."""
    try:
        report = upgrade_workbook(file)
    except (WorkbookError, OSError) as exc:
        raise _fail(exc) from exc
    if not report.changed:
        console.print(
            f"{file.name} already uses template version {report.to_version}; refreshed the Codes sheet."
        )
        return
    before = report.from_version or "none"
    if before == report.to_version:
        console.print(
            f"Brought [bold]{file.name}[/] up to date (template version {before}): {report.rows_kept} rows kept."
        )
    else:
        console.print(
            f"Upgraded [bold]{file.name}[/] from template version {before} to {report.to_version}: "
            f"{report.rows_kept} rows kept."
        )
    if report.rows_inserted:
        console.print(f"  header moved down {report.rows_inserted} row(s) to make room for the summary")
    if report.columns_added:
        console.print(f"  columns added: {', '.join(report.columns_added)}")
    if report.sheets_added:
        console.print(f"  sheets added: {', '.join(report.sheets_added)}")
    if report.colour_rules_added:
        console.print("  Result colours now come from conditional formatting (Settings: RESULT_COLOURS)")
    if report.print_setup_added:
        console.print(
            f"  print setup (landscape, one page wide) added to: {', '.join(report.print_setup_added)}"
        )


def _print_summary(
    file: Path, counts: dict[Result, int], outcomes: Sequence[Outcome], *, written: bool
) -> None:
    table = Table(title=f"Check of {file.name}", show_lines=False)
    for result in SUMMARY_RESULTS:
        table.add_column(result.value, justify="right", style=_STYLES[result])
    table.add_column("Total", justify="right", style="bold")
    table.add_row(*(str(counts[r]) for r in SUMMARY_RESULTS), str(sum(counts.values())))
    console.print(table)
    problems = [o for o in outcomes if o.result in (Result.BLOCKED, Result.WARNING)]
    if problems:
        detail = Table(show_header=True, header_style="bold")
        for name in ("Row", "Result", "Code", "Message"):
            detail.add_column(name, overflow="fold")
        for outcome in problems[:SHOWN_PROBLEMS]:
            result = outcome.result or Result.OK
            detail.add_row(
                str(outcome.row_number),
                f"[{_STYLES[result]}]{result.value}[/]",
                outcome.code,
                outcome.message,
            )
        console.print(detail)
        if len(problems) > SHOWN_PROBLEMS:
            console.print(f"… and {len(problems) - SHOWN_PROBLEMS} more; see the Takedown sheet.")
    if not outcomes:
        console.print("The Takedown sheet has no rows yet.")
    elif written:
        console.print(f"Verdicts written to {file.name}.")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("new")(new)
    app.command("check")(check)
    app.command("upgrade")(upgrade)
