"""Finding a font that covers Chinese as well as Latin text, for the PDF documents.

The documents mix Spanish/Portuguese text with Chinese, so the PDF embeds one font that covers
both. fpdf2 (2.8) embeds OpenType fonts with CFF outlines and picks a face out of a ``.ttc``
collection (``collection_font_number``), so Debian's ``fonts-noto-cjk`` (Noto Sans CJK, a CFF
collection) works as is; on Windows, Microsoft YaHei (``msyh.ttc``) ships with the system.

Lookup order: the ``MLTAKEDOWN_CJK_FONT`` environment variable (``path`` or ``path#index``),
then a list of known paths. In a collection, the Simplified Chinese face is chosen by name,
because the users read Simplified Chinese first. One face is embedded (bold is drawn by
stroking the outline): parsing and subsetting a CJK face is most of the time a PDF takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

CJK_FONT_ENV = "MLTAKEDOWN_CJK_FONT"
"""Environment variable naming the font file to use (``/path/font.ttc#2`` picks face 2)."""

DEBIAN_PACKAGE = "fonts-noto-cjk"
"""The Debian/Ubuntu package the project's set-up installs for the PDFs."""


class FontNotFoundError(RuntimeError):
    """No font covering Chinese was found; the message says how to install one."""


@dataclass(frozen=True, slots=True)
class FontFile:
    """One face of a font file (``index`` is the face number inside a ``.ttc`` collection)."""

    path: Path
    index: int = 0


def _windows_fonts() -> Path:
    return Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


def _known_fonts() -> list[Path]:
    """Candidate font files, best first."""
    win = _windows_fonts()
    return [
        Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian/Ubuntu fonts-noto-cjk
        Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
        Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora
        Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Arch
        Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # Debian fonts-wqy-zenhei
        Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian fonts-wqy-microhei
        win / "msyh.ttc",  # Microsoft YaHei, on every Windows 10/11
        win / "simsun.ttc",
        Path("/System/Library/Fonts/PingFang.ttc"),  # macOS
        Path("/System/Library/Fonts/STHeiti Medium.ttc"),
        Path("/Library/Fonts/Arial Unicode.ttf"),
    ]


def _parse_override(value: str) -> FontFile:
    path, _, index = value.partition("#")
    return FontFile(Path(path), int(index) if index.isdigit() else -1)


@lru_cache(maxsize=32)
def _simplified_face(path: Path) -> int:
    """The face of ``path`` whose family names Simplified Chinese (``SC``), else 0."""
    if path.suffix.lower() not in {".ttc", ".otc"}:
        return 0
    collection = TTCollection(str(path), lazy=True)
    try:
        for number, font in enumerate(collection.fonts):
            family = font["name"].getDebugName(1) or ""
            if family.endswith(" SC") or "GB" in family or "YaHei" in family:
                return number
    finally:
        collection.close()
    return 0


def _resolve(face: FontFile) -> FontFile:
    return face if face.index >= 0 else FontFile(face.path, _simplified_face(face.path))


def find_cjk_font(candidates: Iterable[Path] | None = None) -> FontFile:
    """The font face to embed in PDFs, or :class:`FontNotFoundError` naming the package to install."""
    override = os.environ.get(CJK_FONT_ENV, "").strip()
    if override:
        face = _parse_override(override)
        if not face.path.is_file():
            raise FontNotFoundError(f"{CJK_FONT_ENV}={override!r} does not name an existing font file")
        return _resolve(face)
    tried = []
    for path in candidates if candidates is not None else _known_fonts():
        tried.append(str(path))
        if path.is_file():
            return _resolve(FontFile(path, -1))
    raise FontNotFoundError(
        "No font covering Chinese text was found for the PDF documents. Install the Debian/Ubuntu "
        f"package '{DEBIAN_PACKAGE}' (sudo apt-get install {DEBIAN_PACKAGE}), or set {CJK_FONT_ENV} "
        "to a .ttf/.otf/.ttc file that covers Chinese (append '#N' to choose face N of a collection). "
        f"Looked in: {', '.join(tried)}"
    )


@lru_cache(maxsize=8)
def _cmap(face: FontFile) -> frozenset[int]:
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def missing_glyphs(face: FontFile, texts: Iterable[str]) -> set[str]:
    """Characters of ``texts`` that ``face`` has no glyph for (line breaks and tabs excepted)."""
    covered = _cmap(face)
    return {char for text in texts for char in text if char not in "\n\r\t" and ord(char) not in covered}
