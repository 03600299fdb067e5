"""``mltakedown build-xlsm``, registered on a bare Typer app (the command module on its own)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import typer
from typer.testing import CliRunner

from mltakedown.book import ribbon
from mltakedown.cli import xlsm_cmd


def make_app() -> typer.Typer:
    app = typer.Typer()
    xlsm_cmd.register(app)

    @app.callback()
    def main() -> None:
        """Keep build-xlsm a named subcommand, as in the real CLI."""

    return app


def test_build_xlsm_writes_a_workbook_in_the_language(tmp_path: Path) -> None:
    out = tmp_path / "es.xlsm"
    result = CliRunner().invoke(make_app(), ["build-xlsm", "--out", str(out), "--lang", "es"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    with zipfile.ZipFile(out) as package:
        assert "xl/vbaProject.bin" in package.namelist()
        assert 'label="Revisar"' in package.read(ribbon.CUSTOMUI_PART).decode("utf-8")


def test_build_xlsm_rejects_an_unknown_language(tmp_path: Path) -> None:
    result = CliRunner().invoke(make_app(), ["build-xlsm", "--out", str(tmp_path / "x.xlsm"), "--lang", "fr"])
    assert result.exit_code != 0
    assert not (tmp_path / "x.xlsm").exists()
