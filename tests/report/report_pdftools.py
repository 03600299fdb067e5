"""Helpers that look at a rendered PDF the way a reader would: its text layer and its pages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def need(tool: str) -> str:
    """The path of a poppler tool, or skip the test when poppler-utils is not installed."""
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return found


def pdf_text(path: Path) -> str:
    """The PDF's text layer in reading order (``pdftotext``)."""
    result = subprocess.run(
        [need("pdftotext"), "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, timeout=60
    )
    return result.stdout.decode("utf-8")


def render_pages(path: Path, out_dir: Path, dpi: int = 60) -> list[Path]:
    """Every page as a PNG (``pdftoppm -png``), in page order."""
    prefix = out_dir / path.stem
    subprocess.run(
        [need("pdftoppm"), "-png", "-r", str(dpi), str(path), str(prefix)], check=True, timeout=120
    )
    return sorted(out_dir.glob(f"{path.stem}*.png"))


def pdf_fonts(path: Path) -> str:
    """``pdffonts`` output: one line per font, with embedded/subset flags."""
    return subprocess.run(
        [need("pdffonts"), str(path)], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def squash(text: str) -> str:
    """Text without whitespace (pdftotext re-flows lines; CJK has no spaces to keep)."""
    return "".join(text.split())
