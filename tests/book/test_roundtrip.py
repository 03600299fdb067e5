"""An .xlsm with a VBA project and a ribbon survives ``check``: same VBA bytes, ribbon still linked,
user formatting, validation and extra sheets kept."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from typer.testing import CliRunner

from mltakedown.book import layout as L
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook, upgrade_workbook
from mltakedown.cli import workbook_cmd
from mltakedown.engine.check import check_rows

from .helpers import (
    RIBBON_2006,
    RIBBON_2007,
    XLSM_MAIN,
    filled_book,
    make_xlsm,
    ribbon_relationships,
    sha256,
    shipped_vba_project,
    zip_member,
)

app = typer.Typer()
workbook_cmd.register(app)  # only this area's commands: independent of the other areas' modules

ROWS = [("MLM1234567890", "PAUSE", "TRO"), ("SKU-1", "CLOSE", "TRO"), ("00123", "下架", "TRO")]


def _user_touches(path: Path) -> None:
    """What a user does to the workbook: formatting, an extra sheet, their own validation."""
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    ws["A5"].font = Font(bold=True, color="FF0000")
    ws["F6"].fill = PatternFill("solid", fgColor="00B0F0")
    notes = wb.create_sheet("My notes")
    notes["A1"] = "keep me"
    dv = DataValidation(type="whole", operator="between", formula1="1", formula2="9")
    dv.add("B1:B9")
    notes.add_data_validation(dv)
    wb.save(path)


def _xlsm(tmp_path: Path, *, ribbon14: bool) -> Path:
    xlsx = filled_book(tmp_path / "base.xlsx", ROWS)
    _user_touches(xlsx)  # before the VBA goes in: an openpyxl save would itself drop a customUI14 link
    path = make_xlsm(xlsx, tmp_path / "book.xlsm", ribbon14=ribbon14)
    xlsx.unlink()
    # The fixture is built by hand; make sure it is what it claims before testing the round trip.
    assert zip_member(path, "xl/vbaProject.bin") == shipped_vba_project()
    return path


@pytest.mark.parametrize("ribbon14", [False, True], ids=["customUI-2006", "customUI14-2007"])
def test_check_keeps_vba_ribbon_formatting_and_user_sheets(tmp_path: Path, ribbon14: bool) -> None:
    path = _xlsm(tmp_path, ribbon14=ribbon14)
    vba_hash = sha256(zip_member(path, "xl/vbaProject.bin"))
    ribbon_part = "customUI/customUI14.xml" if ribbon14 else "customUI/customUI.xml"
    ribbon = zip_member(path, ribbon_part)

    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1, result.output  # SKU-1 CLOSE lacks Confirm

    assert sha256(zip_member(path, "xl/vbaProject.bin")) == vba_hash
    assert zip_member(path, ribbon_part) == ribbon
    expected_type = RIBBON_2007 if ribbon14 else RIBBON_2006
    assert (expected_type, ribbon_part) in ribbon_relationships(path)
    assert XLSM_MAIN in zip_member(path, "[Content_Types].xml").decode()

    wb = load_workbook(path, keep_vba=True)
    ws = wb[L.SHEET_TAKEDOWN]
    assert ws["A5"].font.bold and ws["A5"].font.color.rgb == "00FF0000"
    assert ws["F6"].fill.fgColor.rgb == "0000B0F0"
    assert wb["My notes"]["A1"].value == "keep me"
    assert [str(dv.sqref) for dv in wb["My notes"].data_validations.dataValidation] == ["B1:B9"]
    assert len(ws.data_validations.dataValidation) == 3  # Action, Reason, Confirm drop-downs
    results = [ws.cell(r, [c.key for c in L.TAKEDOWN_COLUMNS].index("result") + 1).value for r in (5, 6, 7)]
    assert results == ["OK", "BLOCKED", "OK"]


def test_a_plain_openpyxl_save_drops_the_customui14_link_which_is_why_save_restores_it(
    tmp_path: Path,
) -> None:
    path = _xlsm(tmp_path, ribbon14=True)
    load_workbook(path, keep_vba=True).save(tmp_path / "plain.xlsm")
    assert ribbon_relationships(tmp_path / "plain.xlsm") == []
    assert zip_member(tmp_path / "plain.xlsm", "customUI/customUI14.xml")  # the part is kept, unlinked


def test_two_round_trips_do_not_duplicate_the_ribbon_relationship(tmp_path: Path) -> None:
    path = _xlsm(tmp_path, ribbon14=True)
    for _ in range(2):
        book = XlsxWorkbook.open(path)
        book.write_outcomes(check_rows(book.read_rows(), book.read_settings(), "en"), stage="check")
        book.save()
    assert ribbon_relationships(path) == [(RIBBON_2007, "customUI/customUI14.xml")]
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None


def test_the_xlsm_builder_output_survives_check(tmp_path: Path) -> None:
    """When the team's .xlsm builder is present, a workbook from ``new x.xlsm`` round-trips too."""
    pytest.importorskip("mltakedown.book.xlsm")
    path = create_workbook(tmp_path / "new.xlsm", "zh")
    wb = load_workbook(path, keep_vba=True)
    ws = wb[L.SHEET_TAKEDOWN]
    for offset, row in enumerate(ROWS):
        for col, value in enumerate(row, start=1):
            ws.cell(L.FIRST_DATA_ROW + offset, col, value)
    wb.save(path)
    vba_hash = sha256(zip_member(path, "xl/vbaProject.bin"))
    rels = ribbon_relationships(path)
    assert rels
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert sha256(zip_member(path, "xl/vbaProject.bin")) == vba_hash
    assert ribbon_relationships(path) == rels


def test_upgrade_keeps_vba_and_ribbon_too(tmp_path: Path) -> None:
    path = _xlsm(tmp_path, ribbon14=True)
    vba_hash = sha256(zip_member(path, "xl/vbaProject.bin"))
    report = upgrade_workbook(path)
    assert not report.changed  # already current: only the Codes sheet is refreshed
    assert sha256(zip_member(path, "xl/vbaProject.bin")) == vba_hash
    assert ribbon_relationships(path) == [(RIBBON_2007, "customUI/customUI14.xml")]
    assert [r.values["identifier"] for r in XlsxWorkbook.open(path).read_rows()] == [r[0] for r in ROWS]
