"""Rendering a :class:`~mltakedown.report.document.Document` to PDF with fpdf2.

One font (see :mod:`.fonts`) covering Latin and Chinese is embedded as a subset, so the PDF shows
the same text on any machine and its text layer can be searched and copied (item IDs, request
IDs). A character the font lacks is drawn as ``?`` and reported in :attr:`RenderResult.missing`,
rather than silently turning into an empty box.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TextMode, WrapMode, XPos, YPos

from mltakedown.report.document import Document, Entry, Field, Section
from mltakedown.report.fonts import FontFile, find_cjk_font, missing_glyphs

_FAMILY = "report"
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
"""CJK ideographs, kana and full-width punctuation."""
_LABEL_WIDTH = 40.0
_LINE = 4.6
_INK = (33, 37, 41)
_MUTED = (96, 104, 112)
_ACCENT = (40, 80, 140)
_ALERT = (176, 32, 32)


@dataclass(slots=True)
class RenderResult:
    """What :func:`render_pdf` produced."""

    path: Path
    pages: int
    missing: set[str] = field(default_factory=set)
    """Characters the embedded font could not show (drawn as ``?``)."""


class _Pdf(FPDF):
    """FPDF with our footer (run ID and page numbers on every page)."""

    footer_text: str = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FAMILY, size=7.5)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()} / {{nb}}", align="R")


class _Renderer:
    def __init__(self, document: Document, font: FontFile) -> None:
        self.doc = document
        self.font = font
        self.missing = missing_glyphs(font, document.texts())
        pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(16, 16, 16)
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.add_font(_FAMILY, "", str(font.path), collection_font_number=font.index)
        pdf.footer_text = self.clean(document.footer)
        pdf.set_title(self.clean(document.title))
        pdf.set_subject(self.clean(document.subtitle))
        pdf.set_keywords(f"run_id={document.run_id} doc_id={document.doc_id} lang={document.language}")
        pdf.set_creator("mltakedown")
        pdf.set_lang({"zh": "zh-CN", "pt": "pt-BR"}.get(document.language, document.language))
        self.pdf = pdf

    @staticmethod
    def wrap(text: str) -> WrapMode:
        """Chinese has no spaces to break at: break between characters. Other text (a Spanish
        letter inside a Chinese pack, an item ID) breaks between words, so IDs stay whole."""
        return WrapMode.CHAR if _CJK.search(text) else WrapMode.WORD

    def clean(self, text: str) -> str:
        if not self.missing:
            return text
        return "".join("?" if char in self.missing else char for char in text)

    def text(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = _INK) -> None:
        pdf = self.pdf
        pdf.set_font(_FAMILY, size=size)
        pdf.set_text_color(*color)
        if bold:
            # Bold by stroking the glyph outlines in the text colour: a second CJK face would
            # double the time and size of every PDF.
            pdf.set_draw_color(*color)
            pdf.set_line_width(size * 0.012)
            pdf.text_mode = TextMode.FILL_STROKE
        else:
            pdf.text_mode = TextMode.FILL

    def block(self, value: str, height: float = _LINE, width: float = 0) -> None:
        self.pdf.multi_cell(
            width,
            height,
            self.clean(value),
            align="L",
            wrapmode=self.wrap(value),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def lines(self, text: str, width: float) -> int:
        """How many lines ``text`` takes at ``width`` in the current font."""
        result = self.pdf.multi_cell(
            width, _LINE, self.clean(text), dry_run=True, output="LINES", wrapmode=self.wrap(text)
        )
        return max(1, len(result)) if isinstance(result, list) else 1

    def field_line(self, item: Field) -> None:
        pdf = self.pdf
        value_width = pdf.epw - _LABEL_WIDTH
        self.text(8.5)
        height = _LINE * max(self.lines(item.label, _LABEL_WIDTH - 2), self.lines(item.value, value_width))
        # Move label and value to the next page together (unless the value is longer than a page).
        if pdf.will_page_break(height) and height < pdf.eph:
            pdf.add_page()
        top = pdf.get_y()
        self.text(8.5, color=_MUTED)
        pdf.multi_cell(
            _LABEL_WIDTH - 2, _LINE, self.clean(item.label), align="L", wrapmode=self.wrap(item.label)
        )
        label_bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + _LABEL_WIDTH, top)
        self.text(8.5)
        page = pdf.page
        self.block(item.value, width=value_width)
        if pdf.page == page:
            pdf.set_y(max(pdf.get_y(), label_bottom))

    def entry(self, entry: Entry) -> None:
        pdf = self.pdf
        # Keep a listing together when it fits on a page: start a new page rather than split it.
        needed = _LINE * (len(entry.fields) + 2) + 4
        if pdf.will_page_break(needed) and needed < pdf.eph:
            pdf.add_page()
        self.text(9.5, bold=True)
        self.block(entry.heading, height=5.5)
        for item in entry.fields:
            self.field_line(item)
        pdf.ln(2.5)

    def section(self, section: Section) -> None:
        pdf = self.pdf
        if section.title:
            if pdf.will_page_break(20):
                pdf.add_page()
            pdf.ln(2)
            color = _ALERT if section.alert else _ACCENT
            self.text(12, bold=True, color=color)
            self.block(section.title, height=7)
            pdf.set_draw_color(*color)
            pdf.set_line_width(0.3)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.ln(2.5)
        for paragraph in section.paragraphs:
            self.text(9.5)
            self.block(paragraph, height=5)
            pdf.ln(2)
        for fact in section.facts:
            self.field_line(fact)
        if section.facts:
            pdf.ln(2)
        for entry in section.entries:
            self.entry(entry)
        if not section.entries and section.empty_text:
            self.text(9.5, color=_MUTED)
            self.block(section.empty_text, height=5)

    def render(self, path: Path, created_at: dt.datetime | None) -> RenderResult:
        pdf = self.pdf
        if created_at is not None:
            pdf.set_creation_date(created_at)
        pdf.alias_nb_pages()
        pdf.add_page()
        self.text(17, bold=True, color=_ACCENT)
        self.block(self.doc.title, height=8)
        self.text(11.5, color=_INK)
        self.block(self.doc.subtitle, height=6)
        pdf.ln(3)
        for section in self.doc.sections:
            self.section(section)
        path.parent.mkdir(parents=True, exist_ok=True)
        pdf.output(str(path))
        return RenderResult(path, pdf.pages_count, set(self.missing))


def render_pdf(
    document: Document,
    path: Path,
    *,
    font: FontFile | None = None,
    created_at: dt.datetime | None = None,
) -> RenderResult:
    """Write ``document`` as a PDF at ``path`` (raises ``FontNotFoundError`` without a CJK font)."""
    return _Renderer(document, font or find_cjk_font()).render(path, created_at)
