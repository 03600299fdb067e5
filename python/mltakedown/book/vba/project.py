"""The streams of a VBA project (MS-OVBA §2.2-2.3) and ``vbaProject.bin`` built from module sources.

The project written is the "source only" form that xlwings' own ``quickstart_standalone.xlsm`` uses
(a project real Excel accepts): a 7-byte ``_VBA_PROJECT`` stream that carries no compiled p-code, so
Excel compiles every module from its source on first open. Everything else mirrors that reference
record for record and key for key:

* ``PROJECT`` (§2.3.1): ``ID``, one ``Document=``/``Module=``/``Class=`` line per module in dir
  order, ``Name``, ``HelpContextID``, ``VersionCompatible32``, ``CMG``/``DPB``/``GC`` (obfuscated
  per §2.4.3), ``[Host Extender Info]`` and ``[Workspace]``;
* ``PROJECTwm`` (§2.3.3): every module name in MBCS and UTF-16;
* ``VBA/dir`` (§2.3.4.2): PROJECTINFORMATION, PROJECTREFERENCES, PROJECTMODULES with one MODULE
  record group per module, compressed (§2.4.1);
* one compressed source stream per module, starting at offset 0 (no performance cache).

Sources are Windows-1252 (PROJECTCODEPAGE 1252) with CRLF line ends, as the VBA editor keeps them.
"""

from __future__ import annotations

import enum
import hashlib
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from mltakedown.book.vba.cfb import storage_from_paths, write_compound_file
from mltakedown.book.vba.compression import compress

__all__ = [
    "CLASS_BASE",
    "CODEPAGE",
    "SHEET_BASE",
    "WORKBOOK_BASE",
    "ModuleKind",
    "VbaModule",
    "build_project_streams",
    "build_vba_project",
    "decrypt_data",
    "encrypt_data",
]

CODEPAGE = 1252
_ENCODING = "cp1252"
_CRLF = "\r\n"

CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"
"""``VB_Base`` of a class module (the VBA class-module type library)."""
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
"""``VB_Base`` of the ``ThisWorkbook`` document module (Excel ``Workbook``)."""
SHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
"""``VB_Base`` of a worksheet document module (Excel ``Worksheet``)."""

# References written: OLE Automation and the Office object library (IRibbonControl lives there) --
# byte for byte the two of xlwings' own add-in project (addin/xlwings.xlam). The quickstart
# reference's MSForms control reference is left out: no module we ship uses MSForms. Excel adds VBA
# and the host library itself; Excel-saved projects (xlwings' quickstart.xlsm) do not list them.
_REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "stdole",
        r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation",
    ),
    (
        "Office",
        r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files\Microsoft Shared"
        r"\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library",
    ),
)
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
_VERSION_COMPATIBLE32 = "393222000"
# PROJECTSYSKIND 3 (64-bit Windows) and PROJECTVERSION as in the reference project; Excel
# recompiles a source-only project on any platform, so these only describe the writer.
_SYSKIND = 0x00000003
_LCID = 0x00000409
_VERSION_MAJOR = 0x68FBFAC5
_VERSION_MINOR = 0x0004
# _VBA_PROJECT: Reserved1 0x61CC, Version 0xFFFF ("no p-code, compile from source"), Reserved2 0x00,
# Reserved3 0x0001 -- byte for byte the reference's stream.
_VBA_PROJECT = bytes.fromhex("cc61ffff000100")

_ATTRIBUTE = re.compile(r"^Attribute (?P<key>VB_\w+) = (?P<value>.*)$")


class ModuleKind(enum.Enum):
    """The three kinds of VBA module; ``PROJECT`` keyword and MODULETYPE record differ."""

    STANDARD = "Module"
    CLASS = "Class"
    DOCUMENT = "Document"


