"""Builders of test workbooks: filled takedown books, an .xlsm with VBA and ribbon, a CFB file."""

from __future__ import annotations

import hashlib
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import xlwings
from openpyxl import load_workbook

from mltakedown.book import layout as L
from mltakedown.book.xlsx import create_workbook

RIBBON_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
RIBBON_2007 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
CUSTOM_UI = (
    b'<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui"><ribbon><tabs>'
    b'<tab id="t" label="ML Takedown"><group id="g" label="Run">'
    b'<button id="b" label="Check" onAction="Ribbon.OnCheck" imageMso="MacroPlay"/>'
    b"</group></tab></tabs></ribbon></customUI>"
)

Row = Sequence[object]
"""Input values in the order identifier, action, reason, reference, confirm, note."""


def filled_book(path: Path, rows: Sequence[Row], lang: str = "en") -> Path:
    """A new takedown workbook with ``rows`` typed from the first data row on."""
    create_workbook(path, lang)
    wb = load_workbook(path)
    ws = wb[L.SHEET_TAKEDOWN]
    for offset, row in enumerate(rows):
        for col, value in enumerate(row, start=1):
            ws.cell(L.FIRST_DATA_ROW + offset, col, value)
    wb.save(path)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def shipped_vba_project() -> bytes:
    """The VBA project inside xlwings' own quickstart_standalone.xlsm (a real, Excel-accepted one)."""
    source = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    return zip_member(source, "xl/vbaProject.bin")


def make_xlsm(xlsx: Path, target: Path, *, ribbon14: bool = False) -> Path:
    """Turn ``xlsx`` into an .xlsm with a VBA project and a ribbon (2006 or 2007/customUI14 form)."""
    part, rel_type = (
        ("customUI/customUI14.xml", RIBBON_2007) if ribbon14 else ("customUI/customUI.xml", RIBBON_2006)
    )
    with zipfile.ZipFile(xlsx) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    types = parts["[Content_Types].xml"].decode()
    types = types.replace(XLSX_MAIN, XLSM_MAIN)
    types = types.replace(
        "</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    parts["[Content_Types].xml"] = types.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdVba1" Type="{VBA_REL}" Target="vbaProject.bin"/></Relationships>',
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    root = parts["_rels/.rels"].decode()
    root = root.replace(
        "</Relationships>", f'<Relationship Id="rIdUi1" Type="{rel_type}" Target="{part}"/></Relationships>'
    )
    parts["_rels/.rels"] = root.encode()
    parts["xl/vbaProject.bin"] = shipped_vba_project()
    parts[part] = CUSTOM_UI
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return target


def ribbon_relationships(path: Path) -> list[tuple[str, str]]:
    """(type, target) of the package's ribbon relationships."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(zip_member(path, "_rels/.rels"))
    return [
        (rel.get("Type", ""), rel.get("Target", ""))
        for rel in root
        if rel.get("Type") in (RIBBON_2006, RIBBON_2007)
    ]


# --- A minimal compound file (OLE CFB v3) holding an "EncryptedPackage" stream ------------------

_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _NOSTREAM, _NOSTREAM, child)
        + b"\0" * 16
        + b"\0" * 4
        + b"\0" * 16
        + struct.pack("<IQ", start, size)
    )


def encrypted_package_cfb(path: Path) -> Path:
    """Write what Excel writes for a password-protected workbook: a CFB with EncryptedPackage."""
    payload = bytes(range(256)) * 16  # 4096 bytes: at the mini-stream cutoff, so in regular sectors
    data_sectors = len(payload) // 512
    fat = [_FATSECT, _END] + [3 + i for i in range(data_sectors - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    directory = (
        _dir_entry("Root Entry", 5, 1, _END, 0)
        + _dir_entry("EncryptedPackage", 2, _NOSTREAM, 2, len(payload))
        + _dir_entry("", 0, _NOSTREAM, 0, 0) * 2
    )
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 0x1000, _END, 0, _END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    assert len(header) == 512
    path.write_bytes(header + struct.pack("<128I", *fat) + directory + payload)
    return path
