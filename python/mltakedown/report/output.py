"""Writing a run's documents to a folder: confirmations (PDF + editable) and appeal packs.

Files are named by run and document, and carry the language, so documents in several languages
sit side by side::

    <out>/<run_id>/confirmation-ref-TRO-2026-0147.zh.pdf
    <out>/<run_id>/confirmation-ref-TRO-2026-0147.zh.xlsx
    <out>/<run_id>/appeals/MLM1234567804/appeal-MLM1234567804.zh.pdf
    <out>/<run_id>/appeals/MLM1234567804/appeal-letter-MLM1234567804.es.txt
    <out>/<run_id>/appeals/MLM1234567804/MLM1234567804.json (+ .sha256)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mltakedown.report.appeal import build_appeal_packs, write_appeal_pack
from mltakedown.report.confirmation import build_confirmations
from mltakedown.report.editable import write_editable
from mltakedown.report.fonts import find_cjk_font
from mltakedown.report.model import RunRecord
from mltakedown.report.pdf import render_pdf


@dataclass(slots=True)
class ReportFiles:
    """What :func:`write_documents` wrote."""

    folder: Path
    confirmations: list[Path] = field(default_factory=list)
    editables: list[Path] = field(default_factory=list)
    appeals: list[Path] = field(default_factory=list)
    missing_glyphs: set[str] = field(default_factory=set)
    """Characters no embedded font could draw (shown as ``?``); empty in a good run."""


def write_documents(
    run: RunRecord,
    out_dir: Path,
    languages: Sequence[str | None] = (None,),
    *,
    workbook: Path | None = None,
    generated_at: dt.datetime | None = None,
) -> ReportFiles:
    """Confirmations in each of ``languages`` (None: each group's site language) and appeal packs.

    Appeal packs are written once per language given explicitly (the letter itself is always
    in the site's language); with only the default, in the language of the first confirmation.
    """
    at = generated_at or dt.datetime.now(dt.UTC)
    font = find_cjk_font()
    folder = out_dir / run.run_id
    files = ReportFiles(folder)
    appeal_languages: list[str] = []
    for language in languages:
        for document in build_confirmations(run, language, generated_at=at):
            stem = f"{document.doc_id}.{document.language}"
            result = render_pdf(document, folder / f"{stem}.pdf", font=font, created_at=at)
            files.confirmations.append(result.path)
            files.missing_glyphs |= result.missing
            files.editables.append(write_editable(document, folder / f"{stem}.xlsx"))
            if document.language not in appeal_languages and (language is not None or not appeal_languages):
                appeal_languages.append(document.language)
    for language in appeal_languages:
        for pack in build_appeal_packs(run, language, workbook=workbook, generated_at=at):
            files.appeals += write_appeal_pack(pack, folder / "appeals", font=font)
    # The letter and the snapshot copies are the same files for every language: list them once.
    files.appeals = list(dict.fromkeys(files.appeals))
    return files


@dataclass(slots=True)
class ReportResult:
    """What :func:`make_report` produced: the run it described and the files it wrote."""

    run: RunRecord
    files: ReportFiles
    sheet_written: bool


def make_report(
    workbook: Path,
    *,
    languages: Sequence[str | None] = (None,),
    out_dir: Path | None = None,
    run_id: str = "",
    sheet: bool = True,
    documents: bool = True,
) -> ReportResult:
    """The Report stage on a saved workbook: collect the run from the workbook, journal and
    snapshots, write the documents (beside the workbook unless ``out_dir``), and the Report sheet.

    Used by the ``report`` command, the demo and the ribbon's Report button alike.
    """
    # Imported here: the workbook adapter pulls in the layout and openpyxl styles, which the
    # document writers alone do not need.
    from mltakedown.book.xlsx import XlsxWorkbook
    from mltakedown.engine.journal import state_dir
    from mltakedown.report.collect import collect_run
    from mltakedown.report.record import REPORTS_DIR
    from mltakedown.report.sheet import write_report_sheet

    record = collect_run(workbook, run_id)
    folder = out_dir if out_dir is not None else state_dir(workbook) / REPORTS_DIR
    files = (
        write_documents(record, folder, languages, workbook=workbook) if documents else ReportFiles(folder)
    )
    if sheet:
        book = XlsxWorkbook.open(workbook)
        write_report_sheet(book.wb, record, book.language)
        book.save()
    return ReportResult(run=record, files=files, sheet_written=sheet)
