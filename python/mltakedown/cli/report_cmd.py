"""Commands of the report area: ``report`` (documents + Report sheet) and ``verify-record``.

Exit status: 0 when all went well; 1 when ``verify-record`` found problems (each is listed);
2 when the file cannot be used or there is no run to report on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mltakedown.book.errors import WorkbookError
from mltakedown.report.collect import CollectError
from mltakedown.report.fonts import FontNotFoundError
from mltakedown.report.output import make_report
from mltakedown.report.record import verify_record
from mltakedown.report.sites import LANGUAGES
from mltakedown.report.texts import TemplateError
from mltakedown.report.workbook_read import WorkbookReadError

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_BAD_FILE = 2

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _languages(values: list[str] | None) -> list[str | None]:
    if not values:
        return [None]
    chosen: list[str | None] = []
    for value in values:
        for part in value.lower().split(","):
            part = part.strip()
            if part == "all":
                chosen.extend(lang for lang in LANGUAGES if lang not in chosen)
            elif part in LANGUAGES:
                if part not in chosen:
                    chosen.append(part)
            elif part:
                raise typer.BadParameter(
                    f"{part!r}: choose from {', '.join(LANGUAGES)} or all", param_hint="--lang"
                )
    return chosen


def report(
    file: Annotated[Path, typer.Argument(help="The takedown workbook a run was executed on.")],
    lang: Annotated[
        list[str] | None,
        typer.Option(
            "--lang",
            help="Document language: es, pt, en, zh or all (repeatable; default: the site's language, "
            "pt for MLB, es elsewhere).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the documents (default: beside the workbook).")
    ] = None,
    run: Annotated[str, typer.Option("--run", help="Run ID to report on (default: the latest run).")] = "",
    sheet: Annotated[
        bool, typer.Option("--sheet/--no-sheet", help="Also write the Report sheet into the workbook.")
    ] = True,
) -> None:
    """Write takedown confirmations (PDF + editable), appeal packs and the workbook's Report sheet."""
    languages = _languages(lang)
    try:
        made = make_report(file, languages=languages, out_dir=out, run_id=run, sheet=sheet)
    except (CollectError, WorkbookReadError, WorkbookError, FontNotFoundError, TemplateError, OSError) as exc:
        err_console.print(f"[bold red]Error:[/] {exc}")
        raise typer.Exit(EXIT_BAD_FILE) from exc
    record, files = made.run, made.files
    done = sum(1 for row in record.rows if row.was_written)
    console.print(
        f"Run [bold]{record.run_id}[/] ({record.stage}): {done} of {len(record.rows)} rows changed; "
        f"{len(files.confirmations)} confirmation(s), {len(files.appeals)} appeal file(s) in [bold]{files.folder}[/]"
        + ("; Report sheet written." if sheet else ".")
    )
    if files.missing_glyphs:
        err_console.print(
            "[yellow]Warning:[/] the PDF font lacks these characters (shown as ?): "
            + " ".join(sorted(files.missing_glyphs))
        )


def verify_record_command(
    file: Annotated[Path, typer.Argument(help="The takedown workbook to check.")],
) -> None:
    """Check that the workbook's outcomes, the journal and the snapshots agree (exit 1 if not)."""
    try:
        problems = verify_record(file)
    except (WorkbookReadError, OSError) as exc:
        err_console.print(f"[bold red]Error:[/] {exc}")
        raise typer.Exit(EXIT_BAD_FILE) from exc
    if not problems:
        console.print(
            f"[green]The record of {file.name} is intact:[/] workbook, journal and snapshots agree."
        )
        return
    err_console.print(f"[bold red]{len(problems)} problem(s) in the record of {file.name}:[/]")
    for problem in problems:
        err_console.print(f"  {problem}", markup=False)
    raise typer.Exit(EXIT_PROBLEMS)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("report")(report)
    app.command("verify-record")(verify_record_command)
