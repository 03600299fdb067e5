"""The ``Report`` sheet: what a run did, at a glance, inside the workbook itself.

Counts per result and per code, and per site and per reason a cross-tab by result (pandas), a native Excel bar chart of the outcomes
(openpyxl ``BarChart`` over the counts, so Excel draws and updates it), and the time and request
budget the run used. :func:`write_report_sheet` takes an openpyxl ``Workbook`` so the headless
adapter can call it before saving; it works the same on a workbook loaded with ``keep_vba=True``
(it only adds or rewrites one worksheet and its chart, never touching the VBA project).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from mltakedown.book.ports import Result
from mltakedown.report.model import RunRecord
from mltakedown.report.sites import format_utc
from mltakedown.report.texts import Texts, reason_label

REPORT_SHEET = "Report"
"""Sheet name (never translated, like every sheet name of the workbook)."""

RUN_ID_CELL = "B3"
"""Where the sheet holds the run ID it reports on (``verify-record`` reads it)."""

JOURNAL_HEAD_CELL = "AA1"
JOURNAL_LINES_CELL = "AA2"
"""Where the sheet stamps the journal's last-line digest and line count when it was written, so
``verify-record`` notices lines cut off the end of the journal afterwards (a hash chain alone
cannot: the shortened chain is still a valid chain). Columns Z:AA are hidden."""

RESULT_ORDER: tuple[Result, ...] = (Result.OK, Result.WARNING, Result.SKIPPED, Result.BLOCKED, Result.FAILED)
"""Result rows of the table, in this order, zeros included, so the chart always has every bar."""

_BAR_COLOURS: dict[Result, str] = {
    Result.OK: "2E7D32",
    Result.WARNING: "F9A825",
    Result.SKIPPED: "9E9E9E",
    Result.BLOCKED: "C62828",
    Result.FAILED: "6A1B1B",
}
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_BOLD = Font(bold=True)


def _sheet(workbook: Workbook) -> Worksheet:
    """The Report sheet, emptied (cells, merges and charts), or a new one after ``Takedown``."""
    if REPORT_SHEET in workbook.sheetnames:
        ws = workbook[REPORT_SHEET]
        # Reuse the sheet rather than delete it: in an .xlsm the sheet may have a VBA code
        # module bound to it, which a delete-and-recreate would orphan.
        for merged in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(merged))
        if ws.max_row:
            ws.delete_rows(1, ws.max_row)
        ws._charts.clear()  # openpyxl keeps a sheet's charts in this list; no public remover
        return ws
    index = workbook.sheetnames.index("Takedown") + 1 if "Takedown" in workbook.sheetnames else None
    ws = workbook.create_sheet(REPORT_SHEET, index)
    return ws


def _table(
    ws: Worksheet,
    row: int,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str | int]],
    none: str,
) -> int:
    """A table starting at ``row``: a title, a header row, then ``rows`` (label first, counts after);
    returns the next free row."""
    ws.cell(row=row, column=1, value=title).font = Font(bold=True, size=12, color="28508C")
    row += 1
    for column, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=column, value=text)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    row += 1
    empty = True
    for label, *counts in rows:
        label_cell = ws.cell(row=row, column=1, value=label)
        label_cell.data_type = "s"  # a code or reason is text, never a formula
        for column, count in enumerate(counts, start=2):
            ws.cell(row=row, column=column, value=count)
        row += 1
        empty = False
    if empty:
        ws.cell(row=row, column=1, value=none)
        row += 1
    return row + 1


def results_by(run: RunRecord, labels: Sequence[str]) -> pd.DataFrame:
    """Rows per label and result (a cross-tab), one column per result in :data:`RESULT_ORDER` plus
    ``total``; ``labels`` gives each row's label (its site, its reason…), in ``run.rows`` order."""
    frame = pd.DataFrame(
        {"label": list(labels), "result": [row.result.value if row.result else "" for row in run.rows]}
    )
    columns = [result.value for result in RESULT_ORDER]
    table = pd.crosstab(frame["label"], frame["result"]).reindex(columns=columns, fill_value=0)
    table["total"] = table.sum(axis=1)
    return table.sort_values(["total", "label"], ascending=[False, True], kind="stable")


def _crosstab_rows(table: pd.DataFrame) -> list[list[str | int]]:
    return [
        [str(label), *(int(v) for v in values)]
        for label, values in zip(table.index, table.to_numpy(), strict=True)
    ]


