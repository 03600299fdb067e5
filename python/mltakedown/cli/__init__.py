"""The ``mltakedown`` command line.

Thin by design: every command parses its options, calls the library and renders the result.
Commands live in one module per area; each module exposes ``register(app)``.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="mltakedown",
    help="Take Mercado Libre listings down in bulk, safely, from an Excel workbook.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One module per area; each adds its commands to ``app``. Kept as names so that a module
# that fails to import names itself in the error instead of breaking every command silently.
_COMMAND_MODULES = (
    "mltakedown.cli.demo_cmd",
    "mltakedown.cli.workbook_cmd",
    "mltakedown.cli.engine_cmd",
    "mltakedown.cli.execute_cmd",
    "mltakedown.cli.report_cmd",
    "mltakedown.cli.account_cmd",
    "mltakedown.cli.sandbox_cmd",
    "mltakedown.cli.xlsm_cmd",
)


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    app()