@dataclass(frozen=True)
class VbaModule:
    """One module: its name, kind and full stored source (``Attribute`` lines included)."""

    name: str
    kind: ModuleKind
    source: str

    @property
    def docstring(self) -> str:
        """The module's ``VB_Description`` (MODULEDOCSTRING), with ``\\r``/``\\n`` escapes resolved."""
        value = self.attributes().get("VB_Description", '""')
        return value.strip('"').replace("\\r", "\r").replace("\\n", "\n")

    def attributes(self) -> dict[str, str]:
        """Leading module-level ``Attribute VB_x = value`` lines, key to raw value text."""
        out: dict[str, str] = {}
        for line in self.source.split(_CRLF):
            match = _ATTRIBUTE.match(line)
            if not match:
                break
            out[match["key"]] = match["value"]
        return out

    @classmethod
    def from_bas(cls, text: str) -> VbaModule:
        """A standard module from ``.bas`` text (it must start with ``Attribute VB_Name``)."""
        source = _normalise(text)
        name = _parse_name(source)
        return cls(name, ModuleKind.STANDARD, source)

    @classmethod
    def from_cls(cls, text: str) -> VbaModule:
        """A class module from exported ``.cls`` text.

        The ``VERSION 1.0 CLASS`` / ``BEGIN`` … ``END`` header of the export is not stored; the
        module-level attributes are rewritten as Excel stores them for a class (order of the
        reference: VB_Name, VB_Base, VB_GlobalNameSpace, VB_Creatable, VB_PredeclaredId,
        VB_Exposed, VB_TemplateDerived, VB_Customizable, then any others such as VB_Description).
        """
        lines = _normalise(text).split(_CRLF)
        if lines and lines[0].startswith("VERSION "):
            end = lines.index("END")
            lines = lines[end + 1 :]
        given: dict[str, str] = {}
        while lines and (match := _ATTRIBUTE.match(lines[0])):
            given[match["key"]] = match["value"]
            lines.pop(0)
        if "VB_Name" not in given:
            raise ValueError("class source has no Attribute VB_Name line")
        defaults = {
            "VB_Name": given["VB_Name"],
            "VB_Base": f'"{CLASS_BASE}"',
            "VB_GlobalNameSpace": "False",
            "VB_Creatable": "False",
            "VB_PredeclaredId": "False",
            "VB_Exposed": "False",
            "VB_TemplateDerived": "False",
            "VB_Customizable": "False",
        }
        ordered = {key: given.get(key, value) for key, value in defaults.items()}
        ordered.update({k: v for k, v in given.items() if k not in ordered})
        header = [f"Attribute {key} = {value}" for key, value in ordered.items()]
        source = _CRLF.join(header + lines)
        return cls(_parse_name(source), ModuleKind.CLASS, source)

    @classmethod
    def document(cls, name: str, base: str, code: str = "") -> VbaModule:
        """A document module (``ThisWorkbook`` or a sheet's code name) with the attributes Excel writes."""
        header = [
            f'Attribute VB_Name = "{name}"',
            f'Attribute VB_Base = "{base}"',
            "Attribute VB_GlobalNameSpace = False",
            "Attribute VB_Creatable = False",
            "Attribute VB_PredeclaredId = True",
            "Attribute VB_Exposed = True",
            "Attribute VB_TemplateDerived = False",
            "Attribute VB_Customizable = True",
        ]
        body = _normalise(code) if code else ""
        return cls(name, ModuleKind.DOCUMENT, _CRLF.join(header) + _CRLF + body)

    def encoded(self) -> bytes:
        """The source as stored: Windows-1252 bytes (raises ``UnicodeEncodeError`` otherwise)."""
        return self.source.encode(_ENCODING)


def _normalise(text: str) -> str:
    """CRLF line ends throughout, ending with a CRLF; nothing else changes (blank lines stay)."""
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    return body.replace("\n", _CRLF)


def _parse_name(source: str) -> str:
    match = re.match(r'Attribute VB_Name = "([^"]+)"', source)
    if not match:
        raise ValueError('module source must start with Attribute VB_Name = "..."')
    return match.group(1)


# --- §2.4.3 data encryption (CMG, DPB, GC) -------------------------------------------------------


def _project_key(project_id: str) -> int:
    return sum(project_id.encode("ascii")) & 0xFF


