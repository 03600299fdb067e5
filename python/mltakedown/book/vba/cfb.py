"""A writer for MS-CFB compound files, version 3 (512-byte sectors), the container of ``vbaProject.bin``.

Layout written, after the 512-byte header: FAT sectors, DIFAT sectors (only past 109 FAT sectors),
directory sectors, miniFAT sectors, the mini stream, then every regular stream. Streams shorter than
the 4096-byte cutoff live in the mini stream (64-byte mini sectors), as MS-CFB §2.6.2 requires.

Output is deterministic: CLSIDs, state bits and timestamps are zero (as in the VBA projects Excel and
xlwings ship), and sibling order follows the MS-CFB §2.6.4 name comparison (shorter name first, then
upper-cased code units). Unused directory slots and mini FAT entries are written as free (§2.6.3:
NOSTREAM links; FREESECT), where xlwings' reference leaves zeroes. Siblings form a balanced binary
search tree coloured as a valid red-black tree: nodes on an incomplete last level are red, all others
black.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["MINI_STREAM_CUTOFF", "Storage", "storage_from_paths", "write_compound_file"]

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096
_DIR_ENTRY_SIZE = 128
_IDS_PER_SECTOR = SECTOR_SIZE // 4  # FAT / miniFAT entries per sector
_HEADER_DIFAT = 109

_MAXREGSECT = 0xFFFFFFFA
_DIFSECT = 0xFFFFFFFC
_FATSECT = 0xFFFFFFFD
_ENDOFCHAIN = 0xFFFFFFFE
_FREESECT = 0xFFFFFFFF
_NOSTREAM = 0xFFFFFFFF

_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_TYPE_STORAGE, _TYPE_STREAM, _TYPE_ROOT = 1, 2, 5
_RED, _BLACK = 0, 1
_FREE_DIR_ENTRY = b"\x00" * 68 + struct.pack("<III", _NOSTREAM, _NOSTREAM, _NOSTREAM) + b"\x00" * 48


@dataclass
class Storage:
    """A storage (directory) of a compound file: named streams and named sub-storages."""

    streams: dict[str, bytes] = field(default_factory=dict)
    storages: dict[str, Storage] = field(default_factory=dict)


def _utf16_units(name: str) -> int:
    return len(name.encode("utf-16-le")) // 2


def _simple_upper(char: str) -> str:
    """Upper case of one character by *simple* case mapping (§2.6.4): never changes the length.

    ``str.upper`` applies full case mapping (``"ß"`` becomes ``"SS"``); a character whose upper case
    is not a single character has no simple mapping and stays as it is.
    """
    upper = char.upper()
    return upper if len(upper) == 1 else char


def _sort_key(name: str) -> tuple[int, tuple[int, ...]]:
    """MS-CFB §2.6.4 order: by length in UTF-16 code units, then code unit by code unit upper-cased."""
    upper = "".join(_simple_upper(char) for char in name).encode("utf-16-le")
    return (_utf16_units(name), struct.unpack(f"<{len(upper) // 2}H", upper))


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list[int] = field(default_factory=list)
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    color: int = _BLACK
    start: int = _ENDOFCHAIN
    size: int = 0


def _flatten(root: Storage) -> list[_Entry]:
    """Directory entries in pre-order, root first; each storage's children sorted by name."""
    entries = [_Entry("Root Entry", _TYPE_ROOT)]

    def visit(storage: Storage, parent: int) -> None:
        names: list[tuple[str, bytes | Storage]] = [*storage.streams.items(), *storage.storages.items()]
        names.sort(key=lambda item: _sort_key(item[0]))
        seen: set[tuple[int, tuple[int, ...]]] = set()
        for name, item in names:
            key = _sort_key(name)
            if key in seen:
                raise ValueError(f"duplicate entry name {name!r}")
            seen.add(key)
            # 32 UTF-16 code units including the terminating null fit the 64-byte name field.
            if not 1 <= _utf16_units(name) <= 31:
                raise ValueError(f"entry name {name!r} must have 1 to 31 UTF-16 code units")
            index = len(entries)
            entries[parent].children.append(index)
            if isinstance(item, Storage):
                entries.append(_Entry(name, _TYPE_STORAGE))
                visit(item, index)
            else:
                entries.append(_Entry(name, _TYPE_STREAM, data=bytes(item)))

    visit(root, 0)
    return entries


