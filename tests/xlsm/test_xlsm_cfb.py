"""The compound-file writer, read back with olefile (an independent MS-CFB reader)."""

from __future__ import annotations

import io
import random
import struct

import olefile
import pytest

from mltakedown.book.vba.cfb import Storage, storage_from_paths, write_compound_file

RED, BLACK = 0, 1  # MS-CFB §2.6.1 colour flags


def read_all(data: bytes) -> dict[str, bytes]:
    # DEFECT_INCORRECT: olefile raises on anything it considers a spec violation, not only fatal ones.
    with olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True)}


def sample(big: int) -> dict[str, bytes]:
    rng = random.Random(big)
    return {
        "PROJECT": b"ID=x\r\n" * 20,
        "PROJECTwm": b"",
        "VBA/dir": rng.randbytes(700),
        "VBA/_VBA_PROJECT": bytes.fromhex("cc61ffff000100"),
        "VBA/exactly_cutoff": rng.randbytes(4096),
        "VBA/just_below": rng.randbytes(4095),
        "VBA/big": rng.randbytes(big),
        **{f"VBA/Module{i}": rng.randbytes(i * 61) for i in range(1, 25)},
    }


@pytest.mark.parametrize("big", [0, 10, 70_000, 300_000], ids=["empty", "tiny", "over-64KiB", "many-FAT"])
def test_streams_read_back(big: int) -> None:
    streams = sample(big)
    data = write_compound_file(storage_from_paths(streams))
    assert read_all(data) == streams
    header = struct.unpack_from("<8s16sHHHHH", data, 0)
    assert header[0] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert header[3] == 3 and header[5] == 9  # version 3, 512-byte sectors
    fat_sectors = struct.unpack_from("<I", data, 44)[0]
    assert fat_sectors == -(-(len(data) // 512 - 1) // 128)
    if big >= 70_000:
        assert fat_sectors > 1  # the case ms_cfb 0.0.6 gets wrong


def test_difat_sectors_past_109_fat_sectors() -> None:
    """Over ~7 MiB the FAT sector list overflows the header into DIFAT sectors."""
    streams = {"big": random.Random(7).randbytes(7_400_000), "small": b"abc"}
    data = write_compound_file(storage_from_paths(streams))
    assert struct.unpack_from("<I", data, 72)[0] >= 1  # number of DIFAT sectors
    assert read_all(data) == streams


def test_directory_is_a_sorted_red_black_tree() -> None:
    names = [
        "dir",
        "Sheet1",
        "Sheet10",
        "xlwings",
        "Module1",
        "Dictionary",
        "ThisWorkbook",
        "_VBA_PROJECT",
        "a",
    ]
    data = write_compound_file(Storage(storages={"VBA": Storage(streams={n: b"x" for n in names})}))
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        entries = ole.direntries
        vba = next(e for e in entries if e is not None and e.name == "VBA")

        def walk(sid: int, depth_black: int, parent_red: bool) -> tuple[list[str], set[int]]:
            if sid == olefile.NOSTREAM:
                return [], {depth_black}
            node = entries[sid]
            red = node.color == RED
            assert not (red and parent_red), "red node with a red parent"
            black = depth_black + (0 if red else 1)
            left, lh = walk(node.sid_left, black, red)
            right, rh = walk(node.sid_right, black, red)
            return left + [node.name] + right, lh | rh

        in_order, black_heights = walk(vba.sid_child, 0, False)
    assert entries[vba.sid_child].color == BLACK
    assert len(black_heights) == 1, "every path must have the same number of black nodes"
    # MS-CFB §2.6.4: shorter names first, then upper-case comparison.
    assert in_order == sorted(names, key=lambda n: (len(n), n.upper()))


def test_output_is_deterministic() -> None:
    streams = sample(5000)
    assert write_compound_file(storage_from_paths(streams)) == write_compound_file(
        storage_from_paths(streams)
    )


def test_rejects_bad_names() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        write_compound_file(Storage(streams={"Dir": b"", "DIR": b""}))
    with pytest.raises(ValueError, match="31"):
        write_compound_file(Storage(streams={"x" * 32: b""}))


NOSTREAM, FREESECT, ENDOFCHAIN = 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE


def sector(data: bytes, number: int) -> bytes:
    return data[512 * (number + 1) : 512 * (number + 2)]


def chain(data: bytes, first: int) -> list[int]:
    """Sector numbers of a FAT chain, read from the header's first FAT sector (enough here)."""
    fat = struct.unpack("<128I", sector(data, struct.unpack_from("<I", data, 76)[0]))
    out = [first]
    while fat[out[-1]] != ENDOFCHAIN:
        out.append(fat[out[-1]])
    return out


@pytest.mark.parametrize("streams", [1, 2, 4, 5])
def test_unused_directory_entries_are_free_with_nostream_links(streams: int) -> None:
    """MS-CFB §2.6.3: a free entry is all zeroes except its left/right/child ids, which are NOSTREAM.

    Zero there would be stream id 0 -- the root entry -- so a reader walking the slot would loop.
    """
    data = write_compound_file(Storage(streams={f"s{i}": b"x" for i in range(streams)}))
    first_dir = struct.unpack_from("<I", data, 48)[0]
    directory = b"".join(sector(data, n) for n in chain(data, first_dir))
    used = 1 + streams
    assert used % 4, "the case needs a partly filled directory sector"
    for index in range(used, len(directory) // 128):
        entry = directory[128 * index : 128 * (index + 1)]
        left, right, child = struct.unpack_from("<III", entry, 68)
        assert (left, right, child) == (NOSTREAM, NOSTREAM, NOSTREAM), index
        assert entry[:68] == b"\x00" * 68 and entry[80:] == b"\x00" * 48, index


def test_unused_mini_fat_entries_are_free() -> None:
    """MS-CFB §2.4/§2.7: FREESECT marks an unallocated mini FAT entry; 0 would chain to mini sector 0."""
    streams = {"a": b"x" * 100, "b": b"y" * 10}  # 2 + 1 mini sectors of 128 entries
    data = write_compound_file(storage_from_paths(streams))
    first_minifat, count = struct.unpack_from("<II", data, 60)
    assert count == 1
    mini_fat = struct.unpack("<128I", sector(data, first_minifat))
    assert mini_fat[:3] == (1, ENDOFCHAIN, ENDOFCHAIN)
    assert set(mini_fat[3:]) == {FREESECT}
    assert read_all(data) == streams


def test_names_limited_in_utf16_code_units() -> None:
    """31 UTF-16 code units, not 31 Python characters: a non-BMP character takes two."""
    with pytest.raises(ValueError, match="31"):
        write_compound_file(Storage(streams={"\U0001f600" + "x" * 30: b""}))
    name = "\U0001f600" + "x" * 29  # 31 code units: the limit
    assert read_all(write_compound_file(Storage(streams={name: b"abc"}))) == {name: b"abc"}


def test_sibling_order_uses_simple_upper_case_per_code_unit() -> None:
    """MS-CFB §2.6.4 compares upper-cased code units; full case mapping ("ß" -> "SS") would misorder."""
    names = ["\u00dfbb", "SSa", "ssc"]  # all length 3; 'ß' (U+00DF) has no simple upper case
    data = write_compound_file(Storage(streams={n: b"x" for n in names}))
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        entries = ole.direntries

        def in_order(sid: int) -> list[str]:
            if sid == olefile.NOSTREAM:
                return []
            node = entries[sid]
            return in_order(node.sid_left) + [node.name] + in_order(node.sid_right)

        got = in_order(entries[0].sid_child)
    # "SSA" < "SSC" < "\u00dfBB": 'S' (0x53) sorts before 0xDF. Full mapping would put "SSBB" second.
    assert got == ["SSa", "ssc", "\u00dfbb"]


def test_generated_project_passes_strict_allocation_checks(built_vba: bytes) -> None:
    """What strict readers validate: no sector pointed to twice, every mini FAT entry used or free."""
    data = built_vba
    first_minifat, minifat_count = struct.unpack_from("<II", data, 60)
    mini_fat: list[int] = []
    for n in chain(data, first_minifat):
        mini_fat += struct.unpack("<128I", sector(data, n))
    assert len(chain(data, first_minifat)) == minifat_count
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        mini_sectors = ole.root.size // 64
    used = [entry for entry in mini_fat if entry != FREESECT]
    assert len(used) == mini_sectors, "mini FAT entries beyond the mini stream must be FREESECT"
    pointees = [entry for entry in used if entry != ENDOFCHAIN]
    assert len(pointees) == len(set(pointees)) and all(p < mini_sectors for p in pointees)
