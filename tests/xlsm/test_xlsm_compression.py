"""MS-OVBA compression: our compressor's output read back by oletools' independent decompressor."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from mltakedown.book.vba.compression import CHUNK_SIZE, IncompressibleChunkError, compress, decompress

from .conftest import XLWINGS_DIR


def oletools_roundtrip(data: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(compress(data))))


def expected_after_roundtrip(data: bytes, container: bytes) -> bytes:
    """``data``, plus the zero padding a raw final chunk carries by the format's rule (§2.4.1.3.10)."""
    tail = len(data) % CHUNK_SIZE
    if not tail:
        return data
    # Walk to the final chunk's header to see whether it is raw.
    pos = 1
    header = 0
    while pos < len(container):
        header = int.from_bytes(container[pos : pos + 2], "little")
        last = pos
        pos += (header & 0x0FFF) + 3
    assert last
    raw = not header & 0x8000
    return data + b"\x00" * (CHUNK_SIZE - tail) if raw else data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"a",
        b"abc",
        b'Attribute VB_Name = "M"\r\n',
        b"ab" * 2000,
        bytes(range(256)) * 3,  # 768 bytes: past the 657-byte point where ms-ovba's compressor breaks
        b"x" * (CHUNK_SIZE - 1),
        b"x" * CHUNK_SIZE,
        b"x" * (CHUNK_SIZE + 1),
        (b"Public Sub OnCheck(control As IRibbonControl)\r\n" * 400),
    ],
    ids=["empty", "one", "three", "attr", "ab2000", "768", "4095", "4096", "4097", "many-chunks"],
)
def test_known_inputs_roundtrip_exactly(data: bytes) -> None:
    assert oletools_roundtrip(data) == data
    assert decompress(compress(data)) == data


def test_large_module_roundtrips_and_compresses() -> None:
    source = (XLWINGS_DIR / "xlwings.bas").read_bytes()
    assert len(source) > 40_000
    container = compress(source, allow_raw=False)
    assert bytes(decompress_stream(bytearray(container))) == source
    assert len(container) < len(source) / 2


def test_matches_oletools_on_streams_written_by_others(reference_vba: bytes) -> None:
    """Our decompressor agrees with oletools on every module stream of xlwings' reference project."""
    from .vbaread import module_source, parse_dir, streams

    for group in parse_dir(reference_vba).modules:
        name = group[0][1].decode("cp1252")
        offset = int.from_bytes(dict(group)[0x31], "little")
        raw = streams(reference_vba)[f"VBA/{name}"][offset:]
        assert decompress(raw).decode("cp1252") == module_source(reference_vba, name)


@pytest.mark.parametrize("size", [100, 3000, 3640, 3641, 4095, 4096, 8192, 10_000])
def test_incompressible_inputs(size: int) -> None:
    data = random.Random(size).randbytes(size)
    container = compress(data)
    out = bytes(decompress_stream(bytearray(container)))
    assert out == expected_after_roundtrip(data, container)
    assert decompress(container) == out


def test_raw_chunks_can_be_refused() -> None:
    with pytest.raises(IncompressibleChunkError):
        compress(random.Random(1).randbytes(CHUNK_SIZE), allow_raw=False)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=9000))
def test_random_bytes_roundtrip(data: bytes) -> None:
    container = compress(data)
    out = bytes(decompress_stream(bytearray(container)))
    assert out == expected_after_roundtrip(data, container)
    assert decompress(container) == out


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(" \r\nabcdefgXYZ=\"'()_.,0123456789")), max_size=12_000))
def test_source_like_text_roundtrips_exactly(text: str) -> None:
    data = text.encode("cp1252")
    assert oletools_roundtrip(data) == data


def test_malformed_containers_are_rejected() -> None:
    with pytest.raises(ValueError, match="signature"):
        decompress(b"\x02\x00\x00")
    with pytest.raises(ValueError):
        decompress(b"\x01\x05\x00")  # chunk signature bits are not 0b011
    with pytest.raises(ValueError, match="before the start"):
        decompress(b"\x01\x02\xb0\x01\xff\xff")  # copy token before any literal
