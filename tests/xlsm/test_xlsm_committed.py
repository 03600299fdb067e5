"""The committed xlsm/mltakedown.xlsm is up to date with its sources (VBA, ribbon, layout)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mltakedown.book import ribbon
from mltakedown.book.vba.project import build_vba_project
from mltakedown.book.xlsm import PROJECT_ID, SOURCES_DIR, build_xlsm, reproducible_timestamp, vba_modules

from .conftest import COMMITTED_XLSM
from .vbaread import project_sections

HINT = "xlsm/mltakedown.xlsm is out of date: run `mltakedown build-xlsm` and commit the result"


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


@pytest.fixture(scope="module")
def committed() -> dict[str, bytes]:
    assert COMMITTED_XLSM.exists(), HINT
    return parts(COMMITTED_XLSM)


def test_vba_project_matches_sources(committed: dict[str, bytes]) -> None:
    vba = committed["xl/vbaProject.bin"]
    documents = [v.split("/")[0] for k, v in project_sections(vba)[""] if k == "Document"]
    assert documents[0] == "ThisWorkbook"
    rebuilt = build_vba_project(vba_modules(documents[1:]), project_id=PROJECT_ID)
    assert vba == rebuilt, HINT


def test_ribbon_matches_sources(committed: dict[str, bytes]) -> None:
    template = (SOURCES_DIR / "ribbon" / "customUI.xml").read_bytes()
    labels = ribbon.load_labels(SOURCES_DIR / "ribbon" / "labels.json")
    assert committed[ribbon.CUSTOMUI_PART] == ribbon.render_custom_ui(template, "en", labels), HINT


def test_whole_workbook_matches_a_fresh_build(
    committed: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every part equal to a fresh reproducible build (parts, not zip bytes: deflate output may vary)."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)  # the committed file uses the fixed date
    fresh = parts(build_xlsm(tmp_path / "fresh.xlsm", "en", timestamp=reproducible_timestamp()))
    assert list(fresh) == list(committed), HINT
    for name, data in fresh.items():
        assert committed[name] == data, f"{name}: {HINT}"


def test_reproducible_builds_are_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = build_xlsm(tmp_path / "a.xlsm", "en", timestamp=reproducible_timestamp())
    second = build_xlsm(tmp_path / "b.xlsm", "en", timestamp=reproducible_timestamp())
    assert first.read_bytes() == second.read_bytes()
    assert b"2026-01-01T00:00:00Z" in parts(first)["docProps/core.xml"]
