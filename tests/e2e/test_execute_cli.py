"""``mltakedown execute FILE [--yes]`` and ``mltakedown restore FILE [--yes]`` against the sandbox
over loopback HTTP, with the account given by ``MLTAKEDOWN_API_URL`` / ``MLTAKEDOWN_ACCESS_TOKEN``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mltakedown.codes import Code
from mltakedown.sandbox import SandboxOptions, World, create_app, serve_in_thread
from mltakedown.sandbox.seed import TOKEN_A, TRICKY

from .test_execute_restore import _book, _outputs, _plan, _set_actions

pytestmark = pytest.mark.slow


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    app = create_app(SandboxOptions())
    with serve_in_thread(app) as url:
        monkeypatch.setenv("MLTAKEDOWN_API_URL", url)
        monkeypatch.setenv("MLTAKEDOWN_ACCESS_TOKEN", TOKEN_A)
        monkeypatch.setenv("MLTAKEDOWN_RATE", "50")
        yield app.state.world


def _app() -> typer.Typer:
    from mltakedown.cli import execute_cmd

    app = typer.Typer()
    execute_cmd.register(app)
    return app


def test_execute_asks_first_and_restore_undoes_it(tmp_path: Path, served: World) -> None:
    item_id = TRICKY["active_mlm"]
    path = _book(tmp_path / "cli.xlsx", [(item_id, "PAUSE")])
    import os

    asyncio.run(_plan(path, os.environ["MLTAKEDOWN_API_URL"]))
    runner = CliRunner()
    declined = runner.invoke(_app(), ["execute", str(path)], input="n\n")
    assert declined.exit_code == 4, declined.output
    assert not served.writes and "pause" in declined.output

    done = runner.invoke(_app(), ["execute", str(path), "--yes"])
    assert done.exit_code == 0, done.output
    assert served.items[item_id]["status"] == "paused"
    assert next(iter(_outputs(path).values()))["code"] == Code.DONE.value

    _set_actions(path, "RESTORE")
    back = runner.invoke(_app(), ["restore", str(path), "--yes"])
    assert back.exit_code == 0, back.output
    assert served.items[item_id]["status"] == "active"
    assert next(iter(_outputs(path).values()))["code"] == Code.RESTORED.value
