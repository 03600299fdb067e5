"""The generated VBA project against the one xlwings ships (which real Excel accepts), and oletools."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from oletools.olevba import VBA_Parser

from mltakedown.book.vba.project import SHEET_BASE, VbaModule, build_vba_project, decrypt_data, encrypt_data
from mltakedown.book.xlsm import SOURCES_DIR

from .conftest import SHEETS, XLWINGS_DIR
from .vbaread import module_attributes, module_source, parse_dir, project_sections, streams

MODULE_KEYS = ("Document", "Module", "Class")


def module_kinds(vba_bin: bytes) -> dict[str, str]:
    """Module name → ``Document``/``Module``/``Class`` from the PROJECT stream."""
    return {value.split("/")[0]: key for key, value in project_sections(vba_bin)[""] if key in MODULE_KEYS}


def test_same_streams_apart_from_module_names(built_vba: bytes, reference_vba: bytes) -> None:
    def fixed(vba_bin: bytes) -> set[str]:
        return {name for name in streams(vba_bin) if name.removeprefix("VBA/") not in module_kinds(vba_bin)}

    assert fixed(built_vba) == fixed(reference_vba) == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"}
    for vba_bin in (built_vba, reference_vba):
        module_streams = {n.removeprefix("VBA/") for n in streams(vba_bin)} - {
            "PROJECT",
            "PROJECTwm",
            "_VBA_PROJECT",
            "dir",
        }
        assert module_streams == set(module_kinds(vba_bin))


def test_vba_project_stream_is_the_7_byte_source_only_form(built_vba: bytes, reference_vba: bytes) -> None:
    assert streams(built_vba)["VBA/_VBA_PROJECT"] == streams(reference_vba)["VBA/_VBA_PROJECT"]
    assert len(streams(built_vba)["VBA/_VBA_PROJECT"]) == 7


def test_project_stream_keys_and_sections_match(built_vba: bytes, reference_vba: bytes) -> None:
    ours, ref = project_sections(built_vba), project_sections(reference_vba)
    assert list(ours) == list(ref) == ["", "[Host Extender Info]", "[Workspace]"]

    def shape(pairs: list[tuple[str, str]]) -> list[str]:
        # Module lines collapse into one slot: their number differs, their place must not.
        keys = ["<modules>" if k in MODULE_KEYS else k for k, _ in pairs]
        return [k for i, k in enumerate(keys) if k != "<modules>" or keys[i - 1] != "<modules>"]

    assert shape(ours[""]) == shape(ref[""])
    assert shape(ours[""]) == [
        "ID",
        "<modules>",
        "Name",
        "HelpContextID",
        "VersionCompatible32",
        "CMG",
        "DPB",
        "GC",
    ]
    assert dict(ours[""])["VersionCompatible32"] == '"393222000"'
    assert {k for k, _ in ours[""] if k in MODULE_KEYS} == set(MODULE_KEYS)
    assert ours["[Host Extender Info]"] == ref["[Host Extender Info]"]
    assert [k for k, _ in ours["[Workspace]"]] == list(module_kinds(built_vba))
    assert all(v == "0, 0, 0, 0, C" for _, v in ours["[Workspace]"])
    # Unprotected, no password, visible -- the same states as the reference, read back per §2.4.3.3.
    for key in ("CMG", "DPB", "GC"):
        assert decrypt_data(dict(ours[""])[key].strip('"')) == decrypt_data(dict(ref[""])[key].strip('"'))


def test_encryption_reproduces_the_reference_values(reference_vba: bytes) -> None:
    pairs = dict(project_sections(reference_vba)[""])
    project_id = pairs["ID"].strip('"')
    for key, data in (("CMG", b"\x00" * 4), ("DPB", b"\x00"), ("GC", b"\xff")):
        hex_text = pairs[key].strip('"')
        raw = bytes.fromhex(hex_text)
        # Recover the arbitrary "ignored" bytes the reference's writer chose, then re-encrypt.
        u1, e1, e2 = raw[0] ^ raw[2], raw[2], raw[1]
        ignored = bytearray()
        for enc in raw[3 : 3 + (raw[0] & 6) // 2]:
            ignored.append(enc ^ ((e2 + u1) & 0xFF))
            e2, e1, u1 = e1, enc, ignored[-1]
        assert encrypt_data(project_id, data, seed=raw[0], ignored=bytes(ignored)) == hex_text


def test_projectwm_lists_every_module_in_both_encodings(built_vba: bytes, reference_vba: bytes) -> None:
    for vba_bin in (built_vba, reference_vba):
        data = streams(vba_bin)["PROJECTwm"]
        names, pos = [], 0
        while data[pos : pos + 2] != b"\x00\x00":
            end = data.index(b"\x00", pos)
            mbcs = data[pos:end].decode("cp1252")
            pos = end + 1
            end = next(i for i in range(pos, len(data), 2) if data[i : i + 2] == b"\x00\x00")
            assert data[pos:end].decode("utf-16-le") == mbcs
            names.append(mbcs)
            pos = end + 2
        assert pos + 2 == len(data)
        assert names == list(module_kinds(vba_bin))


def test_dir_record_sequences_match(built_vba: bytes, reference_vba: bytes) -> None:
    ours, ref = parse_dir(built_vba), parse_dir(reference_vba)
    assert ours.information == ref.information
    assert ours.modules_header == ref.modules_header == [0x000F, 0x0013]
    assert ours.terminator == ref.terminator == [0x0010]
    kinds_ours, kinds_ref = module_kinds(built_vba), module_kinds(reference_vba)

    def sequences(parsed: object, kinds: dict[str, str]) -> dict[str, set[tuple[int, ...]]]:
        out: dict[str, set[tuple[int, ...]]] = {}
        for group in parsed.modules:  # type: ignore[attr-defined]
            kind = kinds[group[0][1].decode("cp1252")]
            out.setdefault(kind, set()).add(tuple(record_id for record_id, _ in group))
        return out

    assert sequences(ours, kinds_ours) == sequences(ref, kinds_ref)
    assert len(ours.modules) == len(kinds_ours) == len(SHEETS) + 4


def test_references_include_the_office_library_of_the_reference(
    built_vba: bytes, reference_vba: bytes
) -> None:
    ours, ref = parse_dir(built_vba), parse_dir(reference_vba)
    ids = [record_id for record_id, _ in ours.references]
    assert ids == [0x16, 0x3E, 0x0D, 0x16, 0x3E, 0x0D]  # (REFERENCENAME, REFERENCEREGISTERED) x 2
    office = [payload for record_id, payload in ref.references if record_id == 0x0D]
    assert office and office[0] in [payload for record_id, payload in ours.references if record_id == 0x0D]


def test_class_and_document_attributes_match(built_vba: bytes, reference_vba: bytes) -> None:
    ours = module_attributes(module_source(built_vba, "Dictionary"))
    ref = module_attributes(module_source(reference_vba, "Dictionary"))
    assert [k for k, _ in ours] == [k for k, _ in ref]
    assert [k for k, _ in ours][:8] == [
        "VB_Name", "VB_Base", "VB_GlobalNameSpace", "VB_Creatable",
        "VB_PredeclaredId", "VB_Exposed", "VB_TemplateDerived", "VB_Customizable",
    ]  # fmt: skip
    assert ours == ref  # values too: same class, same instancing
    for ours_name, ref_name in (("ThisWorkbook", "ThisWorkbook"), ("Sheet1", "Sheet1"), ("Sheet6", "Sheet2")):
        ours_doc = module_attributes(module_source(built_vba, ours_name))[1:]
        ref_doc = module_attributes(module_source(reference_vba, ref_name))[1:]
        assert ours_doc == ref_doc
    assert (
        dict(parse_dir(built_vba).module("Dictionary"))[0x1C]
        == dict(parse_dir(reference_vba).module("Dictionary"))[0x1C]
    )


def expected_sources() -> dict[str, str]:
    """Module name → the exact text its source file holds (our .bas files and xlwings.bas)."""
    out = {}
    for path in [*sorted((SOURCES_DIR / "vba").glob("*.bas")), XLWINGS_DIR / "xlwings.bas"]:
        text = path.read_bytes().decode("cp1252")
        out[text.split('"')[1]] = text
    return out


def test_oletools_reads_back_every_module_byte_identical(built_xlsm: Path) -> None:
    parser = VBA_Parser(str(built_xlsm))
    try:
        found = {vba_filename: code for _, _, vba_filename, code in parser.extract_macros()}
    finally:
        parser.close()
    for name, text in expected_sources().items():
        assert found[f"{name}.bas"] == text, name
    # Dictionary: the .cls export minus its VERSION/BEGIN/END header, attributes in Excel's order.
    cls_text = (XLWINGS_DIR / "addin" / "Dictionary.cls").read_bytes().decode("cp1252")
    body = cls_text.split("\r\n")[4:]
    got = found["Dictionary.cls"].split("\r\n")
    assert [line for line in got if not line.startswith("Attribute VB_")] == [
        line for line in body if not line.startswith("Attribute VB_")
    ]
    assert "Dictionary.cls" in found and "Dictionary.bas" not in found  # seen as a class module
    assert {f"{n}.cls" for n in ("ThisWorkbook", "Sheet1", "Sheet6")} <= set(found)


def test_xlwings_module_version_equals_installed_package(built_xlsm: Path) -> None:
    import xlwings

    parser = VBA_Parser(str(built_xlsm))
    try:
        code = next(c for _, _, f, c in parser.extract_macros() if f == "xlwings.bas")
    finally:
        parser.close()
    version_lines = [line for line in code.split("\r\n") if line.startswith("'Version: ")]
    assert version_lines == [f"'Version: {xlwings.__version__}"]


@pytest.mark.parametrize("bad", ["Sheet 1", "1abc", "x" * 32])
def test_rejects_invalid_module_names(bad: str) -> None:
    with pytest.raises(ValueError):
        build_vba_project([VbaModule.document(bad, SHEET_BASE)], project_id=uuid.UUID(int=0))


@pytest.mark.parametrize("name", ["dir", "Dir", "DIR"])
def test_rejects_module_names_that_are_project_streams(name: str) -> None:
    """A module named ``dir`` would share the ``VBA/dir`` stream: the project would lose its directory."""
    with pytest.raises(ValueError, match="reserved"):
        build_vba_project([VbaModule.document(name, SHEET_BASE)], project_id=uuid.UUID(int=0))
