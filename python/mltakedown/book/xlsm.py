"""Turn an ``.xlsx`` into the macro-enabled ``mltakedown.xlsm``: VBA project, ribbon, code names.

:func:`make_xlsm` post-processes the zip package that :mod:`mltakedown.book.xlsx` writes:

* ``xl/vbaProject.bin`` is generated from source (:mod:`mltakedown.book.vba`) with the document
  modules ``ThisWorkbook`` and one per sheet code name, our ribbon module, and xlwings'
  ``xlwings.bas`` and ``Dictionary.cls`` taken from the *installed* xlwings, so the VBA client and
  the Python package always have the same version;
* the workbook part's content type becomes ``macroEnabled``; the VBA part gets its content type
  and its relationship from ``xl/workbook.xml``;
* ``workbookPr`` and every sheet's ``sheetPr`` get the ``codeName`` that names its document module;
* the ribbon (``customUI/customUI.xml`` plus its ``_rels/.rels`` relationship, see
  :mod:`mltakedown.book.ribbon`) is added in the workbook's language.

The output is reproducible: zip entries carry a fixed timestamp, the VBA project has no clock or
random input, so the same sources give the same parts byte for byte.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import os
import re
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from mltakedown.book import ribbon
from mltakedown.book.vba.compression import decompress
from mltakedown.book.vba.project import SHEET_BASE, WORKBOOK_BASE, VbaModule, build_vba_project
from mltakedown.resources import xlsm_sources_dir

__all__ = [
    "PROJECT_ID",
    "SOURCES_DIR",
    "build_xlsm",
    "make_xlsm",
    "reproducible_timestamp",
    "vba_modules",
    "xlwings_sources",
]

SOURCES_DIR = xlsm_sources_dir()
"""``xlsm/`` at the repository root: ``vba/*.bas|*.cls`` and ``ribbon/customUI.xml``, ``labels.json``."""

PROJECT_ID = uuid.UUID("6d4c7461-6b65-4d6f-a776-6e2e786c736d")
"""Fixed VBA project ID (``PROJECT`` ``ID=``): a constant keeps the build reproducible."""

WORKBOOK_CODENAME = "ThisWorkbook"

_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_VBA_CT = "application/vnd.ms-office.vbaProject"
_VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_VBA_PART = "xl/vbaProject.bin"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_DEFAULT_BUILD_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def xlwings_sources() -> tuple[str, str]:
    """The text of ``xlwings.bas`` and ``Dictionary.cls`` from the installed xlwings package.

    ``Dictionary.cls`` ships as text in ``xlwings/addin/``; should a release stop shipping it, it is
    read from the VBA project of the bundled ``quickstart_standalone.xlsm`` instead.
    """
    import xlwings

    root = Path(xlwings.__file__).parent
    bas = (root / "xlwings.bas").read_bytes().decode("cp1252")
    cls_path = root / "addin" / "Dictionary.cls"
    if cls_path.exists():
        return bas, cls_path.read_bytes().decode("cp1252")
    return bas, _module_from_xlsm(root / "quickstart_standalone.xlsm", "Dictionary")


def _module_from_xlsm(path: Path, module: str) -> str:
    """Source of one module of an ``.xlsm``'s VBA project (offset read from its dir stream)."""
    import olefile

    with zipfile.ZipFile(path) as package:
        data = package.read(_VBA_PART)
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        directory = decompress(ole.openstream("VBA/dir").read())
        stream = ole.openstream(f"VBA/{module}").read()
    offset = _module_offset(directory, module)
    return decompress(stream[offset:]).decode("cp1252")


def _module_offset(directory: bytes, module: str) -> int:
    """MODULEOFFSET of ``module`` in a decompressed dir stream."""
    pos, current = 0, ""
    while pos + 6 <= len(directory):
        record_id = int.from_bytes(directory[pos : pos + 2], "little")
        size = 6 if record_id == 0x0009 else int.from_bytes(directory[pos + 2 : pos + 6], "little")
        payload = directory[pos + 6 : pos + 6 + size]
        if record_id == 0x0019:
            current = payload.decode("cp1252")
        elif record_id == 0x0031 and current == module:
            return int.from_bytes(payload, "little")
        pos += 6 + size
    raise ValueError(f"module {module!r} not found in the dir stream")


def vba_modules(sheet_codenames: Sequence[str], sources: Path = SOURCES_DIR) -> list[VbaModule]:
    """The workbook's modules in dir order: documents, our sources (sorted), xlwings, Dictionary."""
    modules = [VbaModule.document(WORKBOOK_CODENAME, WORKBOOK_BASE)]
    modules += [VbaModule.document(name, SHEET_BASE) for name in sheet_codenames]
    vba_dir = sources / "vba"
    for path in sorted(vba_dir.glob("*.bas")):
        modules.append(VbaModule.from_bas(path.read_bytes().decode("cp1252")))
    for path in sorted(vba_dir.glob("*.cls")):
        modules.append(VbaModule.from_cls(path.read_bytes().decode("cp1252")))
    bas, cls = xlwings_sources()
    modules += [VbaModule.from_bas(bas), VbaModule.from_cls(cls)]
    return modules


def make_xlsm(xlsx: Path | bytes, out_path: Path, lang: str = "en", *, sources: Path = SOURCES_DIR) -> Path:
    """Write ``out_path``: the workbook ``xlsx`` (a path or the file's bytes) made macro-enabled.

    Any VBA project or ribbon already in the package is replaced. Returns ``out_path``.
    """
    if not (sources / "vba").is_dir() or not (sources / "ribbon" / "customUI.xml").is_file():
        raise FileNotFoundError(
            f"the .xlsm sources (vba/, ribbon/) are not in {sources}; building needs a source checkout"
        )
    data = xlsx.read_bytes() if isinstance(xlsx, Path) else bytes(xlsx)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = {info.filename: package.read(info) for info in package.infolist()}
    for name in [n for n in parts if n == _VBA_PART or n.startswith("customUI/")]:
        del parts[name]

    sheet_parts = _sheet_parts(parts)
    codenames = _assign_codenames([parts[p] for p in sheet_parts])
    for part, codename in zip(sheet_parts, codenames, strict=True):
        parts[part] = _set_sheet_codename(parts[part], codename)
    parts["xl/workbook.xml"] = _set_workbook_codename(parts["xl/workbook.xml"])
    parts["[Content_Types].xml"] = _content_types(parts["[Content_Types].xml"])
    parts["xl/_rels/workbook.xml.rels"] = _workbook_rels(parts["xl/_rels/workbook.xml.rels"])
    parts["_rels/.rels"] = ribbon.add_ribbon_relationship(parts["_rels/.rels"])
    parts[_VBA_PART] = build_vba_project(vba_modules(codenames, sources), project_id=PROJECT_ID)
    labels = ribbon.load_labels(sources / "ribbon" / "labels.json")
    template = (sources / "ribbon" / "customUI.xml").read_bytes()
    parts[ribbon.CUSTOMUI_PART] = ribbon.render_custom_ui(template, lang, labels)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        # [Content_Types].xml first, as Office writes it; then the parts in their original order.
        for name in sorted(parts, key=lambda n: n != "[Content_Types].xml"):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            out.writestr(info, parts[name])
    out_path.write_bytes(buffer.getvalue())
    return out_path


def build_xlsm(out_path: Path, lang: str = "en", *, timestamp: dt.datetime | None = None) -> Path:
    """Create a fresh takedown workbook (layout of :mod:`mltakedown.book.xlsx`) as ``out_path``.

    ``timestamp`` pins the document's created/modified properties (``docProps/core.xml``), which
    openpyxl otherwise sets to the current time: with it, two builds of the same sources are
    identical byte for byte (see :func:`reproducible_timestamp`).
    """
    # Imported at call time: the layout adapter is heavier than this module and optional for
    # callers that only post-process an existing .xlsx.
    xlsx_module = importlib.import_module("mltakedown.book.xlsx")
    create_workbook: Callable[..., object] = xlsx_module.create_workbook
    with tempfile.TemporaryDirectory(prefix="mltakedown-xlsm-") as tmp:
        xlsx_path = Path(tmp) / "layout.xlsx"
        create_workbook(xlsx_path, lang=lang)
        data = xlsx_path.read_bytes()
    if timestamp is not None:
        data = _pin_core_times(data, timestamp)
    return make_xlsm(data, out_path, lang)


def reproducible_timestamp() -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) if set, else a fixed date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return _DEFAULT_BUILD_TIME


def _pin_core_times(xlsx: bytes, timestamp: dt.datetime) -> bytes:
    """``xlsx`` with ``dcterms:created``/``dcterms:modified`` in docProps/core.xml set to ``timestamp``."""
    stamp = timestamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>" + stamp + rb"\3",
                    data,
                )
            target.writestr(info, data)
    return out.getvalue()


# --- package part edits --------------------------------------------------------------------------


def _sheet_parts(parts: dict[str, bytes]) -> list[str]:
    """Worksheet part names in workbook order (``xl/worksheets/sheet1.xml`` …)."""
    workbook = ET.fromstring(parts["xl/workbook.xml"])
    rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    worksheet_type = _DOC_REL_NS + "/worksheet"
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels if rel.get("Type") == worksheet_type}
    out = []
    for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_DOC_REL_NS}}}id"))
        if target is None:
            continue  # a chartsheet or dialog sheet: no document module written for it
        out.append(target.lstrip("/") if target.startswith("/") else "xl/" + target)
    return out


_CODENAME = re.compile(rb'\scodeName="([^"]*)"')


def _root_prefix(xml: bytes, root_tag: bytes) -> tuple[bytes, int]:
    """Namespace prefix (``b""`` or ``b"x:"``) of the root element and the offset after its start tag."""
    root = re.search(rb"<((?:\w+:)?)" + root_tag + rb"\b[^>]*>", xml)
    if root is None:
        raise ValueError(f"part has no {root_tag.decode()} element")
    return root.group(1), root.end()


def _properties(xml: bytes, root_tag: bytes, tag: bytes) -> re.Match[bytes] | None:
    """The ``<tag …>`` start tag in the root's own namespace (``x14:workbookPr`` in extLst is not it)."""
    prefix, _ = _root_prefix(xml, root_tag)
    return re.search(
        b"<(?P<prefix>" + re.escape(prefix) + b")" + tag + rb"\b(?P<attrs>[^>]*?)(?P<close>/?)>", xml
    )


def _assign_codenames(sheets: Sequence[bytes]) -> list[str]:
    """Each sheet's existing ``codeName``, or ``SheetN`` (first free N) when it has none."""
    existing: list[str | None] = []
    for xml in sheets:
        match = _properties(xml, b"worksheet", b"sheetPr")
        code = _CODENAME.search(match["attrs"]) if match else None
        existing.append(code.group(1).decode() if code else None)
    used = {name.upper() for name in existing if name} | {WORKBOOK_CODENAME.upper()}
    out: list[str] = []
    n = 1
    for name in existing:
        if name is None:
            while f"SHEET{n}" in used:
                n += 1
            name = f"Sheet{n}"
            used.add(name.upper())
        out.append(name)
    return out


def _with_codename(xml: bytes, match: re.Match[bytes], tag: bytes, codename: str) -> bytes:
    """``xml`` with the matched start tag rewritten to carry ``codeName`` first, other attributes kept."""
    attrs = _CODENAME.sub(b"", match["attrs"]).rstrip()
    element = b'<%s%s codeName="%s"%s%s>' % (match["prefix"], tag, codename.encode(), attrs, match["close"])
    return xml[: match.start()] + element + xml[match.end() :]


def _set_sheet_codename(xml: bytes, codename: str) -> bytes:
    """The worksheet XML with ``<sheetPr codeName=…>`` (created as the first child if missing)."""
    match = _properties(xml, b"worksheet", b"sheetPr")
    if match:
        return _with_codename(xml, match, b"sheetPr", codename)
    prefix, insert_at = _root_prefix(xml, b"worksheet")
    return xml[:insert_at] + b'<%ssheetPr codeName="%s"/>' % (prefix, codename.encode()) + xml[insert_at:]


def _set_workbook_codename(xml: bytes) -> bytes:
    """The workbook XML with ``<workbookPr codeName="ThisWorkbook">`` (schema order kept)."""
    match = _properties(xml, b"workbook", b"workbookPr")
    if match:
        return _with_codename(xml, match, b"workbookPr", WORKBOOK_CODENAME)
    prefix, insert_at = _root_prefix(xml, b"workbook")
    # CT_Workbook starts fileVersion?, fileSharing?, workbookPr?: insert after the last that exists.
    for tag in (b"fileSharing", b"fileVersion"):
        found = re.search(
            b"<" + re.escape(prefix) + tag + rb"\b(?:[^>]*/>|.*?</(?:\w+:)?" + tag + b">)", xml, re.S
        )
        if found:
            insert_at = found.end()
            break
    element = b'<%sworkbookPr codeName="%s"/>' % (prefix, WORKBOOK_CODENAME.encode())
    return xml[:insert_at] + element + xml[insert_at:]