def _chart(ws: Worksheet, first_row: int, title: str, count_header: str) -> None:
    """A bar chart over the result table (labels in A, counts in B, ``first_row`` is the header)."""
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.style = 10
    chart.legend = None
    chart.y_axis.title = count_header
    chart.y_axis.majorGridlines = None
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    last = first_row + len(RESULT_ORDER)
    data = Reference(ws, min_col=2, min_row=first_row, max_row=last)
    chart.add_data(data, titles_from_data=True)
    series = chart.series[0]
    # The categories are the result names: a text reference (set_categories would make it numeric).
    categories = Reference(ws, min_col=1, min_row=first_row + 1, max_row=last)
    series.cat = AxDataSource(strRef=StrRef(f=str(categories)))
    for index, result in enumerate(RESULT_ORDER):
        point = DataPoint(idx=index)
        point.graphicalProperties.solidFill = _BAR_COLOURS[result]
        point.graphicalProperties.line.solidFill = _BAR_COLOURS[result]
        series.dPt.append(point)
    # Only the number on each bar (some readers default the other label parts to on).
    series.dLbls = DataLabelList(
        showVal=True, showSerName=False, showCatName=False, showLegendKey=False, showPercent=False
    )
    chart.height = 8.5
    chart.width = 15
    ws.add_chart(chart, "D4")


def _stamp(ws: Worksheet, run: RunRecord) -> None:
    """The machine-readable journal stamp in hidden Z1:AA2."""
    ws["Z1"] = "journal_head"
    ws[JOURNAL_HEAD_CELL] = run.journal_head
    ws["Z2"] = "journal_lines"
    ws[JOURNAL_LINES_CELL] = run.journal_lines
    for letter in ("Z", "AA"):
        ws.column_dimensions[letter].hidden = True


def write_report_sheet(workbook: Workbook, run: RunRecord, language: str = "en") -> Worksheet:
    """Write (or rewrite) the ``Report`` sheet of ``workbook`` for ``run`` in ``language``."""
    t = Texts(language)
    ws = _sheet(workbook)
    ws.sheet_properties.tabColor = "28508C"
    # Printed (or exported to PDF), the sheet fits one page wide, tables and chart together.
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_area = "A1:M60"
    ws.column_dimensions["A"].width = 46
    ws.column_dimensions["B"].width = 26

    ws["A1"] = t.get("sheet.title")
    ws["A1"].font = Font(bold=True, size=16, color="28508C")
    rows = len(run.rows)
    written = sum(1 for row in run.rows if row.was_written)
    budget = run.request_budget
    facts: list[tuple[str, object, str | None]] = [
        (t.get("labels.run_id"), run.run_id, None),  # RUN_ID_CELL: keep this first (row 3)
        (t.get("sheet.stage"), run.stage, None),
        (
            t.get("labels.seller"),
            f"{run.nickname} ({run.seller_id})" if run.seller_id else run.nickname,
            None,
        ),
        (t.get("sheet.started"), format_utc(run.started_at) if run.started_at else "", None),
        (t.get("sheet.finished"), format_utc(run.finished_at) if run.finished_at else "", None),
        (t.get("sheet.duration"), round(run.seconds, 1), "0.0"),
        (t.get("sheet.requests"), run.requests_used, "0"),
        (t.get("sheet.requests_per_row"), round(run.requests_used / rows, 3) if rows else 0, "0.000"),
        (t.get("sheet.rate"), run.rate_per_second, "0.0"),
        (t.get("sheet.budget"), budget, "0"),
        (t.get("sheet.budget_share"), run.requests_used / budget if budget else 0, "0.0%"),
        (t.get("sheet.rows"), rows, "0"),
        (t.get("sheet.written"), written, "0"),
    ]
    row = 3
    for label, value, number_format in facts:
        ws.cell(row=row, column=1, value=label).font = _BOLD
        cell = ws.cell(row=row, column=2, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        if number_format:
            cell.number_format = number_format
        row += 1
    row += 1

    none = t.get("sheet.none")
    count = t.get("sheet.count")
    results = Counter(r.result for r in run.rows if r.result is not None)
    result_header_row = row + 1
    row = _table(
        ws,
        row,
        t.get("sheet.by_result"),
        ["", count],
        ((t.get(f"results.{result.value}"), results.get(result, 0)) for result in RESULT_ORDER),
        none,
    )
    _chart(ws, result_header_row, t.get("sheet.chart_title"), count)
    codes = Counter(r.code for r in run.rows if r.code)
    row = _table(ws, row, t.get("sheet.by_code"), ["", count], sorted(codes.items()), none)
    # Per site and per reason: how each group fared, result by result (a cross-tab), so a person
    # sees at once which site or complaint has the blocked rows.
    crosstab_headers = ["", *(t.get(f"results.{r.value}") for r in RESULT_ORDER), count]
    sites = results_by(run, [r.site or "—" for r in run.rows])
    row = _table(ws, row, t.get("sheet.by_site"), crosstab_headers, _crosstab_rows(sites), none)
    reasons = results_by(run, [reason_label(r.reason, language) or "—" for r in run.rows])
    _table(ws, row, t.get("sheet.by_reason"), crosstab_headers, _crosstab_rows(reasons), none)
    _stamp(ws, run)
    return ws
