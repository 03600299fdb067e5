"""Every command has help text and is named in the README, so the docs cannot drift from the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mltakedown.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _command_names(application: typer.Typer) -> list[str]:
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in application.registered_commands]
    names += [g.name or "" for g in application.registered_groups]
    return sorted(n for n in names if n)


COMMANDS = _command_names(app)


def test_the_cli_has_the_commands_the_issues_name() -> None:
    expected = {"new", "check", "upgrade", "pull", "plan", "execute", "restore", "report", "verify-record"}
    expected |= {"demo", "login", "accounts", "sandbox", "build-xlsm"}
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_readme(name: str) -> None:
    assert f"mltakedown {name}" in README, f"README does not mention `mltakedown {name}`"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    usage, _, rest = result.output.partition("\n")
    assert len(rest.strip()) > 20, f"{name} --help says almost nothing"


def test_readme_quick_start_is_two_commands() -> None:
    section = README[README.index("## Quick start") :]
    block = section[
        section.index("```bash") + len("```bash") : section.index("```", section.index("```bash") + 7)
    ]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert commands == ['python3 -m pip install -e ".[test]" && mltakedown demo', "python3 -m pytest"]
