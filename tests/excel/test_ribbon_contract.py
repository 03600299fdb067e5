"""The ribbon's VBA calls functions that exist, and the Excel guide describes the ribbon as built."""

from __future__ import annotations

import inspect
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from mltakedown import excel

ROOT = Path(__file__).resolve().parents[2]
VBA = ROOT / "xlsm" / "vba" / "MLTakedownRibbon.bas"
RIBBON = ROOT / "xlsm" / "ribbon" / "customUI.xml"
GUIDE = ROOT / "README.md"
NS = {"ui": "http://schemas.microsoft.com/office/2006/01/customui"}


def test_every_runpython_command_names_an_entry_point_without_arguments() -> None:
    commands = re.findall(r'RunPython "import mltakedown\.excel as x; x\.(\w+)\(\)"', VBA.read_text("utf-8"))
    assert commands == ["check", "pull", "plan", "execute", "restore", "report", "help_"]
    for name in commands:
        function = getattr(excel, name)
        assert name in excel.__all__
        assert not inspect.signature(function).parameters, name


def test_the_guide_lists_the_buttons_in_ribbon_order() -> None:
    labels = [b.get("label") for b in ET.parse(RIBBON).getroot().iterfind(".//ui:button", NS)]
    assert labels == ["Check", "Pull status", "Plan", "Execute", "Restore", "Report", "Help"]
    guide = GUIDE.read_text("utf-8")
    table = guide[guide.index("| # | Button |") :]
    positions = [table.index(f"**{label}**") for label in labels]
    assert positions == sorted(positions)
