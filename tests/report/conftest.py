"""Fixtures of the report tests: the fixture run, and a workbook with its full record on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from mltakedown.report.model import RunRecord

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
