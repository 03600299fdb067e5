"""The Report sheet: counts, a native chart, the budget; written into .xlsx and .xlsm alike."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart

from mltakedown.book.xlsx import XlsxWorkbook, create_workbook
from mltakedown.report.model import RunRecord
from mltakedown.report.sheet import REPORT_SHEET, RUN_ID_CELL, write_report_sheet

from .report_fixtures import RUN_ID


def _crosstab(ws: object, title: str) -> tuple[list[object], dict[str, list[object]]]:
    """The cross-tab under ``title``: its header row and {label: [counts per result..., total]}."""
    rows = list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]
    start = next(i for i, row in enumerate(rows) if row[0] == title) + 1
    header = [v for v in rows[start][1:] if v is not None]
    table: dict[str, list[object]] = {}
    for row in rows[start + 1 :]:
        if row[0] is None:
            break
        table[str(row[0])] = list(row[1 : 1 + len(header)])
    return header, table


def _pairs(ws: object, title: str) -> dict[str, object]:
    """The count table under ``title`` as {label: count}."""
    rows = list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]
    start = next(i for i, row in enumerate(rows) if row[0] == title) + 2
    table: dict[str, object] = {}
    for row in rows[start:]:
        if row[0] is None:
            break
        table[str(row[0])] = row[1]
    return table


def test_counts_budget_and_chart(run: RunRecord, tmp_path: Path) -> None:
    wb = Workbook()
    assert wb.active is not None
    wb.active.title = "Takedown"
    write_report_sheet(wb, run, "en")
    path = tmp_path / "report.xlsx"
    wb.save(path)

    reopened = load_workbook(path)
    assert reopened.sheetnames == ["Takedown", REPORT_SHEET]
    ws = reopened[REPORT_SHEET]
    assert ws[RUN_ID_CELL].value == RUN_ID
    facts = {row[0]: row[1] for row in ws.iter_rows(min_row=3, max_row=15, max_col=2, values_only=True)}
    assert facts["API requests used"] == 14
    assert facts["Requests per row"] == 1.4
    assert facts["Request budget in that time (rate × seconds)"] == 37
    assert facts["Rows changed"] == 4
    assert _pairs(ws, "Rows per result") == {
        "OK": 3, "Done with a warning": 1, "Skipped": 1, "Blocked": 4, "Failed": 1,
    }  # fmt: skip
    assert _pairs(ws, "Rows per code") == {
        "L205": 1, "L206": 1, "L207": 2, "L208": 1, "L213": 1, "X300": 3, "X305": 1,
    }  # fmt: skip
    header, sites = _crosstab(ws, "Rows per site")
    assert header == ["OK", "Done with a warning", "Skipped", "Blocked", "Failed", "Rows"]
    assert {site: counts[-1] for site, counts in sites.items()} == {
        "MCO": 1, "MLA": 1, "MLB": 2, "MLC": 1, "MLM": 4, "—": 1,
    }  # fmt: skip
    _, reasons = _crosstab(ws, "Rows per reason")
    assert {reason: counts[-1] for reason, counts in reasons.items()} == {
        "IP complaint": 7, "Market exit": 1, "Missing certification": 1, "Policy violation": 1,
    }  # fmt: skip
    # Each group's results add up to its total, and across groups to the result table.
    for table in (sites, reasons):
        for counts in table.values():
            assert sum(counts[:-1]) == counts[-1]  # type: ignore[arg-type]
        per_result = [sum(column) for column in zip(*(c[:-1] for c in table.values()), strict=True)]  # type: ignore[arg-type]
        assert per_result == [3, 1, 1, 4, 1]
    assert list(sites)[0] == "MLM", "the busiest site comes first"

    charts = ws._charts
    assert len(charts) == 1 and isinstance(charts[0], BarChart)
    with zipfile.ZipFile(path) as archive:
        chart_xml = archive.read("xl/charts/chart1.xml").decode()
    # A native bar chart whose series reads the result counts on the sheet itself.
    first = next(c.row for c in ws["A"] if c.value == "OK")
    assert "<barChart>" in chart_xml
    assert f"<numRef><f>'Report'!$B${first}:$B${first + 4}</f>" in chart_xml
    assert f"<strRef><f>'Report'!$A${first}:$A${first + 4}</f>" in chart_xml


def test_rewriting_keeps_one_chart_and_the_sheet_position(run: RunRecord, tmp_path: Path) -> None:
    wb = Workbook()
    assert wb.active is not None
    wb.active.title = "Takedown"
    wb.create_sheet("Settings")
    write_report_sheet(wb, run, "zh")
    path = tmp_path / "twice.xlsx"
    wb.save(path)
    again = load_workbook(path)
    write_report_sheet(again, run, "es")
    again.save(path)
    final = load_workbook(path)
    assert final.sheetnames == ["Takedown", REPORT_SHEET, "Settings"]
    assert len(final[REPORT_SHEET]._charts) == 1
    assert final[REPORT_SHEET]["A1"].value == "Informe de la ejecución"
    with zipfile.ZipFile(path) as archive:
        assert [n for n in archive.namelist() if n.startswith("xl/charts/")] == ["xl/charts/chart1.xml"]


def test_xlsm_keeps_its_vba_project_and_ribbon(run: RunRecord, tmp_path: Path) -> None:
    path = create_workbook(tmp_path / "book.xlsm", "zh")
    with zipfile.ZipFile(path) as archive:
        vba_before = archive.read("xl/vbaProject.bin")
        ui_before = sorted(n for n in archive.namelist() if "customUI" in n)
    book = XlsxWorkbook.open(path)
    write_report_sheet(book.wb, run, book.language)
    book.save()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert archive.read("xl/vbaProject.bin") == vba_before
        assert sorted(n for n in names if "customUI" in n) == ui_before
        assert "xl/charts/chart1.xml" in names
        rels = archive.read("_rels/.rels").decode()
    assert "customUI" in rels
    assert load_workbook(path, keep_vba=True)[REPORT_SHEET]["A1"].value == "运行报告"
