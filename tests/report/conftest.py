"""Fixtures of the report tests: the fixture run, a workbook with its full record on disk, and a
sandbox served over loopback HTTP for real runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mltakedown.report.model import RunRecord
from mltakedown.sandbox import SandboxOptions, World, create_app, serve_in_thread

from .report_fixtures import make_run
from .report_recorded import build_recorded_workbook


@pytest.fixture
def run() -> RunRecord:
    """The fixture run (seller ACME_CN, complaint TRO-2026-0147 and three reasons)."""
    return make_run()


@pytest.fixture
def recorded(tmp_path: Path, run: RunRecord) -> Path:
    """A workbook whose rows, journal and snapshots record ``run``."""
    return build_recorded_workbook(tmp_path, run)


@pytest.fixture
def served() -> Iterator[tuple[str, World]]:
    """A fresh sandbox on 127.0.0.1: its URL and its world."""
    app = create_app(SandboxOptions())
    with serve_in_thread(app) as url:
        yield url, app.state.world
