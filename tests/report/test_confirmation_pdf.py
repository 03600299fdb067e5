"""Confirmation documents rendered to PDF in all four languages, read back as a reader would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PIL import Image

from mltakedown.book.ports import Result
from mltakedown.report.confirmation import build_confirmations, group_rows
from mltakedown.report.fonts import find_cjk_font, missing_glyphs
from mltakedown.report.model import RunRecord
from mltakedown.report.pdf import render_pdf
from mltakedown.report.texts import Texts

from .report_fixtures import REFERENCE, RUN_ID
from .report_pdftools import pdf_fonts, pdf_text, render_pages, squash

AT = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)


def _tro(run: RunRecord, lang: str):  # type: ignore[no-untyped-def]
    return next(d for d in build_confirmations(run, lang, generated_at=AT) if REFERENCE in d.subtitle)


@pytest.mark.parametrize("lang", ["es", "pt", "en", "zh"])
def test_pdf_text_layer_has_every_item_and_separates_what_was_not_done(
    run: RunRecord, tmp_path: Path, lang: str
) -> None:
    document = _tro(run, lang)
    result = render_pdf(document, tmp_path / f"tro.{lang}.pdf", created_at=AT)
    assert result.missing == set()
    text = pdf_text(result.path)
    t = Texts(lang)

    group = next(g for g in group_rows(run) if g.reference == REFERENCE)
    for row in group.rows:
        assert (row.item_id or row.identifier) in text
    done_heading = squash(t.get("confirmation.section_done_execute", count=3))
    not_done_heading = squash(t.get("confirmation.section_not_done", count=4))
    flat = squash(text)
    assert done_heading in flat and not_done_heading in flat
    done_part, not_done_part = flat.split(not_done_heading, 1)
    done_part = done_part.split(done_heading, 1)[1]
    # Done rows only above the "not changed" heading; blocked and failed rows only below it.
    for row in group.rows:
        key = row.item_id or row.identifier
        if row.was_written:
            assert key in done_part and key not in not_done_part
        else:
            assert row.result in (Result.BLOCKED, Result.FAILED)
            assert key in not_done_part and key not in done_part
    # Proof: request IDs, UTC and site-local time, the run ID.
    assert "7c1e6d0a-41b2-4f0e-9d7d-2a1f0c9e1a01" in text
    assert "2026-11-27 02:15:03 UTC" in text
    assert squash("2026-11-26 20:15:03 UTC-06:00 (America/Mexico_City)") in flat
    assert squash("2026-11-26 23:15:04 UTC-03:00 (America/Sao_Paulo)") in flat
    assert RUN_ID in text
    assert "ACME_CN" in text and "1001" in text


def test_chinese_renders_with_an_embedded_font_covering_every_glyph(run: RunRecord, tmp_path: Path) -> None:
    document = _tro(run, "zh")
    font = find_cjk_font()
    # Every character the document shows has a glyph in the font that gets embedded.
    assert missing_glyphs(font, document.texts()) == set()
    path = render_pdf(document, tmp_path / "tro.zh.pdf", font=font, created_at=AT).path

    fonts = pdf_fonts(path)
    font_lines = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_lines, fonts
    for line in font_lines:
        assert " yes yes yes " in f" {' '.join(line.split()[-5:-2])} ", line  # embedded, subset, unicode map

    flat = squash(pdf_text(path))
    for text in document.texts():
        if any("\u4e00" <= char <= "\u9fff" for char in text):
            assert squash(text) in flat, text
    assert "商品下架确认书" in flat
    assert "未更改的商品：被拦截或失败（4）" in flat


def test_pages_render_to_images_that_are_not_blank(run: RunRecord, tmp_path: Path) -> None:
    path = render_pdf(_tro(run, "zh"), tmp_path / "tro.zh.pdf", created_at=AT).path
    pages = render_pages(path, tmp_path)
    assert len(pages) >= 2
    for page in pages:
        with Image.open(page) as image:
            grey = image.convert("L")
            dark = sum(grey.histogram()[:128])  # pixels darker than mid-grey: the text
            assert dark > 2000, f"{page.name} looks blank"


def test_default_language_is_the_site_language(run: RunRecord) -> None:
    for row in run.rows:
        if row.reference:
            row.site = "MLB"  # the TRO group becomes a Brazilian one
    documents = build_confirmations(run, None, generated_at=AT)
    by_subtitle = {d.subtitle: d.language for d in documents}
    assert by_subtitle["Referência da denúncia: TRO-2026-0147"] == "pt"
    assert by_subtitle["Motivo: Salida del mercado (no se indicó referencia de denuncia)"] == "es"


def test_one_document_per_reference_or_reason(run: RunRecord) -> None:
    documents = build_confirmations(run, "en", generated_at=AT)
    assert [d.doc_id for d in documents] == [
        "confirmation-ref-TRO-2026-0147",
        "confirmation-reason-MISSING_CERTIFICATION",
        "confirmation-reason-MARKET_EXIT",
        "confirmation-reason-POLICY_VIOLATION",
    ]
    assert all(d.run_id == RUN_ID for d in documents)


def test_a_row_without_a_write_time_is_never_shown_as_done(run: RunRecord) -> None:
    row = next(r for r in run.rows if r.item_id == "MLM1234567801")
    row.done_at_utc = None  # says OK, but nothing proves a write happened
    document = build_confirmations(run, "en", generated_at=AT)[0]
    done = next(s for s in document.sections if s.title.startswith("Listings taken down"))
    assert all("MLM1234567801" not in e.heading for e in done.entries)
    assert done.title == "Listings taken down (2)"
