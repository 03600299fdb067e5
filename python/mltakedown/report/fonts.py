"""Finding a font that covers Chinese as well as Latin text, for the PDF documents.

The documents mix Spanish/Portuguese text with Chinese, so the PDF embeds one font that covers
both. fpdf2 (2.8) embeds OpenType fonts with CFF outlines and picks a face out of a ``.ttc``
collection (``collection_font_number``), so Debian's ``fonts-noto-cjk`` (Noto Sans CJK, a CFF
collection) works as is; on Windows, Microsoft YaHei (``msyh.ttc``) ships with the system.

Lookup order: the ``MLTAKEDOWN_CJK_FONT`` environment variable (``path`` or ``path#index``),
then a list of known paths. In a collection, the Simplified Chinese face is chosen by name,
because the users read Simplified Chinese first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]  # no stubs

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


@dataclass(frozen=True, slots=True)
class CjkFont:
    """The faces the PDF renderer registers: regular, and bold when one was found."""

    regular: FontFile
    bold: FontFile | None


def _windows_fonts() -> Path:
    return Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


def _known_fonts() -> list[tuple[Path, Path | None]]:
    """(regular, bold) candidates, best first."""
    noto = Path("/usr/share/fonts/opentype/noto")
    win = _windows_fonts()
    return [
        (noto / "NotoSansCJK-Regular.ttc", noto / "NotoSansCJK-Bold.ttc"),
        (noto / "NotoSerifCJK-Regular.ttc", noto / "NotoSerifCJK-Bold.ttc"),
        # Fedora/Arch place the same files elsewhere.
        (
            Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
            Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc"),
        ),
        (
            Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
            Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc"),
        ),
        (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), None),
        (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), None),
        (win / "msyh.ttc", win / "msyhbd.ttc"),
        (win / "simsun.ttc", None),
        (Path("/Library/Fonts/Arial Unicode.ttf"), None),
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


def find_cjk_font(candidates: Iterable[tuple[Path, Path | None]] | None = None) -> CjkFont:
    """The font to embed in PDFs, or :class:`FontNotFoundError` naming the package to install."""
    override = os.environ.get(CJK_FONT_ENV, "").strip()
    if override:
        face = _parse_override(override)
        if not face.path.is_file():
            raise FontNotFoundError(f"{CJK_FONT_ENV}={override!r} does not name an existing font file")
        return CjkFont(_resolve(face), None)
    tried = []
    for regular, bold in candidates if candidates is not None else _known_fonts():
        tried.append(str(regular))
        if regular.is_file():
            bold_face = _resolve(FontFile(bold, -1)) if bold is not None and bold.is_file() else None
            return CjkFont(_resolve(FontFile(regular, -1)), bold_face)
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
