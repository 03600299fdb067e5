"""``mltakedown new``, ``check`` and ``upgrade`` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from mltakedown.book import layout as L
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook
from mltakedown.cli import app

runner = CliRunner()


def _fill(path: Path, rows: list[tuple[object, ...]]) -> Path:
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    for offset, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            ws.cell(L.FIRST_DATA_ROW + offset, col, value)
    wb.save(path)
    return path


def test_new_creates_a_workbook_in_the_chosen_language(tmp_path: Path) -> None:
    path = tmp_path / "takedown.xlsx"
    result = runner.invoke(app, ["new", str(path), "--lang", "es"])
    assert result.exit_code == 0, result.output
    assert XlsxWorkbook.open(path).language == "es"
    again = runner.invoke(app, ["new", str(path)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_new_defaults_to_the_system_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    path = tmp_path / "zh.xlsx"
    assert runner.invoke(app, ["new", str(path)]).exit_code == 0
    assert load_workbook(path)[L.SHEET_TAKEDOWN].cell(L.HEADER_ROW, 1).value == "标识"


def test_check_exit_status_zero_when_nothing_is_blocked(tmp_path: Path) -> None:
    path = _fill(
        create_workbook(tmp_path / "ok.xlsx", "en"), [("MLM1234567890", "PAUSE", "TRO"), (7, "PAUSE", "TRO")]
    )
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.output and "C105" in result.output
    ws = load_workbook(path)[L.SHEET_TAKEDOWN]
    assert [ws.cell(L.SUMMARY_VALUE_ROW, c).value for c in range(2, 8)] == [1, 0, 1, 0, 0, 2]


def test_check_exit_status_one_when_rows_are_blocked(tmp_path: Path) -> None:
    path = _fill(create_workbook(tmp_path / "b.xlsx", "pt"), [("MLB3868780585", "ENCERRAR", "TRO")])
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert "C113" in result.output and "ENCERRAR e EXCLUIR" in result.output


def test_check_exit_status_two_on_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"nope")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "bad.xlsx" in result.output and "not a zip" in result.output


def test_check_on_an_old_template_says_how_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Takedown"
    wb.save(path)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "mltakedown upgrade old.xlsx" in result.output.replace("\n", " ")


def test_dry_run_leaves_the_file_alone(tmp_path: Path) -> None:
    path = _fill(create_workbook(tmp_path / "d.xlsx", "en"), [("X", None, "TRO")])
    before = path.read_bytes()
    result = runner.invoke(app, ["check", str(path), "--dry-run"])
    assert result.exit_code == 1 and "C110" in result.output
    assert path.read_bytes() == before


def test_upgrade_keeps_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hand-made sheet (header in row 1, shuffled, Spanish, few columns) becomes a current workbook."""
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "pt_BR.UTF-8")  # no Settings sheet: the system language is the default
    path = tmp_path / "legacy.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Bajas"
    ws.append(["Motivo", "Identificador", "Acción", "Comentario propio"])
    data = [
        ("TRO", "MLM1234567890", "PAUSAR", "a"),
        ("Otro", "00123", "CERRAR", None),
        (None, None, None, "x"),
        ("TRO", 42, "pausar", "b"),
    ]
    for row in data:
        ws.append(list(row))
    wb.create_sheet("Mis datos")["A1"] = "keep"
    wb.save(path)

    result = runner.invoke(app, ["upgrade", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 rows kept" in result.output

    book = XlsxWorkbook.open(path)  # now passes the template check
    assert book.language == "pt"
    rows = book.read_rows()
    assert [(r.values.get("reason"), r.values.get("identifier"), r.values.get("action")) for r in rows] == [
        (r[0], r[1], r[2]) for r in data if any(r[:3])
    ]
    wb = load_workbook(path)
    assert set(L.SHEETS) <= set(wb.sheetnames) and wb["Mis datos"]["A1"].value == "keep"
    ws = wb[L.SHEET_TAKEDOWN]
    assert ws.cell(L.HEADER_ROW, 4).value == "Comentario propio"
    assert [ws.cell(L.FIRST_DATA_ROW + i, 4).value for i in range(4)] == ["a", None, "x", "b"]
    assert runner.invoke(app, ["check", str(path)]).exit_code == 1  # CERRAR without Confirm

    again = runner.invoke(app, ["upgrade", str(path)])
    assert again.exit_code == 0 and "already uses template version" in again.output


def test_upgrade_refuses_a_file_without_a_takedown_table(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    before = path.read_bytes()
    result = runner.invoke(app, ["upgrade", str(path)])
    assert result.exit_code == 2 and "Identifier and Action" in result.output
    assert path.read_bytes() == before
