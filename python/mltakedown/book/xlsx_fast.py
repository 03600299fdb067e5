"""Turn verdicts into cell edits of the Takedown sheet, for the fast write path.

:func:`spliced_parts` does for a streamed workbook what ``XlsxWorkbook`` does on the openpyxl
path — verdict cells, the Result colour (unless conditional formatting gives it), output values,
cleared columns, the summary block — as :class:`~mltakedown.book.xlsx_splice.CellEdit` objects,
and returns the new worksheet and ``styles.xml`` parts, with those of the Log and Snapshots
sheets rows were appended to (:mod:`~mltakedown.book.xlsx_append`). It refuses
(``SpliceUnsupported``) whatever it would have to lay out rather than fill in: a missing output
column, a summary block that is not the template's.

Dates are written as openpyxl writes them: the Excel serial number (1900 date system) in a cell
whose format gets a date number format unless it already shows dates.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from openpyxl.styles import Font, PatternFill

from mltakedown.book import layout as L
from mltakedown.book.ports import CellValue, Outcome, Result
from mltakedown.book.xlsx_append import PendingAppend, appended_parts
from mltakedown.book.xlsx_splice import (
    CellEdit,
    CellFormat,
    SpliceUnsupported,
    SpliceValue,
    StyleBook,
    date_edit,
    safe_text,
    splice_sheet_parts,
)
from mltakedown.book.xlsx_stream import StreamedBook

_STYLES_PART = "xl/styles.xml"


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """One ``write_outcomes`` call waiting for ``save`` (or for a replay on the openpyxl path)."""

    outcomes: list[Outcome]
    stage: str
    at: dt.datetime


def fast_write_blocker(columns: Mapping[str, int]) -> str | None:
    """Why verdicts need the openpyxl path (``None`` when the fast path can write them).

    Every value an outcome holds (text, numbers, booleans, dates) can be spliced; only output
    columns to add (headers laid out with their styles) are openpyxl's job.
    """
    missing = [key for key in L.OUTPUT_KEYS if key not in columns]
    return f"output columns to add: {', '.join(missing)}" if missing else None


def uses_1904_dates(workbook_xml: bytes) -> bool:
    """Whether ``xl/workbook.xml`` says the workbook counts dates from 1904 (Mac Excel's option)."""
    return re.search(rb'\bdate1904="(?:1|true)"', workbook_xml) is not None


def cell_edit(value: CellValue) -> CellEdit:
    """The edit that writes ``value`` as ``set_value`` does on the openpyxl path."""
    if isinstance(value, dt.date):
        return date_edit(value)
    return CellEdit(_value(value))


def result_format(result: Result) -> CellFormat:
    """The Result cell's colours for ``result`` (layout's fill and bold font)."""
    return CellFormat(
        Font(bold=True, color=L.RESULT_FONTS[result]), PatternFill("solid", fgColor=L.RESULT_FILLS[result])
    )


def spliced_parts(
    path: Path,
    book: StreamedBook,
    columns: Mapping[str, int],
    pending: Sequence[PendingWrite],
    lang: str,
    *,
    paint_results: bool = True,
    appends: Sequence[PendingAppend] = (),
) -> dict[str, bytes | list[bytes]]:
    """The new parts for ``pending`` verdicts and ``appends`` to the Log and Snapshots sheets.

    Those are the Takedown sheet part (when verdicts were written), the parts of the sheets
    rows were appended to, and ``styles.xml`` when a format was added (a Result colour, a date
    format). With ``paint_results=False`` (a workbook whose Result column is coloured by
    conditional formatting) Result cells keep their format; the rules themselves sit after
    ``sheetData`` in the sheet part, which the splicer copies unchanged.
    """
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if _STYLES_PART not in names or book.sheet_path not in names:
            raise SpliceUnsupported("the package has no xl/styles.xml or no Takedown part")
        sheet_xml = archive.read(book.sheet_path) if pending else b""
        styles = StyleBook(archive.read(_STYLES_PART))
        dates_1904 = uses_1904_dates(archive.read("xl/workbook.xml"))
    parts: dict[str, bytes | list[bytes]] = {}
    if pending:
        _require_template_summary(book, styles, lang)
        edits = _edits(book, columns, pending, styles if paint_results else None)
        parts[book.sheet_path] = splice_sheet_parts(sheet_xml, edits, styles)
    if appends:
        added = appended_parts(path, appends, styles, lang)
        if book.sheet_path in added:
            raise SpliceUnsupported("rows appended to the Takedown sheet")
        parts.update(added)
    if dates_1904 and styles.dates_written:
        # The serial numbers above count from 1900; openpyxl converts for the 1904 system.
        raise SpliceUnsupported("dates to write into a workbook on the 1904 date system")
    if styles.changed:
        parts[_STYLES_PART] = styles.to_xml()
    return parts


def _require_template_summary(book: StreamedBook, styles: StyleBook, lang: str) -> None:
    """The summary block must be the template's: then only its values change (else openpyxl lays it out)."""
    for col, label in enumerate(L.summary_labels(lang), start=1):
        if book.top.get((L.SUMMARY_LABEL_ROW, col), (None, 0))[0] != label:
            raise SpliceUnsupported("the summary labels differ from the template's")
    for col, result in enumerate(L.SUMMARY_RESULTS, start=2):
        style = book.top.get((L.SUMMARY_VALUE_ROW, col), (None, 0))[1]
        # The alpha byte is ignored: openpyxl writes 00, Excel and LibreOffice write FF.
        rgb = styles.fill_rgb(style)
        if rgb is None or rgb[-6:].upper() != L.RESULT_FILLS[result].upper():
            raise SpliceUnsupported("the summary colours differ from the template's")
    if book.top.get((L.NOTE_ROW, 1), (None, 0))[0] is None:
        raise SpliceUnsupported("the how-to line is missing")


def _value(value: CellValue) -> SpliceValue:
    if isinstance(value, str):
        return _safe_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    raise SpliceUnsupported(f"a {type(value).__name__} value")


@lru_cache(maxsize=4096)
def _safe_text(value: str) -> str:
    return safe_text(value)  # verdict texts repeat: clean each distinct one once


def _edits(
    book: StreamedBook,
    columns: Mapping[str, int],
    pending: Sequence[PendingWrite],
    styles: StyleBook | None,
) -> dict[int, dict[int, CellEdit]]:
    """The cell edits for ``pending``; ``styles=None`` leaves the Result cells' format alone."""
    formats = (
        {result: styles.format_id(result_format(result)) for result in Result} if styles is not None else None
    )
    edits: dict[int, dict[int, CellEdit]] = defaultdict(dict)
    results: dict[int, object] = dict(book.results)
    result_col = columns["result"]
    for write in pending:
        for outcome in write.outcomes:
            r = outcome.row_number
            row = edits[r]
            result = outcome.result
            # The Result cell gets exactly the result's format (or the default one), as on the
            # openpyxl path; the other cells keep theirs.
            style = None if formats is None else (formats[result] if result else 0)
            row[result_col] = CellEdit(result.value if result else None, style)
            results[r] = result.value if result else None
            row[columns["code"]] = CellEdit(_value(outcome.code or None))
            row[columns["message"]] = CellEdit(_value(outcome.message or None))
            row[columns["remedy"]] = CellEdit(_value(outcome.remedy or None))
            for key, value in outcome.values.items():
                row[columns[key]] = cell_edit(value)
                if key == "result":
                    results[r] = value
            if outcome.clear_others:
                written = {"result", "code", "message", "remedy", *outcome.values}
                for key in L.OUTPUT_KEYS:
                    if key not in written:
                        row[columns[key]] = CellEdit(None)
    last = pending[-1]
    by_value = {r.value: r for r in Result}
    counts = dict.fromkeys(Result, 0)
    for seen in results.values():
        if isinstance(seen, str) and (found := by_value.get(seen)) is not None:
            counts[found] += 1
    summary = edits[L.SUMMARY_VALUE_ROW]
    for col, result in enumerate(L.SUMMARY_RESULTS, start=2):
        summary[col] = CellEdit(counts[result])
    n = len(L.SUMMARY_RESULTS) + 2
    summary[n] = CellEdit(sum(counts.values()))
    summary[n + 1] = CellEdit(safe_text(last.stage))
    moment = last.at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    summary[n + 2] = CellEdit(moment.isoformat(sep=" "))
    return edits
