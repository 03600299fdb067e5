"""Independent readers for the tests: VBA project streams parsed with olefile and oletools only.

Nothing here imports our writer, so a test comparing our output with xlwings' reference compares
two files read the same way.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

import olefile
from oletools.olevba import decompress_stream


def streams(vba_bin: bytes) -> dict[str, bytes]:
    """Every stream of a compound file by ``/``-joined path."""
    with olefile.OleFileIO(io.BytesIO(vba_bin)) as ole:
        return {"/".join(path): ole.openstream(path).read() for path in ole.listdir(streams=True)}


@dataclass
class DirStream:
    """A decompressed ``dir`` stream split the way MS-OVBA §2.3.4.2 groups its records."""

    information: list[int] = field(default_factory=list)
    references: list[tuple[int, bytes]] = field(default_factory=list)
    modules_header: list[int] = field(default_factory=list)
    modules: list[list[tuple[int, bytes]]] = field(default_factory=list)
    terminator: list[int] = field(default_factory=list)

    def module(self, name: str) -> list[tuple[int, bytes]]:
        """The record group of one module, by MODULENAME."""
        for group in self.modules:
            if group[0] == (0x19, name.encode("cp1252")):
                return group
        raise KeyError(name)


def records(data: bytes) -> list[tuple[int, bytes]]:
    """``(id, payload)`` for each record; PROJECTVERSION's size field is a constant, payload 6 bytes."""
    out, pos = [], 0
    while pos < len(data):
        record_id, size = struct.unpack_from("<HI", data, pos)
        if record_id == 0x0009:
            size = 6
        out.append((record_id, data[pos + 6 : pos + 6 + size]))
        pos += 6 + size
    return out


def parse_dir(vba_bin: bytes) -> DirStream:
    """Parse ``VBA/dir`` into its sections."""
    data = decompress_stream(bytearray(streams(vba_bin)["VBA/dir"]))
    parsed = DirStream()
    section = "information"
    group: list[tuple[int, bytes]] = []
    for record_id, payload in records(data):
        if section == "information" and record_id == 0x0016:
            section = "references"
        if section in ("information", "references") and record_id == 0x000F:
            section = "modules"
        if section == "information":
            parsed.information.append(record_id)
        elif section == "references":
            parsed.references.append((record_id, payload))
        elif record_id in (0x000F, 0x0013):
            parsed.modules_header.append(record_id)
        elif record_id == 0x0010:
            parsed.terminator.append(record_id)
        else:
            group.append((record_id, payload))
            if record_id == 0x002B:
                parsed.modules.append(group)
                group = []
    assert not group, "unterminated MODULE record"
    return parsed


def project_sections(vba_bin: bytes) -> dict[str, list[tuple[str, str]]]:
    """The ``PROJECT`` stream as ``{section: [(key, value), ...]}``; the first section is ``""``."""
    text = streams(vba_bin)["PROJECT"].decode("cp1252")
    assert text.endswith("\r\n"), "PROJECT must end with CRLF"
    sections: dict[str, list[tuple[str, str]]] = {"": []}
    current = ""
    for line in text.split("\r\n"):
        if not line:
            continue
        if line.startswith("["):
            current = line
            sections[current] = []
        else:
            key, _, value = line.partition("=")
            sections[current].append((key, value))
    return sections


def module_attributes(source: str) -> list[tuple[str, str]]:
    """Leading module-level ``Attribute VB_x = value`` lines of a module source."""
    out = []
    for line in source.split("\r\n"):
        if not line.startswith("Attribute VB_"):
            break
        key, _, value = line[len("Attribute ") :].partition(" = ")
        out.append((key, value))
    return out


def module_source(vba_bin: bytes, name: str) -> str:
    """Decompressed source of one module, read at its MODULEOFFSET."""
    group = dict(parse_dir(vba_bin).module(name))
    offset = struct.unpack("<I", group[0x31])[0]
    raw = streams(vba_bin)[f"VBA/{name}"]
    return bytes(decompress_stream(bytearray(raw[offset:]))).decode("cp1252")
