"""Write cells into one worksheet of a workbook package without re-serialising the workbook.

The fast write path of :mod:`mltakedown.book.xlsx`: instead of loading every part with openpyxl
and saving them all again, it rewrites only the worksheet XML (splicing ``<c>`` elements into the
``<row>`` elements that change) and, when a colour or a date format is needed that the workbook
lacks, appends a font, a fill, a number format and a cell format to ``styles.xml``. Dates are
written as openpyxl writes them: the serial number, in a cell format that shows dates. Every other zip member (VBA project, ribbon,
relationships, other sheets…) is copied with its content unchanged, by construction.

The splicer understands the XML that Excel, openpyxl and LibreOffice write: unprefixed tags,
rows and cells with ``r`` attributes in ascending order. Anything else raises
:class:`SpliceUnsupported`, and the caller falls back to the openpyxl path; it never guesses.
Cells it writes hold inline strings (``t="inlineStr"``), so text is always text (a message that
begins with ``=`` is never a formula) and ``sharedStrings.xml`` is left alone.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TIME_FORMATS
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.fills import Fill
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_REVERSE, is_date_format
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import to_excel

MAX_CELL_TEXT = 32_767
"""Excel's limit on the characters of one cell."""

SpliceValue = str | int | float | bool | None
"""What the splicer writes: text, numbers, booleans, or nothing (an empty cell)."""

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW_RE = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_CELL_RE = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF_ATTR = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_ROW_ATTR = re.compile(rb'\br="(\d+)"')
_STYLE_ATTR = re.compile(rb'\bs="(\d+)"')
_SPANS_ATTR = re.compile(rb'\bspans="[^"]*"')
_DIMENSION = re.compile(rb'(<dimension\b[^>]*?\bref=")([^"]*)(")')
_COUNT_ATTR = re.compile(rb'\bcount="\d+"')
_MERGE_REF = re.compile(rb'<mergeCell\b[^>]*?\bref="([^"]+)"')


class SpliceUnsupported(Exception):
    """The package holds something the splicer does not handle; use the openpyxl path instead."""


@dataclass(frozen=True, slots=True)
class CellEdit:
    """One cell to write: its value and, optionally, the cell format (``cellXfs`` index) to give it.

    ``style=None`` keeps the format of the cell already there (a new cell gets the default one),
    like assigning a value in openpyxl does; an integer replaces it (``0`` is the default format).
    """

    value: SpliceValue
    style: int | None = None
    date_format: str | None = None
    """For a date (``value`` is its Excel serial number): the number format to give the cell
    unless its format already shows a date — openpyxl's rule when a date is assigned; the
    cell's font, fill, alignment… are kept. Needs the :class:`StyleBook` passed to the splice."""


Edits = Mapping[int, Mapping[int, CellEdit]]
"""Row number → column index → edit."""


_XML_ILLEGAL_RE = re.compile("[\ud800-\udfff\ufffe\uffff]")
"""What XML 1.0 forbids beyond openpyxl's control characters: lone surrogates (text from JSON can
hold them, ``"\\ud800"``) and the non-characters U+FFFE/U+FFFF. Written into a part, any of them
makes the whole workbook unreadable."""


def safe_text(value: str) -> str:
    """Text as a cell can hold it: no XML-illegal characters, at most 32,767 characters.

    Excel counts a cell's characters in UTF-16 code units (an emoji is two), so the limit is
    applied to that count; the cut never splits a character.
    """
    cleaned = _XML_ILLEGAL_RE.sub("\ufffd", str(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)))
    if len(cleaned) <= MAX_CELL_TEXT // 2 or _utf16_units(cleaned) <= MAX_CELL_TEXT:
        return cleaned
    kept, units = [], 0
    for char in cleaned:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_CELL_TEXT - 1:  # room for the ellipsis
            break
        kept.append(char)
    return "".join(kept) + "…"


