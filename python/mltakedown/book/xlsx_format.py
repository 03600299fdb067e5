"""How the template looks beyond its cells: Result colours as conditional formatting, and printing.

The Result column of the ``Takedown`` sheet is coloured by conditional-formatting rules (one
"cell equals OK / SKIPPED / … " rule per result, with the layout's fill and font), so no adapter
has to paint Result cells one range at a time — in live Excel that was one round trip per run of
equal results. A workbook that has the rules says so in Settings
(:data:`~mltakedown.book.layout.RESULT_COLOURS_KEY`); see
:func:`~mltakedown.book.layout.conditional_colours`.

The rules live in the worksheet XML after ``sheetData`` (``<conditionalFormatting>``) with their
styles in ``styles.xml`` (``<dxfs>``); openpyxl reads and writes both, and the fast splice path
copies everything outside ``sheetData`` unchanged.

Every sheet the template makes prints landscape, one page wide (as many pages down as needed),
with the table header repeated on each page.
"""

from __future__ import annotations

from openpyxl.formatting.rule import Rule
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from mltakedown.book import layout as L
from mltakedown.book.ports import Result

__all__ = [
    "add_result_rules",
    "has_print_setup",
    "has_result_rules",
    "print_setup",
    "result_range",
    "result_rule",
]


def result_range(result_col: int) -> str:
    """The cells the Result rules cover: the Result column over every data row the sheet may hold."""
    letter = get_column_letter(result_col)
    return f"{letter}{L.FIRST_DATA_ROW}:{letter}{L.FIRST_DATA_ROW + L.MAX_DATA_ROWS - 1}"


def _formula(result: Result) -> str:
    return f'"{result.value}"'  # a text constant: the rule compares the cell with the result's word


def result_rule(result: Result) -> Rule:
    """A rule "cell equals ``result``" → the layout's fill and bold font for ``result``."""
    colour = L.RESULT_FILLS[result]
    # A differential fill is drawn with its background colour (Excel's rule for dxf fills);
    # setting both colours makes every reader (Excel, LibreOffice, Numbers) show the same.
    fill = PatternFill(fill_type="solid", fgColor=colour, bgColor=colour)
    style = DifferentialStyle(font=Font(bold=True, color=L.RESULT_FONTS[result]), fill=fill)
    return Rule(type="cellIs", operator="equal", formula=[_formula(result)], dxf=style)


def has_result_rules(ws: Worksheet, result_col: int) -> bool:
    """Whether ``ws`` already has a rule for every result over :func:`result_range`."""
    wanted = result_range(result_col)
    found: set[str] = set()
    for formatting in ws.conditional_formatting:
        if str(formatting.sqref) != wanted:
            continue
        for rule in formatting.rules:
            if rule.type == "cellIs" and rule.operator == "equal" and rule.formula:
                found.add(str(rule.formula[0]))
    return {_formula(result) for result in L.SUMMARY_RESULTS} <= found


def add_result_rules(ws: Worksheet, result_col: int) -> bool:
    """Add the Result colour rules to ``ws`` unless they are there; True when they were added."""
    if has_result_rules(ws, result_col):
        return False
    cells = result_range(result_col)
    for result in L.SUMMARY_RESULTS:
        ws.conditional_formatting.add(cells, result_rule(result))
    return True


def print_setup(ws: Worksheet, title_rows: str | None) -> None:
    """Landscape, one page wide and as many pages tall as needed, ``title_rows`` on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0 = automatic: as many pages down as the rows need
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows


def has_print_setup(ws: Worksheet) -> bool:
    """Whether someone already chose how ``ws`` prints (an orientation, fit to page, or titles)."""
    fit = ws.sheet_properties.pageSetUpPr
    return bool(ws.page_setup.orientation or (fit is not None and fit.fitToPage) or ws.print_title_rows)
