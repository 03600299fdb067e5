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
