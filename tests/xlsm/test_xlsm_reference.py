"""Record for record: xlwings' reference project rebuilt by our writer, compared field by field.

The reference (``quickstart_standalone.xlsm``, accepted by real Excel) is read with olefile and
oletools only. Its own modules -- same names, kinds, order and sources -- are fed to
:func:`build_vba_project` with its own project ID, so every stream and record can be compared
exactly. The only differences allowed are the deliberate ones, each asserted here explicitly:

* references: ``stdole`` + ``Office`` (as xlwings' own ``addin/xlwings.xlam`` has them) instead of
  the reference's MSForms control reference, which nothing we ship uses;
* PROJECTCOOKIE / MODULECOOKIE: 0xFFFF (MS-OVBA §2.3.4.2.3.1, §2.3.4.2.3.2.7: "MUST be 0xFFFF on
  write"; ignored on read) instead of the reference's arbitrary values;
* MODULEOFFSET 0: no performance cache before the source (the reference's ``xlwings`` module too);
* module sources with CRLF line ends (the reference stores ``xlwings`` with bare LF; ``xlwings.xlam``
  and everything the VBA editor writes use CRLF);
* CMG/DPB/GC: other random seeds, same decrypted values; ``[Workspace]`` window positions zero;
* CFB minor version 0x3E (MS-CFB §2.2: "SHOULD be set to 0x003E"; the reference has 0x21), and
  sector layout and tree shape, which readers must not depend on.
"""

from __future__ import annotations

import io
import re
import struct
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import olefile
import pytest

from mltakedown.book import ribbon
from mltakedown.book.vba.project import ModuleKind, VbaModule, build_vba_project, decrypt_data

from .conftest import XLWINGS_DIR, vba_part
from .vbaread import module_source, project_sections, records, streams

KINDS = {"Document": ModuleKind.DOCUMENT, "Module": ModuleKind.STANDARD, "Class": ModuleKind.CLASS}
COOKIE_IDS = (0x0013, 0x002C)


def reference_modules(reference_vba: bytes) -> list[VbaModule]:
    """The reference's modules in its PROJECT order, with its sources (line ends made CRLF)."""
    out = []
    for key, value in project_sections(reference_vba)[""]:
        if key not in KINDS:
            continue
        name = value.split("/")[0]
        source = module_source(reference_vba, name)
        source = source.replace("\r\n", "\n").replace("\n", "\r\n")
        out.append(VbaModule(name, KINDS[key], source))
    return out


@pytest.fixture(scope="module")
def rebuilt(reference_vba: bytes) -> bytes:
    project_id = uuid.UUID(dict(project_sections(reference_vba)[""])["ID"].strip('"{}'))
    return build_vba_project(reference_modules(reference_vba), project_id=project_id)


def dir_records(vba_bin: bytes) -> list[tuple[int, bytes]]:
    from oletools.olevba import decompress_stream

    return records(bytes(decompress_stream(bytearray(streams(vba_bin)["VBA/dir"]))))


