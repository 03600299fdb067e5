"""The area's commands: ``mltakedown report FILE`` and ``mltakedown verify-record FILE``."""

from __future__ import annotations

import zipfile
from pathlib import Path

import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from mltakedown.cli import report_cmd
from mltakedown.engine.journal import state_dir
from mltakedown.report.record import verify_record
from mltakedown.report.sheet import REPORT_SHEET, RUN_ID_CELL

from .report_fixtures import RUN_ID
from .report_pdftools import pdf_text


def _app() -> typer.Typer:
    # The area's own commands on a bare app (the full CLI is assembled from every area).
    app = typer.Typer()
    report_cmd.register(app)
    return app


def _snapshot(workbook: Path, item_id: str) -> Path:
    return state_dir(workbook) / "snapshots" / RUN_ID / f"{item_id}.json"


def test_cli_exit_codes(recorded: Path) -> None:
    app = _app()
    runner = CliRunner()
    ok = runner.invoke(app, ["verify-record", str(recorded)])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    _snapshot(recorded, "MLM1234567802").write_bytes(b"{}")
    bad = runner.invoke(app, ["verify-record", str(recorded)])
    assert bad.exit_code == 1
    assert "[snapshot_altered]" in bad.output and "MLM1234567802.json" in bad.output
    missing = runner.invoke(app, ["verify-record", str(recorded.with_name("nope.xlsx"))])
    assert missing.exit_code == 2


def test_report_writes_documents_and_the_report_sheet(recorded: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(_app(), ["report", str(recorded), "--lang", "zh", "--out", str(tmp_path / "docs")])
    assert result.exit_code == 0, result.output
    assert RUN_ID in result.output and "4 of 10 rows changed" in result.output
    folder = tmp_path / "docs" / RUN_ID
    pdf = folder / "confirmation-ref-TRO-2026-0147.zh.pdf"
    text = pdf_text(pdf)
    assert "MLM1234567801" in text and "商品下架确认书" in text
    assert (folder / "confirmation-ref-TRO-2026-0147.zh.xlsx").is_file()
    assert (folder / "appeals" / "MLM1234567804" / "appeal-letter-MLM1234567804.es.txt").is_file()

    wb = load_workbook(recorded)
    assert wb[REPORT_SHEET][RUN_ID_CELL].value == RUN_ID
    with zipfile.ZipFile(recorded) as archive:
        assert "xl/charts/chart1.xml" in archive.namelist()
    # The Report sheet stamps the journal: the record still verifies.
    assert verify_record(recorded) == []


def test_report_refuses_an_unknown_language(recorded: Path) -> None:
    result = CliRunner().invoke(_app(), ["report", str(recorded), "--lang", "fr"])
    assert result.exit_code != 0
    assert "fr" in result.output


def test_report_without_a_run(tmp_path: Path) -> None:
    from mltakedown.book.xlsx import create_workbook

    path = create_workbook(tmp_path / "empty.xlsx", "en")
    result = CliRunner().invoke(_app(), ["report", str(path)])
    assert result.exit_code == 2
    assert "no run" in result.output
