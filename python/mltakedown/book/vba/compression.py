"""MS-OVBA compression (MS-OVBA §2.4.1): the LZ77 variant used by the ``dir`` and module streams.

A *CompressedContainer* is the signature byte ``0x01`` followed by chunks. Each chunk covers up to
4096 bytes of decompressed data and starts with a 2-byte little-endian header:

* bits 0-11: size of the whole chunk (header included) minus 3;
* bits 12-14: the signature ``0b011``;
* bit 15: 1 when the chunk is compressed, 0 when it holds 4096 raw bytes.

A compressed chunk is a run of *token sequences*: one flag byte, then up to eight tokens, flag bit ``i``
(least significant first) telling whether token ``i`` is a literal byte (0) or a 2-byte copy token (1).
A copy token packs ``offset - 1`` in its high bits and ``length - 3`` in its low bits; the split moves
with the position inside the chunk (§2.4.1.3.19.1), so that early in a chunk offsets are short and
lengths long.
"""

from __future__ import annotations

import struct

__all__ = ["CHUNK_SIZE", "IncompressibleChunkError", "compress", "decompress"]

CHUNK_SIZE = 4096
"""Decompressed bytes covered by one chunk."""

_SIGNATURE = 0x01
_CHUNK_SIGNATURE = 0b011 << 12
_COMPRESSED_FLAG = 0x8000
_MIN_MATCH = 3
# Candidate positions examined per byte. Bounds the time on long runs of one character (indentation)
# without changing the output for ordinary source text in any way that matters for correctness.
_MAX_CANDIDATES = 64


class IncompressibleChunkError(ValueError):
    """A chunk does not fit in 4096 compressed bytes and raw chunks were not allowed."""


def _copy_token_split(distance: int) -> int:
    """Number of bits of a copy token given to the offset, for ``distance`` bytes into the chunk.

    §2.4.1.3.19.1: the smallest ``bit_count >= 4`` with ``2 ** bit_count >= distance``.
    """
    return max((distance - 1).bit_length(), 4)


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """Token sequences for ``data[start:end]`` (one chunk), greedy longest match, nearest on ties."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = start
    while pos < end:
        flag_index = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len, best_pos = _longest_match(data, start, end, pos, heads)
            if best_len >= _MIN_MATCH:
                bit_count = _copy_token_split(pos - start)
                token = ((pos - best_pos - 1) << (16 - bit_count)) | (best_len - _MIN_MATCH)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(data[pos])
                step = 1
            for p in range(pos, pos + step):
                if p + _MIN_MATCH <= end:
                    heads.setdefault(data[p : p + _MIN_MATCH], []).append(p)
            pos += step
        out[flag_index] = flags
    return bytes(out)


def _longest_match(
    data: bytes, start: int, end: int, pos: int, heads: dict[bytes, list[int]]
) -> tuple[int, int]:
    """Longest earlier match for ``data[pos:]`` within the chunk, limited by the copy-token length."""
    if pos + _MIN_MATCH > end:
        return 0, 0
    candidates = heads.get(data[pos : pos + _MIN_MATCH])
    if not candidates:
        return 0, 0
    bit_count = _copy_token_split(pos - start)
    max_len = min((0xFFFF >> bit_count) + _MIN_MATCH, end - pos)
    best_len = 0
    best_pos = 0
    # Newest first: the nearest candidate wins a tie, as in the spec's backwards search.
    for cand in reversed(candidates[-_MAX_CANDIDATES:]):
        length = _MIN_MATCH
        # Overlapping matches (cand + length > pos) are fine: the decompressor copies byte by byte.
        while length < max_len and data[cand + length] == data[pos + length]:
            length += 1
        if length > best_len:
            best_len, best_pos = length, cand
            if length == max_len:
                break
    return best_len, best_pos


def compress(data: bytes, *, allow_raw: bool = True) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer.

    A chunk whose tokens would exceed 4096 bytes is stored raw (§2.4.1.3.10). A raw chunk always
    decompresses to 4096 bytes, so a short, incompressible *final* chunk comes back padded with
    zero bytes; that is the format's rule, not a bug here. Pass ``allow_raw=False`` to raise
    :class:`IncompressibleChunkError` instead: VBA module source never needs a raw chunk, and
    third-party reports say Excel drops modules stored that way.
    """
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK_SIZE):
        end = min(start + CHUNK_SIZE, len(data))
        body = _compress_chunk(data, start, end)
        if len(body) <= CHUNK_SIZE:
            out += struct.pack("<H", _COMPRESSED_FLAG | _CHUNK_SIGNATURE | (len(body) + 2 - 3))
            out += body
        elif allow_raw:
            raw = data[start:end].ljust(CHUNK_SIZE, b"\x00")
            out += struct.pack("<H", _CHUNK_SIGNATURE | (CHUNK_SIZE + 2 - 3))
            out += raw
        else:
            raise IncompressibleChunkError(f"chunk at byte {start} does not compress into {CHUNK_SIZE} bytes")
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer (§2.4.1.3.1); raises ``ValueError`` if malformed."""
    if not container or container[0] != _SIGNATURE:
        raise ValueError("not an MS-OVBA compressed container (signature byte is not 0x01)")
    out = bytearray()
    cur = 1
    while cur < len(container):
        if cur + 2 > len(container):
            raise ValueError(f"truncated chunk header at byte {cur}")
        (header,) = struct.unpack_from("<H", container, cur)
        if header & 0x7000 != _CHUNK_SIGNATURE:
            raise ValueError(f"bad chunk signature at byte {cur}")
        chunk_end = min(cur + (header & 0x0FFF) + 3, len(container))
        cur += 2
        if not header & _COMPRESSED_FLAG:
            out += container[cur : cur + CHUNK_SIZE]
            cur += CHUNK_SIZE
            continue
        out += _decompress_chunk(container, cur, chunk_end)
        cur = chunk_end
    return bytes(out)


def _decompress_chunk(container: bytes, cur: int, chunk_end: int) -> bytes:
    """Decompressed bytes of one compressed chunk whose token sequences span ``[cur, chunk_end)``."""
    chunk = bytearray()
    while cur < chunk_end:
        flags = container[cur]
        cur += 1
        for bit in range(8):
            if cur >= chunk_end:
                break
            if not flags & (1 << bit):
                chunk.append(container[cur])
                cur += 1
                continue
            if cur + 2 > chunk_end:
                raise ValueError("truncated copy token")
            (token,) = struct.unpack_from("<H", container, cur)
            cur += 2
            bit_count = _copy_token_split(len(chunk))
            offset = (token >> (16 - bit_count)) + 1
            length = (token & (0xFFFF >> bit_count)) + _MIN_MATCH
            if offset > len(chunk):
                raise ValueError("copy token points before the start of the chunk")
            src = len(chunk) - offset
            for i in range(length):
                chunk.append(chunk[src + i])
    return bytes(chunk)
