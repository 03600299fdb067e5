"""The .xlsm package: content types, code names, the ribbon part and relationship, openpyxl saves."""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook

from mltakedown.book import ribbon
from mltakedown.book.vba.project import ModuleKind, VbaModule
from mltakedown.book.xlsm import (
    SOURCES_DIR,
    _module_from_xlsm,
    _set_sheet_codename,
    _set_workbook_codename,
    make_xlsm,
)

from .conftest import REFERENCE_XLSM, SHEETS, vba_part
from .vbaread import module_source, project_sections

CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CUI = "{" + ribbon.CUSTOMUI_NS + "}"


def read(path: Path, part: str) -> bytes:
    with zipfile.ZipFile(path) as package:
        return package.read(part)


@contextlib.contextmanager
def load_vba_workbook(path: Path) -> Iterator[Workbook]:
    """``load_workbook(keep_vba=True)``, closing the zip openpyxl keeps open for the VBA parts."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    try:
        yield wb
    finally:
        wb.vba_archive.close()


def ribbon_rels(path: Path) -> list[ET.Element]:
    root = ET.fromstring(read(path, "_rels/.rels"))
    return [rel for rel in root if "ui/extensibility" in rel.get("Type", "")]


def test_content_types_and_vba_relationship(built_xlsm: Path) -> None:
    types = ET.fromstring(read(built_xlsm, "[Content_Types].xml"))
    overrides = {e.get("PartName"): e.get("ContentType") for e in types.iter(f"{CT}Override")}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    defaults = {e.get("Extension"): e.get("ContentType") for e in types.iter(f"{CT}Default")}
    assert defaults["xml"] == "application/xml"  # covers customUI/customUI.xml
    rels = ET.fromstring(read(built_xlsm, "xl/_rels/workbook.xml.rels"))
    vba = [
        r
        for r in rels
        if r.get("Type") == "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
    ]
    assert [r.get("Target") for r in vba] == ["vbaProject.bin"]
    assert len({r.get("Id") for r in rels}) == len(rels)


def test_code_names_match_document_modules(built_xlsm: Path) -> None:
    with load_vba_workbook(built_xlsm) as wb:
        assert wb.sheetnames == list(SHEETS)
        assert wb.code_name == "ThisWorkbook"
        codenames = [ws.sheet_properties.codeName for ws in wb.worksheets]
    assert codenames == [f"Sheet{i}" for i in range(1, len(SHEETS) + 1)]
    documents = [v.split("/")[0] for k, v in project_sections(vba_part(built_xlsm))[""] if k == "Document"]
    assert documents == ["ThisWorkbook", *codenames]


def test_ribbon_part_and_2006_relationship(built_xlsm: Path) -> None:
    rels = ribbon_rels(built_xlsm)
    assert [(r.get("Type"), r.get("Target")) for r in rels] == [
        (ribbon.CUSTOMUI_REL_TYPE, ribbon.CUSTOMUI_PART)
    ]
    root = ET.fromstring(read(built_xlsm, ribbon.CUSTOMUI_PART))
    assert root.tag == f"{CUI}customUI"
    tab = root.find(f"{CUI}ribbon/{CUI}tabs/{CUI}tab")
    assert tab is not None and tab.get("label") == "ML Takedown"
    buttons = [b.get("label") for b in root.iter(f"{CUI}button")]
    assert buttons == ["Check", "Pull status", "Plan", "Execute", "Restore", "Report", "Help"]
    assert all(b.get("imageMso") for b in root.iter(f"{CUI}button"))


def test_every_on_action_names_a_public_ribbon_callback(built_xlsm: Path) -> None:
    source = (SOURCES_DIR / "vba" / "MLTakedownRibbon.bas").read_text(encoding="cp1252")
    module = re.search(r'Attribute VB_Name = "(\w+)"', source)
    assert module is not None
    subs = set(re.findall(r"^Public Sub (\w+)\(control As IRibbonControl\)\r?$", source, re.M))
    root = ET.fromstring(read(built_xlsm, ribbon.CUSTOMUI_PART))
    actions = [e.get("onAction") for e in root.iter() if e.get("onAction")]
    assert len(actions) == 7
    for action in actions:
        assert action is not None
        name = action.removeprefix(module.group(1) + ".")
        assert name in subs, action
    # Each callback is one RunPython line into mltakedown.excel -- no logic in VBA.
    ops = re.findall(r'RunPython "import mltakedown\.excel as x; x\.(\w+)\(\)"', source)
    assert ops == ["check", "pull", "plan", "execute", "restore", "report", "help_"]


def test_ribbon_survives_openpyxl_round_trip(built_xlsm: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.xlsm"
    with load_vba_workbook(built_xlsm) as wb:
        wb["Takedown"]["D2"] = "written by the headless adapter"
        wb.save(saved)
    assert [(r.get("Type"), r.get("Target")) for r in ribbon_rels(saved)] == [
        (ribbon.CUSTOMUI_REL_TYPE, ribbon.CUSTOMUI_PART)
    ]
    assert read(saved, ribbon.CUSTOMUI_PART) == read(built_xlsm, ribbon.CUSTOMUI_PART)
    assert vba_part(saved) == vba_part(built_xlsm)
    with load_vba_workbook(saved) as again:
        assert [ws.sheet_properties.codeName for ws in again.worksheets][:1] == ["Sheet1"]


@pytest.mark.parametrize("lang", ["es", "pt", "zh"])
def test_ribbon_labels_per_language(lang: str, small_xlsx: bytes, tmp_path: Path) -> None:
    out = make_xlsm(small_xlsx, tmp_path / f"{lang}.xlsm", lang)
    root = ET.fromstring(read(out, ribbon.CUSTOMUI_PART))
    labels = ribbon.load_labels(SOURCES_DIR / "ribbon" / "labels.json")[lang]
    for element in root.iter():
        if element.get("id") in labels:
            assert element.get("label") == labels[element.get("id", "")][0]
    actions = sorted(e.get("onAction", "") for e in root.iter(f"{CUI}button"))
    english = ET.fromstring(
        ribbon.render_custom_ui((SOURCES_DIR / "ribbon" / "customUI.xml").read_bytes(), "en", {})
    )
    assert actions == sorted(e.get("onAction", "") for e in english.iter(f"{CUI}button"))


def test_ribbon_rejects_unknown_language_and_ids() -> None:
    template = (SOURCES_DIR / "ribbon" / "customUI.xml").read_bytes()
    with pytest.raises(ValueError, match="unknown ribbon language"):
        ribbon.render_custom_ui(template, "fr", {})
    with pytest.raises(ValueError, match="unknown control ids"):
        ribbon.render_custom_ui(template, "es", {"es": {"btnGone": ("x", None)}})


def test_make_xlsm_is_deterministic_and_replaces_existing_parts(built_xlsm: Path, tmp_path: Path) -> None:
    again = make_xlsm(built_xlsm, tmp_path / "again.xlsm")
    assert again.read_bytes() == make_xlsm(built_xlsm.read_bytes(), tmp_path / "third.xlsm").read_bytes()
    with zipfile.ZipFile(again) as package:
        names = package.namelist()
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in package.infolist())
    assert names.count("xl/vbaProject.bin") == 1 and names[0] == "[Content_Types].xml"
    assert vba_part(again) == vba_part(built_xlsm)
    assert len(ribbon_rels(again)) == 1
    rels = ET.fromstring(read(again, "xl/_rels/workbook.xml.rels"))
    assert sum(1 for r in rels if r.get("Target") == "vbaProject.bin") == 1


def test_existing_code_names_are_kept(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "Data"
    first.sheet_properties.codeName = "Sheet2"
    wb.create_sheet("Other")
    buffer = io.BytesIO()
    wb.save(buffer)
    out = make_xlsm(buffer.getvalue(), tmp_path / "codes.xlsm")
    with load_vba_workbook(out) as loaded:
        assert [ws.sheet_properties.codeName for ws in loaded.worksheets] == ["Sheet2", "Sheet1"]


def test_code_names_inserted_where_the_schema_wants_them() -> None:
    sheet = b'<worksheet xmlns="urn:main"><dimension ref="A1"/></worksheet>'
    assert _set_sheet_codename(sheet, "Sheet3") == (
        b'<worksheet xmlns="urn:main"><sheetPr codeName="Sheet3"/><dimension ref="A1"/></worksheet>'
    )
    prefixed = b'<x:worksheet xmlns:x="urn:main"><x:sheetPr codeName="Old" filterMode="1"/></x:worksheet>'
    assert _set_sheet_codename(prefixed, "Sheet1") == (
        b'<x:worksheet xmlns:x="urn:main"><x:sheetPr codeName="Sheet1" filterMode="1"/></x:worksheet>'
    )
    book = b'<workbook xmlns="urn:main"><fileVersion appName="xl"/><bookViews/></workbook>'
    assert _set_workbook_codename(book) == (
        b'<workbook xmlns="urn:main"><fileVersion appName="xl"/><workbookPr codeName="ThisWorkbook"/>'
        b"<bookViews/></workbook>"
    )
    bare = b'<workbook xmlns="urn:main"><sheets/></workbook>'
    assert _set_workbook_codename(bare) == (
        b'<workbook xmlns="urn:main"><workbookPr codeName="ThisWorkbook"/><sheets/></workbook>'
    )


def test_missing_sources_give_a_clear_error(small_xlsx: bytes, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="source checkout"):
        make_xlsm(small_xlsx, tmp_path / "x.xlsm", sources=tmp_path / "nowhere")


def test_dictionary_can_be_read_from_the_shipped_template(reference_vba: bytes) -> None:
    """The fallback used if an xlwings release stops shipping Dictionary.cls as text."""
    assert _module_from_xlsm(REFERENCE_XLSM, "Dictionary") == module_source(reference_vba, "Dictionary")


def test_class_sources_need_a_name() -> None:
    with pytest.raises(ValueError, match="VB_Name"):
        VbaModule.from_cls("VERSION 1.0 CLASS\r\nBEGIN\r\nEND\r\nOption Explicit\r\n")
    module = VbaModule.from_cls('Attribute VB_Name = "Plain"\r\nOption Explicit\r\n')
    assert module.kind is ModuleKind.CLASS
    assert module.source.startswith('Attribute VB_Name = "Plain"\r\nAttribute VB_Base = "0{FCFB3D2A-')
    assert module.source.endswith("Option Explicit\r\n")


def test_extension_workbook_pr_is_not_mistaken_for_the_main_one() -> None:
    book = (
        b'<workbook xmlns="urn:main" xmlns:x14="urn:x14"><sheets/><extLst><ext>'
        b'<x14:workbookPr defaultImageDpi="32767"/></ext></extLst></workbook>'
    )
    out = _set_workbook_codename(book)
    assert out.startswith(
        b'<workbook xmlns="urn:main" xmlns:x14="urn:x14"><workbookPr codeName="ThisWorkbook"/>'
    )
    assert b'<x14:workbookPr defaultImageDpi="32767"/>' in out