def _content_types(xml: bytes) -> bytes:
    """Content types with the workbook macro-enabled and an override for the VBA part."""
    ET.register_namespace("", _CT_NS)
    root = ET.fromstring(xml)
    has_xml_default = False
    for element in list(root):
        part = element.get("PartName")
        if part == "/xl/workbook.xml" and element.get("ContentType") == _XLSX_MAIN:
            element.set("ContentType", _XLSM_MAIN)
        if part in ("/" + _VBA_PART, "/" + ribbon.CUSTOMUI_PART):
            root.remove(element)
        if element.get("Extension", "").lower() == "xml":
            has_xml_default = True
    ET.SubElement(root, f"{{{_CT_NS}}}Override", {"PartName": "/" + _VBA_PART, "ContentType": _VBA_CT})
    if not has_xml_default:
        ET.SubElement(
            root,
            f"{{{_CT_NS}}}Override",
            {"PartName": "/" + ribbon.CUSTOMUI_PART, "ContentType": "application/xml"},
        )
    return ribbon.xml_bytes(root)


def _workbook_rels(xml: bytes) -> bytes:
    """Workbook relationships with exactly one pointing at the VBA project."""
    ET.register_namespace("", _RELS_NS)
    root = ET.fromstring(xml)
    for rel in list(root):
        if rel.get("Type") == _VBA_REL:
            root.remove(rel)
    ET.SubElement(
        root,
        f"{{{_RELS_NS}}}Relationship",
        {"Id": ribbon.free_relationship_id(root), "Type": _VBA_REL, "Target": "vbaProject.bin"},
    )
    return ribbon.xml_bytes(root)