def _utf16_units(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def date_edit(value: dt.date) -> CellEdit:
    """The edit that writes a date as openpyxl does: its serial number (1900 date system), and
    the date format openpyxl gives that type (time zones dropped: Excel has none)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    kind = dt.datetime if isinstance(value, dt.datetime) else dt.date
    return CellEdit(float(to_excel(value)), date_format=TIME_FORMATS[kind])


# --- The worksheet XML ----------------------------------------------------------------------------


def splice_sheet(xml: bytes, edits: Edits, styles: StyleBook | None = None) -> bytes:
    """``xml`` (a worksheet part) with the edited cells written; everything else kept as it was.

    ``styles`` gives the date formats of edits with a ``date_format`` (see :class:`CellEdit`).
    """
    return b"".join(splice_sheet_parts(xml, edits, styles))


def splice_sheet_parts(xml: bytes, edits: Edits, styles: StyleBook | None = None) -> list[bytes]:
    """:func:`splice_sheet` as consecutive pieces (a large sheet is never joined into one buffer)."""
    start = xml.find(b"<sheetData")
    if start < 0 or xml.find(b"<sheetData", start + 1) >= 0:
        raise SpliceUnsupported("the sheet has no (or a prefixed) sheetData element")
    open_end = xml.index(b">", start) + 1
    if xml[open_end - 2 : open_end] == b"/>":
        body, close, tail = b"", b"</sheetData>", xml[open_end:]
        head, opening = xml[:start], xml[start : open_end - 2] + b">"
    else:
        end = xml.find(b"</sheetData>", open_end)
        if end < 0:
            raise SpliceUnsupported("the sheetData element is not closed")
        head, opening, body = xml[:start], xml[start:open_end], xml[open_end:end]
        close, tail = b"</sheetData>", xml[end + len(b"</sheetData>") :]
    if b"<![CDATA[" in body:
        raise SpliceUnsupported("the sheet holds CDATA sections")
    _refuse_merged_targets(tail, edits)
    rows, bounds = _splice_rows(body, edits, styles)
    return [_update_dimension(head, bounds), opening, *rows, close, tail]


def _refuse_merged_targets(tail: bytes, edits: Edits) -> None:
    """A value written into a merged cell other than the range's first would be hidden by the merge."""
    for match in _MERGE_REF.finditer(tail):
        try:
            min_col, min_row, max_col, max_row = range_boundaries(match.group(1).decode("ascii"))
        except (ValueError, TypeError) as exc:
            raise SpliceUnsupported(f"a merged range the splicer cannot read ({exc})") from exc
        for row in range(min_row, max_row + 1):
            for col in edits.get(row, ()):
                if min_col <= col <= max_col and (row, col) != (min_row, min_col):
                    raise SpliceUnsupported(f"cell {get_column_letter(col)}{row} is inside a merged range")


def _splice_rows(
    body: bytes, edits: Edits, styles: StyleBook | None
) -> tuple[list[bytes], tuple[int, int, int, int] | None]:
    pending = sorted(edits)
    parts: list[bytes] = []
    pos, index, last_row = 0, 0, 0
    bounds: list[int] | None = None  # min row, min col, max row, max col of what was written

    def grow(row: int, cols: Sequence[int]) -> None:
        nonlocal bounds
        if not cols:
            return
        low, high = min(cols), max(cols)
        if bounds is None:
            bounds = [row, low, row, high]
        else:
            bounds = [min(bounds[0], row), min(bounds[1], low), max(bounds[2], row), max(bounds[3], high)]

    for match in _ROW_RE.finditer(body):
        if body[pos : match.start()].strip():
            raise SpliceUnsupported("unexpected content between rows")
        pos = match.end()
        found = _ROW_ATTR.search(match.group(1))
        if found is None:
            raise SpliceUnsupported("a row without its r attribute")
        number = int(found.group(1))
        if number <= last_row:
            raise SpliceUnsupported("rows out of order")
        last_row = number
        while index < len(pending) and pending[index] < number:
            row_xml, cols = _new_row(pending[index], edits[pending[index]], styles)
            parts.append(row_xml)
            grow(pending[index], cols)
            index += 1
        if index < len(pending) and pending[index] == number:
            row_xml, cols = _edit_row(number, match.group(1), match.group(2) or b"", edits[number], styles)
            parts.append(row_xml)
            grow(number, cols)
            index += 1
        else:
            parts.append(match.group(0))
    if body[pos:].strip():
        raise SpliceUnsupported("unexpected content after the last row")
    for number in pending[index:]:
        row_xml, cols = _new_row(number, edits[number], styles)
        parts.append(row_xml)
        grow(number, cols)
    return parts, (bounds[0], bounds[1], bounds[2], bounds[3]) if bounds else None


def _new_row(
    number: int, row_edits: Mapping[int, CellEdit], styles: StyleBook | None
) -> tuple[bytes, list[int]]:
    cells = [(col, _render(col, number, None, edit, styles)) for col, edit in sorted(row_edits.items())]
    cells = [(col, xml) for col, xml in cells if xml]
    if not cells:
        return b"", []
    return b'<row r="%d">%s</row>' % (number, b"".join(xml for _, xml in cells)), [c for c, _ in cells]


def _edit_row(
    number: int, attrs: bytes, content: bytes, row_edits: Mapping[int, CellEdit], styles: StyleBook | None
) -> tuple[bytes, list[int]]:
    existing: dict[int, tuple[bytes, bytes | None]] = {}
    pos = 0
    for cell in _CELL_RE.finditer(content):
        if content[pos : cell.start()].strip():
            raise SpliceUnsupported(f"row {number} holds something other than cells")
        pos = cell.end()
        ref = _REF_ATTR.search(cell.group(1))
        if ref is None or int(ref.group(2)) != number:
            raise SpliceUnsupported(f"a cell of row {number} without a matching r attribute")
        style = _STYLE_ATTR.search(cell.group(1))
        existing[_column_index(ref.group(1))] = (cell.group(0), style.group(1) if style else None)
    if content[pos:].strip():
        raise SpliceUnsupported(f"row {number} holds something other than cells")
    out: list[tuple[int, bytes]] = []
    written: list[int] = []
    for col in sorted(existing.keys() | row_edits.keys()):
        edit = row_edits.get(col)
        old = existing.get(col)
        if edit is None:
            assert old is not None
            out.append((col, old[0]))
            continue
        if old is not None and b"<f" in old[0]:
            # Replacing a formula would orphan shared-formula children and the calculation chain.
            raise SpliceUnsupported(f"cell {get_column_letter(col)}{number} holds a formula")
        xml = _render(col, number, old[1] if old else None, edit, styles)
        if xml:
            out.append((col, xml))
            written.append(col)
    if not out:
        if b"spans=" in attrs:
            attrs = _SPANS_ATTR.sub(b"", attrs)
        return b"<row%s/>" % attrs, written
    if b"spans=" in attrs:
        attrs = _SPANS_ATTR.sub(b'spans="%d:%d"' % (out[0][0], out[-1][0]), attrs)
    return b"<row%s>%s</row>" % (attrs, b"".join(xml for _, xml in out)), written


@cache
def _column_index(letters: bytes) -> int:
    return int(column_index_from_string(letters.decode("ascii")))


@cache
def _letters(col: int) -> bytes:
    return str(get_column_letter(col)).encode("ascii")


def _render(col: int, row: int, old_style: bytes | None, edit: CellEdit, styles: StyleBook | None) -> bytes:
    """The ``<c>`` element for ``edit`` (``b""`` when the cell ends up empty and unstyled)."""
    style = old_style if edit.style is None else (b"%d" % edit.style if edit.style else None)
    value = edit.value
    if edit.date_format is not None and value is not None:
        if styles is None:
            raise SpliceUnsupported("a date to write without the workbook's styles")
        dated = styles.date_style(int(style) if style else 0, edit.date_format)
        style = b"%d" % dated if dated else None
        if not isinstance(value, float):
            raise SpliceUnsupported("a date whose serial number is not a float")
        # openpyxl writes serial numbers with 16 significant digits: the same text on both paths.
        return b'<c r="%s%d"%s><v>%s</v></c>' % (
            _letters(col),
            row,
            b' s="' + style + b'"' if style else b"",
            (b"%.16g" % value),
        )
    if style is None and (value is None or value == ""):
        return b""
    # Verdict texts repeat from row to row: only the cell reference differs between their cells.
    return b'<c r="%s%d"%s' % (_letters(col), row, _cell_tail(style, type(value).__name__, value))


@lru_cache(maxsize=4096)
def _cell_tail(style: bytes | None, kind: str, value: SpliceValue) -> bytes:
    """Everything of a ``<c>`` element after its ``r`` attribute (``kind`` keeps 1 and True apart)."""
    attrs = b' s="' + style + b'"' if style is not None else b""
    if value is None or value == "":
        return attrs + b"/>"
    if isinstance(value, bool):
        return b'%s t="b"><v>%d</v></c>' % (attrs, int(value))
    if isinstance(value, int):
        return b"%s><v>%d</v></c>" % (attrs, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpliceUnsupported(f"{value} cannot be stored in a cell")
        return b"%s><v>%s</v></c>" % (attrs, repr(value).encode("ascii"))
    try:
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SpliceUnsupported(f"text that cannot be encoded ({exc})") from exc
    # Keep leading/trailing spaces, as openpyxl's writer does.
    space = b' xml:space="preserve"' if value != value.strip() else b""
    return b'%s t="inlineStr"><is><t%s>%s</t></is></c>' % (attrs, space, text)


def _update_dimension(head: bytes, bounds: tuple[int, int, int, int] | None) -> bytes:
    """Widen ``<dimension ref>`` to cover the written cells (it is a hint, but keep it right)."""
    match = _DIMENSION.search(head)
    if match is None or bounds is None:
        return head
    ref = match.group(2).decode("ascii")
    try:
        first, _, last = ref.partition(":")
        last = last or first
        start = _split_ref(first)
        end = _split_ref(last)
    except ValueError:
        return head
    min_row, min_col, max_row, max_col = bounds
    if (start, end) == ((1, 1), (1, 1)):  # the "A1" of an empty sheet
        start, end = (min_row, min_col), (max_row, max_col)
    start = (min(start[0], min_row), min(start[1], min_col))
    end = (max(end[0], max_row), max(end[1], max_col))
    new = f"{get_column_letter(start[1])}{start[0]}:{get_column_letter(end[1])}{end[0]}".encode("ascii")
    return head[: match.start(2)] + new + head[match.end(2) :]


def _split_ref(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters) :]
    if not letters or not digits:
        raise ValueError(ref)
    return int(digits), int(column_index_from_string(letters))


# --- styles.xml -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellFormat:
    """A font and a solid fill that some cells need (the Result colours)."""

    font: Font
    fill: PatternFill


class StyleBook:
    """``styles.xml`` read once: fills by cell format, and cell formats added on demand."""

    def __init__(self, xml: bytes) -> None:
        self._xml = xml
        try:
            root = ElementTree.fromstring(xml)
        except ElementTree.ParseError as exc:
            raise SpliceUnsupported(f"styles.xml cannot be parsed ({exc})") from exc
        ns = f"{{{_MAIN_NS}}}"
        self._fonts = [Font.from_tree(el) for el in root.iterfind(f"{ns}fonts/{ns}font")]
        self._fills = [Fill.from_tree(el) for el in root.iterfind(f"{ns}fills/{ns}fill")]
        self._xf_elements = list(root.iterfind(f"{ns}cellXfs/{ns}xf"))
        self._xfs = [_xf_key(el) for el in self._xf_elements]
        self._has_style_xfs = root.find(f"{ns}cellStyleXfs") is not None
        self._num_fmts: dict[int, str] = {}
        for el in root.iterfind(f"{ns}numFmts/{ns}numFmt"):
            try:
                self._num_fmts[int(el.get("numFmtId", ""))] = el.get("formatCode", "")
            except ValueError as exc:
                raise SpliceUnsupported(f"styles.xml has a numFmt without a numeric id ({exc})") from exc
        self._dated: dict[tuple[int, str], int] = {}
        self._added: dict[str, list[bytes]] = {"numFmts": [], "fonts": [], "fills": [], "cellXfs": []}

    @property
    def dates_written(self) -> bool:
        """Whether :meth:`date_style` was asked for a format (a date was written)."""
        return bool(self._dated)

    @property
    def changed(self) -> bool:
        """Whether :meth:`format_id` had to add anything."""
        return any(self._added.values())

    def fill_rgb(self, style_id: int) -> str | None:
        """The foreground colour (ARGB) of the fill of cell format ``style_id``."""
        if not 0 <= style_id < len(self._xfs):
            return None
        fill_id = int(self._xfs[style_id].get("fillId", "0"))
        fill = self._fills[fill_id] if 0 <= fill_id < len(self._fills) else None
        color = getattr(getattr(fill, "fgColor", None), "rgb", None)
        return color if isinstance(color, str) else None

    def format_id(self, wanted: CellFormat) -> int:
        """The ``cellXfs`` index of a plain format with ``wanted``'s font and fill (added if missing)."""
        font_id = self._index(self._fonts, wanted.font, "fonts")
        fill_id = self._index(self._fills, wanted.fill, "fills")
        for index, xf in enumerate(self._xfs):
            if (
                xf.get("fontId") == str(font_id)
                and xf.get("fillId") == str(fill_id)
                and xf.get("numFmtId", "0") == "0"
                and xf.get("borderId", "0") == "0"
                and xf.get("xfId", "0") == "0"
                and xf.get("#children") == "0"
                and xf.get("pivotButton", "0") in ("0", "false")
                and xf.get("quotePrefix", "0") in ("0", "false")
            ):
                return index
        attrs = {"numFmtId": "0", "fontId": str(font_id), "fillId": str(fill_id), "borderId": "0"}
        if self._has_style_xfs:
            attrs["xfId"] = "0"
        attrs |= {"applyFont": "1", "applyFill": "1"}
        self._xfs.append(attrs | {"#children": "0", "#kids": "[]"})
        self._added["cellXfs"].append(ElementTree.tostring(ElementTree.Element("xf", attrs)))
        return len(self._xfs) - 1

    def date_style(self, base: int, code: str) -> int:
        """The ``cellXfs`` index for a date written into a cell of format ``base``.

        Like openpyxl when a date is assigned: a format that already shows dates is kept, any
        other gets number format ``code`` with everything else (font, fill, alignment…) kept.
        """
        key = (base, code)
        if key in self._dated:
            return self._dated[key]
        if not 0 <= base < len(self._xfs):
            raise SpliceUnsupported(f"a cell format {base} that styles.xml does not have")
        xf = self._xfs[base]
        try:
            current = int(xf.get("numFmtId", "0"))
        except ValueError as exc:
            raise SpliceUnsupported(f"a cell format with a non-numeric numFmtId ({exc})") from exc
        current_code = self._num_fmts.get(current, BUILTIN_FORMATS.get(current, "General"))
        if is_date_format(current_code):
            self._dated[key] = base
            return base
        fmt_id = self._num_fmt_id(code)
        wanted = {k: v for k, v in xf.items() if k not in ("numFmtId", "applyNumberFormat")}
        found = next(
            (
                index
                for index, other in enumerate(self._xfs)
                if other.get("numFmtId") == str(fmt_id)
                and {k: v for k, v in other.items() if k not in ("numFmtId", "applyNumberFormat")} == wanted
            ),
            None,
        )
        if found is None:
            element = ElementTree.Element(
                "xf", {**_plain_attrs(self._xf_elements, base), "numFmtId": str(fmt_id)}
            )
            element.set("applyNumberFormat", "1")
            for child in self._xf_elements[base] if base < len(self._xf_elements) else ():
                if len(child) or not child.tag.startswith(f"{{{_MAIN_NS}}}"):
                    raise SpliceUnsupported("a cell format with extension content")
                ElementTree.SubElement(element, child.tag.split("}", 1)[1], dict(child.attrib))
            self._xfs.append(_xf_key(element))
            self._xf_elements.append(element)
            self._added["cellXfs"].append(ElementTree.tostring(element))
            found = len(self._xfs) - 1
        self._dated[key] = found
        return found

    def _num_fmt_id(self, code: str) -> int:
        """The id of number format ``code``: built in, already in styles.xml, or added."""
        builtin = BUILTIN_FORMATS_REVERSE.get(code)
        if builtin is not None:
            return int(builtin)
        for fmt_id, existing in self._num_fmts.items():
            if existing == code:
                return fmt_id
        fmt_id = max([163, *self._num_fmts]) + 1  # custom formats start at 164
        self._num_fmts[fmt_id] = code
        element = ElementTree.Element("numFmt", {"numFmtId": str(fmt_id), "formatCode": code})
        self._added["numFmts"].append(ElementTree.tostring(element))
        return fmt_id

    def _index(self, existing: list[Any], wanted: Any, group: str) -> int:
        for index, item in enumerate(existing):
            if item == wanted:
                return index
        existing.append(wanted)
        self._added[group].append(ElementTree.tostring(wanted.to_tree()))
        return len(existing) - 1

    def to_xml(self) -> bytes:
        """``styles.xml`` with the added fonts, fills and formats appended to their lists."""
        xml = self._xml
        for group in ("numFmts", "fonts", "fills", "cellXfs"):
            added = self._added[group]
            if not added:
                continue
            total = {
                "numFmts": len(self._num_fmts),
                "fonts": len(self._fonts),
                "fills": len(self._fills),
                "cellXfs": len(self._xfs),
            }[group]
            if group == "numFmts" and b"<numFmts" not in xml:
                xml = _insert_num_fmts(xml)
            xml = _append_children(xml, group.encode(), b"".join(added), total)
        return xml


def _xf_key(element: ElementTree.Element) -> dict[str, str]:
    """A cell format's attributes, with its child elements (alignment, protection) summed up."""
    kids = [(child.tag.rpartition("}")[2], sorted(child.attrib.items())) for child in element]
    return dict(element.attrib) | {"#children": str(len(element)), "#kids": repr(kids)}


def _plain_attrs(elements: list[ElementTree.Element], index: int) -> dict[str, str]:
    """The attributes of cell format ``index`` (unprefixed, as styles.xml writes them)."""
    attrs = dict(elements[index].attrib)
    if any(name.startswith("{") for name in attrs):
        raise SpliceUnsupported("a cell format with namespaced attributes")
    return attrs


def _insert_num_fmts(xml: bytes) -> bytes:
    """Add an empty ``<numFmts>`` list where the schema wants it: first in ``<styleSheet>``."""
    start = xml.find(b"<styleSheet")
    if start < 0:
        raise SpliceUnsupported("styles.xml has no (unprefixed) styleSheet element")
    open_end = xml.index(b">", start) + 1
    if xml[open_end - 2 : open_end] == b"/>":
        raise SpliceUnsupported("styles.xml has an empty styleSheet")
    return xml[:open_end] + b'<numFmts count="0"></numFmts>' + xml[open_end:]


def _append_children(xml: bytes, tag: bytes, children: bytes, total: int) -> bytes:
    """Insert ``children`` at the end of the ``<tag>`` list and set its ``count`` to ``total``."""
    start = xml.find(b"<" + tag + b">")
    if start < 0:
        start = xml.find(b"<" + tag + b" ")
    if start < 0:
        raise SpliceUnsupported(f"styles.xml has no (unprefixed) {tag.decode()} list")
    open_end = xml.index(b">", start) + 1
    opening = xml[start:open_end]
    if opening.endswith(b"/>"):  # an empty list written as <fonts count="0"/>
        counted = _COUNT_ATTR.sub(b'count="%d"' % total, opening[:-2] + b">")
        return xml[:start] + counted + children + b"</" + tag + b">" + xml[open_end:]
    body_end = xml.find(b"</" + tag + b">", open_end)
    if body_end < 0:
        raise SpliceUnsupported(f"styles.xml: {tag.decode()} is not closed")
    counted = _COUNT_ATTR.sub(b'count="%d"' % total, opening)
    return xml[:start] + counted + xml[open_end:body_end] + children + xml[body_end:]


# --- The package ----------------------------------------------------------------------------------


def rewrite_package(source: Path, target: Path, replaced: Mapping[str, bytes | Sequence[bytes]]) -> None:
    """Copy the zip ``source`` to ``target`` member by member, with ``replaced`` members' new content.

    Members keep their order, names, timestamps and compression method; their content is
    copied unchanged unless named in ``replaced``.
    """
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        names = set(src.namelist())
        missing = set(replaced) - names
        if missing:
            raise SpliceUnsupported(f"the package has no {', '.join(sorted(missing))}")
        for info in src.infolist():
            fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            fresh.compress_type = info.compress_type
            fresh.external_attr = info.external_attr
            fresh.create_system = info.create_system
            data = replaced.get(info.filename)
            if data is None:
                dst.writestr(fresh, src.read(info))
            elif isinstance(data, bytes):
                dst.writestr(fresh, data)
            else:
                with dst.open(fresh, "w") as member:
                    for piece in data:
                        member.write(piece)
