"""The workbook's custom ribbon: render ``customUI.xml`` per language and inject it into a package.

Which part: the Office 2007 one, ``customUI/customUI.xml`` in the
``http://schemas.microsoft.com/office/2006/01/customui`` namespace with the package relationship type
``http://schemas.microsoft.com/office/2006/relationships/ui/extensibility`` (MS-OI29500 §3.4.1.3).
Office 2010 and later read it too. The 2010 ``customUI14.xml`` part would be dropped in practice:
openpyxl, which the headless adapter saves with, re-creates only the 2006 relationship
(``workbook/_writer.py`` looks for ``CUSTOMUI_NS``), so after one save a customUI14 ribbon silently
disappears while the 2006 one survives (see ``docs/xlwings.md`` §4).

Labels are rendered at build time from the English template (``xlsm/ribbon/customUI.xml``) and a
small table of translations by control id (``xlsm/ribbon/labels.json``), rather than with
``getLabel`` callbacks: static labels need no VBA and show even when macros are disabled.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "CUSTOMUI_NS",
    "CUSTOMUI_PART",
    "CUSTOMUI_REL_TYPE",
    "LANGUAGES",
    "add_ribbon_relationship",
    "load_labels",
    "render_custom_ui",
]

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
CUSTOMUI_PART = "customUI/customUI.xml"
CUSTOMUI_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
_CUSTOMUI14_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

LANGUAGES = ("en", "es", "pt", "zh")
"""Languages the ribbon labels come in (English is the template itself)."""

Labels = Mapping[str, Mapping[str, tuple[str, str | None]]]
"""language → control id → (label, screentip or None to keep the template's)."""


def load_labels(path: Path) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Read the translation table (``{"es": {"btnCheck": ["Revisar", "tip"], …}, …}``)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {lang: {cid: (pair[0], pair[1]) for cid, pair in table.items()} for lang, table in raw.items()}


def render_custom_ui(template: bytes, lang: str, labels: Labels) -> bytes:
    """The customUI XML for ``lang``: the template with labels and screentips replaced by control id.

    Raises ``ValueError`` for an unknown language, a template in another namespace, or a table that
    names a control id the template does not have (so a renamed button cannot lose its label).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown ribbon language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    root = ET.fromstring(template)
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        raise ValueError(f"ribbon template must be a customUI element in {CUSTOMUI_NS}")
    table = labels.get(lang, {}) if lang != "en" else {}
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    unknown = sorted(set(table) - set(by_id))
    if unknown:
        raise ValueError(f"labels for {lang} name unknown control ids: {', '.join(unknown)}")
    for control_id, (label, screentip) in table.items():
        element = by_id[control_id]
        element.set("label", label)
        if screentip is not None:
            element.set("screentip", screentip)
    ET.register_namespace("", CUSTOMUI_NS)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body + "\n").encode("utf-8")


def add_ribbon_relationship(root_rels: bytes) -> bytes:
    """``_rels/.rels`` with exactly one ribbon relationship, pointing at :data:`CUSTOMUI_PART`.

    Existing ribbon relationships (2006 or 2010 type) are replaced; the new one gets the first free
    ``rIdN``. Other relationships are kept as they are.
    """
    ET.register_namespace("", _RELS_NS)
    root = ET.fromstring(root_rels)
    for rel in list(root):
        if rel.get("Type") in (CUSTOMUI_REL_TYPE, _CUSTOMUI14_REL_TYPE):
            root.remove(rel)
    ET.SubElement(
        root,
        f"{{{_RELS_NS}}}Relationship",
        {"Id": free_relationship_id(root), "Type": CUSTOMUI_REL_TYPE, "Target": CUSTOMUI_PART},
    )
    return xml_bytes(root)


def free_relationship_id(rels_root: ET.Element) -> str:
    """The lowest ``rIdN`` not used in a Relationships element."""
    used = {rel.get("Id") for rel in rels_root}
    n = 1
    while f"rId{n}" in used:
        n += 1
    return f"rId{n}"


def xml_bytes(root: ET.Element) -> bytes:
    """Serialise a package XML part with the standard declaration, UTF-8."""
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body
