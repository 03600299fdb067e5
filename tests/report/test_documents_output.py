"""Every document of a run, in all four languages, written to a folder: PDFs, editable copies, appeals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook

from mltakedown.report.confirmation import build_confirmations
from mltakedown.report.editable import write_editable
from mltakedown.report.model import RunRecord
from mltakedown.report.output import write_documents

from .report_fixtures import ITEM_IDS, RUN_ID
from .report_pdftools import pdf_text

AT = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)


def test_all_four_languages_for_a_recorded_run(run: RunRecord, recorded: Path, tmp_path: Path) -> None:
    files = write_documents(
        run, tmp_path / "out", ["es", "pt", "en", "zh"], workbook=recorded, generated_at=AT
    )
    assert files.folder == tmp_path / "out" / RUN_ID
    assert files.missing_glyphs == set()
    names = sorted(p.name for p in files.confirmations)
    for lang in ("es", "pt", "en", "zh"):
        assert f"confirmation-ref-TRO-2026-0147.{lang}.pdf" in names
    assert len(files.confirmations) == 16 and len(files.editables) == 16

    # Across each language's documents, every item ID of the run is in the text layer.
    for lang in ("es", "pt", "en", "zh"):
        text = "".join(pdf_text(p) for p in files.confirmations if p.name.endswith(f".{lang}.pdf"))
        for item_id in ITEM_IDS:
            assert item_id in text, (lang, item_id)

    # Appeal packs for the two listings Mercado Libre controls, in every language asked for.
    appeal_names = {p.relative_to(files.folder / "appeals").as_posix() for p in files.appeals}
    assert "MLM1234567804/appeal-MLM1234567804.zh.pdf" in appeal_names
    assert "MLB3456789099/appeal-MLB3456789099.es.pdf" in appeal_names
    assert "MLM1234567804/appeal-letter-MLM1234567804.es.txt" in appeal_names
    assert "MLB3456789099/appeal-letter-MLB3456789099.pt.txt" in appeal_names


def test_default_language_writes_one_set(run: RunRecord, tmp_path: Path) -> None:
    files = write_documents(run, tmp_path, generated_at=AT)
    assert sorted(p.name for p in files.confirmations) == [
        "confirmation-reason-MARKET_EXIT.es.pdf",
        "confirmation-reason-MISSING_CERTIFICATION.es.pdf",
        "confirmation-reason-POLICY_VIOLATION.pt.pdf",  # MLB → Portuguese
        "confirmation-ref-TRO-2026-0147.es.pdf",  # mostly MLM → Spanish
    ]


def test_editable_copy_has_the_same_content(run: RunRecord, tmp_path: Path) -> None:
    document = build_confirmations(run, "zh", generated_at=AT)[0]
    path = write_editable(document, tmp_path / "tro.xlsx")
    wb = load_workbook(path)
    cells = [str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c is not None]  # type: ignore[union-attr]
    shown = set(cells)
    for text in document.texts():
        if text:
            assert text in shown, text
    assert wb.properties.keywords == f"run_id={RUN_ID} doc_id={document.doc_id}"


def test_text_from_outside_stays_text_in_the_editable_copy(run: RunRecord, tmp_path: Path) -> None:
    run.rows[0].title = '=HYPERLINK("http://evil")'
    document = build_confirmations(run, "en", generated_at=AT)[0]
    wb = load_workbook(write_editable(document, tmp_path / "x.xlsx"))
    titles = [c for row in wb.active.iter_rows() for c in row if c.value == run.rows[0].title]  # type: ignore[union-attr]
    assert titles and all(c.data_type == "s" for c in titles)