def without_references(recs: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    start = next(i for i, (rid, _) in enumerate(recs) if rid == 0x0016)
    end = next(i for i, (rid, _) in enumerate(recs) if rid == 0x000F)
    return recs[:start] + recs[end:]


def test_dir_stream_equal_record_for_record(rebuilt: bytes, reference_vba: bytes) -> None:
    ours, ref = without_references(dir_records(rebuilt)), without_references(dir_records(reference_vba))
    assert [rid for rid, _ in ours] == [rid for rid, _ in ref]
    for (rid, mine), (_, theirs) in zip(ours, ref, strict=True):
        if rid in COOKIE_IDS:
            assert mine == b"\xff\xff" and len(theirs) == 2
        elif rid == 0x0031:  # MODULEOFFSET
            assert mine == b"\x00\x00\x00\x00"
        else:
            assert mine == theirs, hex(rid)


def test_references_are_stdole_and_office_as_in_xlwings_addin(rebuilt: bytes, reference_vba: bytes) -> None:
    recs = dir_records(rebuilt)
    start = next(i for i, (rid, _) in enumerate(recs) if rid == 0x0016)
    end = next(i for i, (rid, _) in enumerate(recs) if rid == 0x000F)
    refs = recs[start:end]
    assert [rid for rid, _ in refs] == [0x16, 0x3E, 0x0D] * 2
    names = [payload for rid, payload in refs if rid == 0x16]
    assert names == [b"stdole", b"Office"]
    assert [payload for rid, payload in refs if rid == 0x3E] == [
        n.decode().encode("utf-16-le") for n in names
    ]
    libids = []
    for rid, payload in refs:
        if rid != 0x0D:
            continue
        # REFERENCEREGISTERED (§2.3.4.2.2.5): SizeOfLibid, Libid, Reserved1 = 0 (u32), Reserved2 = 0 (u16).
        (size,) = struct.unpack_from("<I", payload)
        assert payload[4 + size :] == b"\x00" * 6 and len(payload) == size + 10
        libids.append(payload[4 : 4 + size])
    assert libids[0].startswith(rb"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#")  # OLE Automation
    office = [payload for rid, payload in dir_records(reference_vba) if rid == 0x0D]
    assert [payload for rid, payload in refs if rid == 0x0D][1] == office[0]
    # The whole PROJECTREFERENCES section, byte for byte, is the one of xlwings' add-in project.
    addin = dir_records(vba_part(XLWINGS_DIR / "addin" / "xlwings.xlam"))
    start = next(i for i, (rid, _) in enumerate(addin) if rid == 0x0016)
    end = next(i for i, (rid, _) in enumerate(addin) if rid == 0x000F)
    assert refs == addin[start:end]


def test_project_stream_equal_line_for_line(rebuilt: bytes, reference_vba: bytes) -> None:
    ours, ref = project_sections(rebuilt), project_sections(reference_vba)
    assert list(ours) == list(ref)
    assert ours["[Host Extender Info]"] == ref["[Host Extender Info]"]
    assert [k for k, _ in ours["[Workspace]"]] == [k for k, _ in ref["[Workspace]"]]
    assert {v for _, v in ours["[Workspace]"]} == {"0, 0, 0, 0, C"}
    assert [k for k, _ in ours[""]] == [k for k, _ in ref[""]]
    for (key, mine), (_, theirs) in zip(ours[""], ref[""], strict=True):
        if key in ("CMG", "DPB", "GC"):
            assert mine != theirs and decrypt_data(mine.strip('"')) == decrypt_data(theirs.strip('"'))
        else:
            assert mine == theirs, key
    text = streams(rebuilt)["PROJECT"]
    assert text.endswith(b"\r\n\r\n") and b"\n" not in text.replace(b"\r\n", b"")


def test_other_streams_equal_byte_for_byte(rebuilt: bytes, reference_vba: bytes) -> None:
    ours, ref = streams(rebuilt), streams(reference_vba)
    assert set(ours) == set(ref)
    assert ours["PROJECTwm"] == ref["PROJECTwm"]
    assert ours["VBA/_VBA_PROJECT"] == ref["VBA/_VBA_PROJECT"]
    for module in reference_modules(reference_vba):
        got = module_source(rebuilt, module.name)
        assert got == module.source
        assert (
            module_source(reference_vba, module.name).replace("\n", "\r\n").replace("\r\r\n", "\r\n") == got
        )


def test_compound_file_header_and_entries_match(rebuilt: bytes, reference_vba: bytes) -> None:
    # Bytes 44-76 (FAT, directory, mini FAT and DIFAT counts and locations) describe the layout, not
    # the format; everything else in the header must agree, minor version apart.
    for data in (rebuilt, reference_vba):
        fields = struct.unpack_from("<8s16sHHHHH6sI", data, 0)
        assert fields[0] == bytes.fromhex("D0CF11E0A1B11AE1") and fields[1] == b"\x00" * 16
        assert fields[3:] == (3, 0xFFFE, 9, 6, b"\x00" * 6, 0)  # v3, little-endian, 512/64, no dir count
        assert struct.unpack_from("<II", data, 52) == (0, 4096)  # transaction signature, mini cutoff
    assert struct.unpack_from("<H", rebuilt, 24)[0] == 0x003E
    assert struct.unpack_from("<H", reference_vba, 24)[0] == 0x0021

    def entries(data: bytes) -> dict[str, tuple[int, bytes, int, int, int]]:
        """Type, CLSID, state bits and times of each entry (sizes follow compression, not format)."""
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return {
                e.name: (e.entry_type, e.clsid.encode(), e.dwUserFlags, e.createTime, e.modifyTime)
                for e in ole.direntries
                if e is not None
            }

    assert entries(rebuilt) == entries(reference_vba)
    with olefile.OleFileIO(io.BytesIO(rebuilt)) as ole:
        vba = next(e for e in ole.direntries if e is not None and e.name == "VBA")
        assert (vba.isectStart, vba.size) == (0, 0)  # a storage: start sector and size zero


def test_ribbon_part_is_wired_as_in_xlwings_addin(built_xlsm: Path) -> None:
    """xlwings' own add-in (whose ribbon real Excel shows) uses the same part, namespace and relationship."""
    addin = XLWINGS_DIR / "addin" / "xlwings.xlam"

    def wiring(path: Path) -> tuple[str, list[tuple[str | None, str | None]], str | None, bool]:
        with zipfile.ZipFile(path) as package:
            rels = ET.fromstring(package.read("_rels/.rels"))
            types = ET.fromstring(package.read("[Content_Types].xml"))
            root = ET.fromstring(package.read(ribbon.CUSTOMUI_PART))
        ui = [(r.get("Type"), r.get("Target")) for r in rels if "ui/extensibility" in r.get("Type", "")]
        defaults = {e.get("Extension"): e.get("ContentType") for e in types if e.tag.endswith("Default")}
        actions = [e.get("onAction", "") for e in root.iter() if e.get("onAction")]
        qualified = bool(actions) and all(re.fullmatch(r"\w+\.\w+", a) for a in actions)
        return root.tag, ui, defaults.get("xml"), qualified

    assert (
        wiring(built_xlsm)
        == wiring(addin)
        == (
            "{http://schemas.microsoft.com/office/2006/01/customui}customUI",
            [(ribbon.CUSTOMUI_REL_TYPE, ribbon.CUSTOMUI_PART)],
            "application/xml",
            True,  # onAction="Module.Procedure", as RibbonXlwings.* in the add-in
        )
    )
