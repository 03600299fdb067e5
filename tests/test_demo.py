"""The README's main job: ``mltakedown demo`` runs every stage against the sandbox over loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.book.xlsx import find_sheet, header_columns
from mltakedown.engine.demo import DemoResult, demo_rows, run_demo
from mltakedown.sandbox import seed as S


def _cells(result: DemoResult) -> dict[str, dict[str, object]]:
    """Each row's cells by identifier-ish key, read back from the file with openpyxl."""
    wb = load_workbook(result.workbook)
    ws = find_sheet(wb, L.SHEET_TAKEDOWN)
    assert ws is not None
    cols = header_columns(ws, L.HEADER_ROW, result.workbook)
    rows: dict[str, dict[str, object]] = {}
    for offset, row in enumerate(result.rows):
        r = result.first_row + offset
        rows[row.shows] = {key: ws.cell(row=r, column=c).value for key, c in cols.items()}
    return rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("demo"))


def test_demo_runs_every_stage(demo: DemoResult) -> None:
    assert [r.stage for r in demo.reports] == ["check", "pull", "plan", "execute", "restore"]
    execute = demo.reports[3]
    assert execute.counts.get("FAILED", 0) == 0
    assert demo.reports[4].counts.get("OK", 0) == len(demo.restored_rows)


def test_every_row_has_an_outcome(demo: DemoResult) -> None:
    for shows, cells in _cells(demo).items():
        assert cells["result"] in {"OK", "SKIPPED", "WARNING", "BLOCKED", "FAILED"}, shows
        assert cells["code"], shows
        assert cells["message"], shows


@pytest.mark.parametrize(
    ("shows_prefix", "result", "code"),
    [
        ("a plain pause on Brazil", "OK", "X300"),
        ("a permalink and a Spanish action word", "OK", "X300"),
        ("a SKU on two listings", "BLOCKED", "L204"),
        ("another seller's item", "BLOCKED", "L202"),
        ("under review by Mercado Libre", "BLOCKED", "L207"),
        ("unshipped paid orders block a close", "BLOCKED", "L208"),
        ("already paused", "SKIPPED", "L213"),
        ("closed is final", "BLOCKED", "L215"),
        ("DELETE without Confirm", "BLOCKED", "C113"),
        ("a catalogue page", "BLOCKED", "C108"),
        ("an action the tool does not know", "BLOCKED", "C111"),
        ("full-width ID", "OK", "X300"),
        ("the same row twice", "SKIPPED", "C114"),
        # Restored rows end with the restore stage's verdict.
        ("pause; its active ad", "OK", "X311"),
        ("one variation's SKU", "OK", "X311"),
        ("a confirmed close", "OK", "L223"),
    ],
)
def test_gate_verdicts(demo: DemoResult, shows_prefix: str, result: str, code: str) -> None:
    rows = _cells(demo)
    [cells] = [c for shows, c in rows.items() if shows.startswith(shows_prefix)]
    assert (cells["result"], cells["code"]) == (result, code), cells["message"]


def test_relisted_row_gets_the_new_item_id(demo: DemoResult) -> None:
    [cells] = [c for shows, c in _cells(demo).items() if shows.startswith("a confirmed close")]
    new_id = str(cells["new_item_id"] or "")
    assert new_id.startswith("MLC") and new_id != S.TRICKY["active_mlc"]


def test_demo_rows_cover_the_gates() -> None:
    shows = [row.shows for row in demo_rows()]
    assert len(shows) == len(set(shows)), "each demo row shows one thing"


def test_console_script_runs_the_demo(tmp_path: Path) -> None:
    """The README's first command, as a user runs it (the installed console script)."""
    script = Path(sys.executable).with_name("mltakedown")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mltakedown"]
    done = subprocess.run(
        [*command, "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Stages" in done.stdout and "restore" in done.stdout
    assert list(tmp_path.glob("mltakedown-demo-*.xlsx"))


def test_the_execute_report_states_the_execute_runs_facts_after_restore(demo: DemoResult) -> None:
    """The demo reports the Execute run after Restore rewrote the restored rows: the confirmation
    still gives the take-down's own status before/after and request IDs, not the restore's."""
    assert demo.report is not None
    record = demo.report.run
    assert record.run_id == demo.reports[3].run_id and record.stage == "execute"
    restore_ids = set(demo.reports[4].run_id.split())
    by_item = {row.item_id: row for row in record.rows}
    paused = by_item[S.TRICKY["active_mlm"]]
    assert (paused.action, paused.status_before, paused.status_after) == ("PAUSE", "active", "paused")
    assert paused.code == "X300" and paused.was_written
    closed = by_item[S.TRICKY["active_mlc"]]
    assert (closed.status_before, closed.status_after, closed.new_item_id) == ("active", "closed", "")
    journal = demo.workbook.parent / f"{demo.workbook.stem}.mltakedown" / "journal.jsonl"
    restore_requests = {
        str(entry.get("request_id"))
        for entry in map(json.loads, journal.read_text(encoding="utf-8").splitlines())
        if entry.get("run_id") in restore_ids and entry.get("request_id")
    }
    assert restore_requests
    for row in record.rows:
        assert not set(row.request_ids) & restore_requests, row.row


def test_the_report_counts_only_the_execute_runs_requests(demo: DemoResult) -> None:
    """The Report sheet's request budget is the run's own, not Pull's and Plan's added to it."""
    assert demo.report is not None
    execute = demo.reports[3]
    assert 0 < demo.report.run.requests_used == execute.requests


def test_demo_without_a_cjk_font_still_runs_and_says_why_no_pdfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltakedown.report import fonts

    monkeypatch.setattr(fonts, "_known_fonts", lambda: [tmp_path / "no-such-font.ttc"])
    monkeypatch.delenv(fonts.CJK_FONT_ENV, raising=False)
    said: list[str] = []
    result = run_demo(tmp_path / "demo", progress=said.append)
    assert [r.stage for r in result.reports] == ["check", "pull", "plan", "execute", "restore"]
    assert any("Confirmation documents skipped" in line and "fonts-noto-cjk" in line for line in said)
    assert result.report is not None and result.report.sheet_written
    assert not result.report.files.confirmations
