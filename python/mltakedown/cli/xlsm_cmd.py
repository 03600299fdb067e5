"""Commands of the xlsm area: build the macro-enabled workbook from its sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mltakedown.book.ribbon import LANGUAGES
from mltakedown.book.xlsm import SOURCES_DIR, build_xlsm, reproducible_timestamp


def build_xlsm_command(
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the workbook.", dir_okay=False)
    ] = SOURCES_DIR / "mltakedown.xlsm",
    lang: Annotated[str, typer.Option("--lang", help=f"Workbook language: {', '.join(LANGUAGES)}.")] = "en",
    reproducible: Annotated[
        bool,
        typer.Option(
            "--reproducible/--current-time",
            help="Pin the document dates (SOURCE_DATE_EPOCH or a fixed date) so rebuilds are byte-identical.",
        ),
    ] = True,
) -> None:
    """Build mltakedown.xlsm (layout, VBA project, ribbon) from the sources in xlsm/."""
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"expected one of {', '.join(LANGUAGES)}", param_hint="--lang")
    path = build_xlsm(out, lang, timestamp=reproducible_timestamp() if reproducible else None)
    typer.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("build-xlsm")(build_xlsm_command)