def _link_tree(entries: list[_Entry], parent: int) -> None:
    """Set ``child``/``left``/``right``/``color`` so the parent's children form a red-black tree."""
    kids = entries[parent].children  # already in sort order
    if not kids:
        return
    full_depth = int(math.log2(len(kids) + 1))  # levels that are complete
    perfect = (1 << full_depth) - 1 == len(kids)

    def build(lo: int, hi: int, depth: int) -> int:
        if lo >= hi:
            return _NOSTREAM
        mid = (lo + hi) // 2
        node = entries[kids[mid]]
        node.left = build(lo, mid, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        # Midpoint splitting puts every leaf on the last two levels, so colouring the incomplete
        # last level red keeps the black height equal on every path.
        node.color = _RED if not perfect and depth == full_depth else _BLACK
        return kids[mid]

    entries[parent].child = build(0, len(kids), 0)
    for kid in kids:
        _link_tree(entries, kid)


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(count):
        fat[first + i] = first + i + 1 if i + 1 < count else _ENDOFCHAIN


def _sectors(size: int, unit: int) -> int:
    return (size + unit - 1) // unit


def _pad(data: bytes, unit: int) -> bytes:
    return data + b"\x00" * (-len(data) % unit)


def write_compound_file(root: Storage) -> bytes:
    """Serialise ``root`` as a version-3 compound file and return its bytes."""
    entries = _flatten(root)
    _link_tree(entries, 0)

    # Mini stream: small streams back to back, each padded to 64 bytes.
    mini_stream = bytearray()
    mini_fat: list[int] = []
    big: list[_Entry] = []
    for entry in entries:
        if entry.kind != _TYPE_STREAM:
            continue
        entry.size = len(entry.data)
        if entry.size == 0:
            continue  # empty stream: start stays ENDOFCHAIN
        if entry.size < MINI_STREAM_CUTOFF:
            entry.start = len(mini_fat)
            count = _sectors(entry.size, MINI_SECTOR_SIZE)
            mini_fat.extend([0] * count)
            _chain(mini_fat, entry.start, count)
            mini_stream += _pad(entry.data, MINI_SECTOR_SIZE)
        else:
            big.append(entry)

    dir_sectors = _sectors(len(entries) * _DIR_ENTRY_SIZE, SECTOR_SIZE)
    minifat_sectors = _sectors(len(mini_fat) * 4, SECTOR_SIZE)
    ministream_sectors = _sectors(len(mini_stream), SECTOR_SIZE)
    data_sectors = sum(_sectors(e.size, SECTOR_SIZE) for e in big)
    content = dir_sectors + minifat_sectors + ministream_sectors + data_sectors

    # The FAT must also map its own sectors and the DIFAT sectors: iterate to the fixed point.
    fat_sectors, difat_sectors = 0, 0
    while True:
        need_fat = _sectors(content + fat_sectors + difat_sectors, _IDS_PER_SECTOR)
        need_difat = _sectors(max(need_fat - _HEADER_DIFAT, 0), _IDS_PER_SECTOR - 1)
        if (need_fat, need_difat) == (fat_sectors, difat_sectors):
            break
        fat_sectors, difat_sectors = need_fat, need_difat
    total = fat_sectors + difat_sectors + content
    if total > _MAXREGSECT:
        raise ValueError("compound file too large")

    fat = [_FREESECT] * (fat_sectors * _IDS_PER_SECTOR)
    fat_start = 0
    for i in range(fat_sectors):
        fat[fat_start + i] = _FATSECT
    difat_start = fat_start + fat_sectors
    for i in range(difat_sectors):
        fat[difat_start + i] = _DIFSECT
    dir_start = difat_start + difat_sectors
    _chain(fat, dir_start, dir_sectors)
    minifat_start = dir_start + dir_sectors
    _chain(fat, minifat_start, minifat_sectors)
    ministream_start = minifat_start + minifat_sectors
    _chain(fat, ministream_start, ministream_sectors)
    next_sector = ministream_start + ministream_sectors
    for entry in big:
        entry.start = next_sector
        count = _sectors(entry.size, SECTOR_SIZE)
        _chain(fat, entry.start, count)
        next_sector += count

    root_entry = entries[0]
    root_entry.size = len(mini_stream)
    root_entry.start = ministream_start if mini_stream else _ENDOFCHAIN

    fat_ids = list(range(fat_start, fat_start + fat_sectors))
    header = _header(
        fat_sectors=fat_sectors,
        dir_start=dir_start,
        minifat_start=minifat_start if minifat_sectors else _ENDOFCHAIN,
        minifat_sectors=minifat_sectors,
        difat_start=difat_start if difat_sectors else _ENDOFCHAIN,
        difat_sectors=difat_sectors,
        header_difat=fat_ids[:_HEADER_DIFAT],
    )

    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    out += _difat_sectors(fat_ids[_HEADER_DIFAT:], difat_start, difat_sectors)
    out += b"".join(_dir_entry(e) for e in entries)
    # Unused slots of the last directory sector are free entries (§2.6.3): zero, but with NOSTREAM
    # links -- zero there would name stream 0, the root. Unused mini FAT entries are FREESECT.
    out += _FREE_DIR_ENTRY * (-len(entries) % (SECTOR_SIZE // _DIR_ENTRY_SIZE))
    mini_fat += [_FREESECT] * (-len(mini_fat) % _IDS_PER_SECTOR)
    out += struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    out += _pad(bytes(mini_stream), SECTOR_SIZE)
    for entry in big:
        out += _pad(entry.data, SECTOR_SIZE)
    assert len(out) == SECTOR_SIZE * (1 + total)
    return bytes(out)


def _header(
    *,
    fat_sectors: int,
    dir_start: int,
    minifat_start: int,
    minifat_sectors: int,
    difat_start: int,
    difat_sectors: int,
    header_difat: list[int],
) -> bytes:
    difat = header_difat + [_FREESECT] * (_HEADER_DIFAT - len(header_difat))
    return (
        _SIGNATURE
        + b"\x00" * 16  # header CLSID
        + struct.pack(
            "<HHHHH6sIIIIIIIII",
            0x003E,  # minor version
            0x0003,  # major version 3: 512-byte sectors
            0xFFFE,  # byte order mark (little-endian)
            9,  # sector shift: 2**9 = 512
            6,  # mini sector shift: 2**6 = 64
            b"\x00" * 6,
            0,  # number of directory sectors: must be 0 in version 3
            fat_sectors,
            dir_start,
            0,  # transaction signature
            MINI_STREAM_CUTOFF,
            minifat_start,
            minifat_sectors,
            difat_start,
            difat_sectors,
        )
        + struct.pack(f"<{_HEADER_DIFAT}I", *difat)
    )


def _difat_sectors(fat_ids: list[int], first: int, count: int) -> bytes:
    """DIFAT sectors: 127 FAT sector numbers each, then the number of the next DIFAT sector."""
    out = bytearray()
    per = _IDS_PER_SECTOR - 1
    for i in range(count):
        ids = fat_ids[i * per : (i + 1) * per]
        ids += [_FREESECT] * (per - len(ids))
        nxt = first + i + 1 if i + 1 < count else _ENDOFCHAIN
        out += struct.pack(f"<{_IDS_PER_SECTOR}I", *ids, nxt)
    return bytes(out)


def _dir_entry(entry: _Entry) -> bytes:
    name = entry.name.encode("utf-16-le") + b"\x00\x00"
    is_storage = entry.kind in (_TYPE_STORAGE, _TYPE_ROOT)
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name),
        entry.kind,
        entry.color,
        entry.left,
        entry.right,
        entry.child if is_storage else _NOSTREAM,
        b"\x00" * 16,  # CLSID
        0,  # state bits
        0,  # creation time
        0,  # modified time
        entry.start if entry.kind != _TYPE_STORAGE else 0,
        entry.size,
    )


def storage_from_paths(streams: Mapping[str, bytes]) -> Storage:
    """Build a :class:`Storage` tree from ``{"VBA/dir": b"...", "PROJECT": b"..."}``-style paths."""
    root = Storage()
    for path, data in streams.items():
        *dirs, name = path.split("/")
        node = root
        for part in dirs:
            node = node.storages.setdefault(part, Storage())
        node.streams[name] = data
    return root
