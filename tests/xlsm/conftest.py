"""Fixtures of the .xlsm tests: xlwings' reference project, a small workbook made macro-enabled."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwings

from mltakedown.book.xlsm import SOURCES_DIR, make_xlsm

XLWINGS_DIR = Path(xlwings.__file__).parent
REFERENCE_XLSM = XLWINGS_DIR / "quickstart_standalone.xlsm"
COMMITTED_XLSM = SOURCES_DIR / "mltakedown.xlsm"
SHEETS = ("Takedown", "Settings", "Log", "Snapshots", "Codes", "xlwings.conf")


def vba_part(xlsm: Path | bytes) -> bytes:
    """``xl/vbaProject.bin`` of an .xlsm file (path or bytes)."""
    source = io.BytesIO(xlsm) if isinstance(xlsm, bytes) else xlsm
    with zipfile.ZipFile(source) as package:
        return package.read("xl/vbaProject.bin")


@pytest.fixture(scope="session")
def reference_vba() -> bytes:
    """The VBA project xlwings ships in quickstart_standalone.xlsm (accepted by real Excel)."""
    return vba_part(REFERENCE_XLSM)


@pytest.fixture(scope="session")
def small_xlsx() -> bytes:
    """An .xlsx with the workbook's six sheets, written by openpyxl (what the layout module uses)."""
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = SHEETS[0]
    sheet.append(["Identifier", "Action", "Reason"])
    sheet.append(["MLM123456789", "PAUSE", "TRO"])
    for name in SHEETS[1:]:
        wb.create_sheet(name)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def built_xlsm(small_xlsx: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``small_xlsx`` turned into an .xlsm by :func:`make_xlsm` (English ribbon)."""
    return make_xlsm(small_xlsx, tmp_path_factory.mktemp("xlsm") / "built.xlsm", "en")


@pytest.fixture(scope="session")
def built_vba(built_xlsm: Path) -> bytes:
    """The generated ``vbaProject.bin``."""
    return vba_part(built_xlsm)
