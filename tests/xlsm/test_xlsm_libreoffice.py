"""LibreOffice (an independent VBA importer) opens the committed workbook; its sheets rendered to PNG."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from .conftest import COMMITTED_XLSM

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


@pytest.fixture(scope="module")
def soffice() -> str:
    """Path of soffice; missing means skip, except in CI (``CI=true``) where it is a failure."""
    found = shutil.which("soffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("soffice (libreoffice-calc-nogui) is required in CI")
        pytest.skip("soffice not installed")
    return found


def convert(soffice: str, source: Path, fmt: str, out_dir: Path) -> Path:
    """``soffice --headless --convert-to fmt`` with a private profile, so parallel runs never clash."""
    profile = out_dir / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            fmt,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    result = out_dir / f"{source.stem}.{fmt}"
    assert result.exists(), f"LibreOffice wrote no {fmt}"
    return result


def test_libreoffice_imports_every_module(soffice: str, tmp_path: Path) -> None:
    ods = convert(soffice, COMMITTED_XLSM, "ods", tmp_path)
    with zipfile.ZipFile(ods) as package:
        modules = {
            Path(name).stem: package.read(name).decode("utf-8")
            for name in package.namelist()
            if name.startswith("Basic/VBAProject/")
            and name.endswith(".xml")
            and not name.endswith("script-lb.xml")
        }
    kinds = {name: "".join(re.findall(r'script:moduleType="(\w+)"', text)) for name, text in modules.items()}
    assert kinds["Dictionary"] == "class"
    assert kinds["MLTakedownRibbon"] == "normal" and kinds["xlwings"] == "normal"
    assert kinds["ThisWorkbook"] == "document"
    assert sum(kind == "document" for kind in kinds.values()) >= 2
    assert "Option VBASupport 1" in modules["MLTakedownRibbon"]
    assert "x.help_()" in modules["MLTakedownRibbon"]


def test_render_sheets_to_png(soffice: str, tmp_path: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm (poppler-utils) is required in CI")
        pytest.skip("pdftoppm not installed")
    pdf = convert(soffice, COMMITTED_XLSM, "pdf", tmp_path)
    subprocess.run([pdftoppm, "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages, "no page rendered"
    assert all(page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 1000 for page in pages)
    if os.environ.get("MLTAKEDOWN_ARTIFACTS"):
        out = Path(__file__).parents[1] / "artifacts" / "xlsm"
        out.mkdir(parents=True, exist_ok=True)
        for page in [pdf, *pages]:
            shutil.copy2(page, out / f"mltakedown-{page.name}")