def encrypt_data(project_id: str, data: bytes, *, seed: int, ignored: bytes | None = None) -> str:
    """Obfuscate ``data`` as in MS-OVBA §2.4.3.2 and return the hex text used in ``PROJECT``.

    Excel draws ``seed`` and the ignored bytes at random; we derive them from the caller so that
    the build is reproducible.
    """
    version = 2
    proj_key = _project_key(project_id)
    out = bytearray([seed & 0xFF, (seed ^ version) & 0xFF, (seed ^ proj_key) & 0xFF])
    unencrypted1, encrypted1, encrypted2 = proj_key, out[2], out[1]
    ignored_len = (seed & 6) // 2
    filler = (ignored or b"\x00" * ignored_len)[:ignored_len].ljust(ignored_len, b"\x00")
    for byte in filler + struct.pack("<I", len(data)) + data:
        enc = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    return out.hex().upper()


def decrypt_data(hex_text: str) -> bytes:
    """Inverse of :func:`encrypt_data` (§2.4.3.3); returns the Data bytes."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, proj_key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise ValueError("unknown encryption version")
    unencrypted1, encrypted1, encrypted2 = seed ^ proj_key_enc, proj_key_enc, version_enc
    plain = bytearray()
    for enc in raw[3:]:
        byte = enc ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(byte)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    ignored_len = (seed & 6) // 2
    length = struct.unpack_from("<I", plain, ignored_len)[0]
    data = bytes(plain[ignored_len + 4 :])
    if len(data) != length:
        raise ValueError("encrypted length does not match its data")
    return data


def _seed(project_id: str, field: str) -> tuple[int, bytes]:
    digest = hashlib.sha256(f"{project_id}/{field}".encode()).digest()
    return digest[0], digest[1:4]


# --- PROJECT and PROJECTwm -----------------------------------------------------------------------


def _project_stream(modules: Sequence[VbaModule], project_id: str, project_name: str) -> bytes:
    lines = [f'ID="{project_id}"']
    for module in modules:
        suffix = "/&H00000000" if module.kind is ModuleKind.DOCUMENT else ""
        lines.append(f"{module.kind.value}={module.name}{suffix}")
    lines += [f'Name="{project_name}"', 'HelpContextID="0"', f'VersionCompatible32="{_VERSION_COMPATIBLE32}"']
    # CMG: protection state 0 (unprotected); DPB: no password (one 0x00 byte); GC: visible (0xFF).
    for key, data in (("CMG", b"\x00\x00\x00\x00"), ("DPB", b"\x00"), ("GC", b"\xff")):
        seed, ignored = _seed(project_id, key)
        lines.append(f'{key}="{encrypt_data(project_id, data, seed=seed, ignored=ignored)}"')
    lines += ["", "[Host Extender Info]", _HOST_EXTENDER, "", "[Workspace]"]
    lines += [f"{module.name}=0, 0, 0, 0, C" for module in modules]
    lines += ["", ""]
    return _CRLF.join(lines).encode(_ENCODING)


def _projectwm_stream(modules: Sequence[VbaModule]) -> bytes:
    out = bytearray()
    for module in modules:
        out += module.name.encode(_ENCODING) + b"\x00"
        out += module.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


# --- dir stream ----------------------------------------------------------------------------------


def _rec(record_id: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _text_pair(record_id: int, unicode_id: int, text: str) -> bytes:
    """An MBCS record followed by its UTF-16 twin (the ``Reserved`` id of §2.3.4.2)."""
    return _rec(record_id, text.encode(_ENCODING)) + _rec(unicode_id, text.encode("utf-16-le"))


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _u16(value: int) -> bytes:
    return struct.pack("<H", value)


def _project_information(project_name: str) -> bytes:
    return b"".join(
        [
            _rec(0x0001, _u32(_SYSKIND)),  # PROJECTSYSKIND
            _rec(0x0002, _u32(_LCID)),  # PROJECTLCID
            _rec(0x0014, _u32(_LCID)),  # PROJECTLCIDINVOKE
            _rec(0x0003, _u16(CODEPAGE)),  # PROJECTCODEPAGE
            _rec(0x0004, project_name.encode(_ENCODING)),  # PROJECTNAME
            _text_pair(0x0005, 0x0040, ""),  # PROJECTDOCSTRING
            _text_pair(0x0006, 0x003D, ""),  # PROJECTHELPFILEPATH (both paths empty)
            _rec(0x0007, _u32(0)),  # PROJECTHELPCONTEXT
            _rec(0x0008, _u32(0)),  # PROJECTLIBFLAGS
            # PROJECTVERSION: its "size" field is a reserved constant 4, followed by 6 bytes.
            struct.pack("<HIIH", 0x0009, 4, _VERSION_MAJOR, _VERSION_MINOR),
            _text_pair(0x000C, 0x003C, ""),  # PROJECTCONSTANTS
        ]
    )


def _project_references() -> bytes:
    out = bytearray()
    for name, libid in _REFERENCES:
        out += _text_pair(0x0016, 0x003E, name)  # REFERENCENAME
        lib = libid.encode(_ENCODING)
        # REFERENCEREGISTERED: Size, SizeOfLibid, Libid, Reserved1 (u32 0), Reserved2 (u16 0).
        out += _rec(0x000D, _u32(len(lib)) + lib + _u32(0) + _u16(0))
    return bytes(out)


def _module_record(module: VbaModule) -> bytes:
    doc = module.docstring
    return b"".join(
        [
            _text_pair(0x0019, 0x0047, module.name),  # MODULENAME + MODULENAMEUNICODE
            _text_pair(0x001A, 0x0032, module.name),  # MODULESTREAMNAME
            _text_pair(0x001C, 0x0048, doc),  # MODULEDOCSTRING
            _rec(0x0031, _u32(0)),  # MODULEOFFSET: source starts the stream
            _rec(0x001E, _u32(0)),  # MODULEHELPCONTEXT
            _rec(0x002C, _u16(0xFFFF)),  # MODULECOOKIE
            _rec(0x0021 if module.kind is ModuleKind.STANDARD else 0x0022, b""),  # MODULETYPE
            _rec(0x002B, b""),  # module terminator
        ]
    )


def _dir_stream(modules: Sequence[VbaModule], project_name: str) -> bytes:
    parts = [
        _project_information(project_name),
        _project_references(),
        _rec(0x000F, _u16(len(modules))),  # PROJECTMODULES count
        _rec(0x0013, _u16(0xFFFF)),  # PROJECTCOOKIE
        *(_module_record(module) for module in modules),
        _rec(0x0010, b""),  # dir terminator
    ]
    return b"".join(parts)


# --- assembly ------------------------------------------------------------------------------------


# Streams of the VBA storage that are not modules (§2.2.1); stream names compare case-insensitively.
# "_VBA_PROJECT" and the "__SRP_n" caches cannot be module names anyway (leading underscore).
_RESERVED_STREAMS = frozenset({"DIR"})


def _check(modules: Sequence[VbaModule]) -> None:
    seen: set[str] = set()
    for module in modules:
        key = module.name.upper()
        if key in seen:
            raise ValueError(f"duplicate module name {module.name!r}")
        seen.add(key)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", module.name):
            raise ValueError(f"invalid VBA module name {module.name!r}")
        if key in _RESERVED_STREAMS:
            raise ValueError(
                f"module name {module.name!r} is reserved: the VBA storage has a stream of that name"
            )


def build_project_streams(
    modules: Sequence[VbaModule], *, project_id: uuid.UUID, project_name: str = "VBAProject"
) -> dict[str, bytes]:
    """Every stream of the project by path (``PROJECT``, ``VBA/dir`` …), uncompressed where readable."""
    _check(modules)
    pid = "{" + str(project_id).upper() + "}"
    streams = {
        "PROJECT": _project_stream(modules, pid, project_name),
        "PROJECTwm": _projectwm_stream(modules),
        "VBA/_VBA_PROJECT": _VBA_PROJECT,
        "VBA/dir": compress(_dir_stream(modules, project_name)),
    }
    for module in modules:
        # Module source never needs a raw chunk; refuse one rather than write a stream Excel may drop.
        streams[f"VBA/{module.name}"] = compress(module.encoded(), allow_raw=False)
    return streams


def build_vba_project(
    modules: Sequence[VbaModule], *, project_id: uuid.UUID, project_name: str = "VBAProject"
) -> bytes:
    """``vbaProject.bin`` bytes for ``modules`` (in dir order: documents first, by convention)."""
    streams = build_project_streams(modules, project_id=project_id, project_name=project_name)
    return write_compound_file(storage_from_paths(streams))
