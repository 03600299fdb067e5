"""``mltakedown demo``: rehearse a whole takedown against the built-in sandbox."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from openpyxl import load_workbook
from rich.console import Console
from rich.table import Table

from mltakedown.book import layout as L
from mltakedown.book.ports import Result
from mltakedown.book.xlsx import find_sheet, header_columns
from mltakedown.engine.demo import DemoResult, run_demo

# Wide enough for the rows table when the output is not a terminal (CI logs, pipes).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

_STYLE = {"OK": "green", "SKIPPED": "cyan", "WARNING": "yellow", "BLOCKED": "magenta", "FAILED": "red"}


def _stage_table(result: DemoResult) -> Table:
    table = Table(title="Stages", header_style="bold")
    table.add_column("Stage")
    for r in Result:
        table.add_column(r.value, justify="right", style=_STYLE[r.value])
    table.add_column("Requests", justify="right")
    table.add_column("Seconds", justify="right")
    for report in result.reports:
        table.add_row(
            report.stage,
            *(str(report.counts.get(r.value, 0) or "") for r in Result),
            str(report.requests),
            f"{report.seconds:.1f}",
        )
    return table


def _rows_table(result: DemoResult) -> Table:
    """The rows as the workbook now shows them, read back with openpyxl (not from memory)."""
    wb = load_workbook(result.workbook, read_only=False)
    ws = find_sheet(wb, L.SHEET_TAKEDOWN)
    assert ws is not None
    cols = header_columns(ws, L.HEADER_ROW, result.workbook)
    table = Table(title=f"Rows of {result.workbook.name}", header_style="bold", show_lines=False)
    for name in ("Row", "Identifier", "Action", "Before", "After", "Result", "Code", "What it shows"):
        table.add_column(name, overflow="fold")
    for offset, row in enumerate(result.rows):
        r = result.first_row + offset

        def cell(key: str, r: int = r) -> str:
            column = cols.get(key)
            value = ws.cell(row=r, column=column).value if column else None
            return "" if value is None else str(value)

        outcome = cell("result")
        table.add_row(
            str(r),
            cell("identifier")[:34],
            cell("action"),
            cell("status_before"),
            cell("status_after"),
            f"[{_STYLE.get(outcome, 'white')}]{outcome}[/]",
            cell("code"),
            row.shows,
        )
    wb.close()
    return table


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo workbook and its records.")] = Path("demo"),
    lang: Annotated[str, typer.Option(help="Workbook language: en, es, pt or zh.")] = "en",
) -> None:
    """Rehearse a takedown end to end against the built-in sandbox (no account needed).

    Creates a workbook whose rows exercise every safety gate, serves the sandbox on 127.0.0.1 and
    runs Check → Pull status → Plan → Execute → Restore, then leaves the workbook for you to open.
    """
    result = run_demo(out, lang=lang, progress=lambda text: console.print(f"[bold]›[/] {text}"))
    console.print(_stage_table(result))
    console.print(_rows_table(result))
    console.print(f"\nOpen [bold]{result.workbook}[/] to see every row's result, message and remedy.")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the application."""
    app.command("demo")(demo)
