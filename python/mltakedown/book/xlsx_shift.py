"""Insert rows at the top of a worksheet the way Excel does, for ``upgrade``.

openpyxl's ``insert_rows`` moves the cells and nothing else: merged ranges, hyperlinks, data
validation, conditional formatting, tables, filters and formulas keep pointing at the old rows. On a user's own
list moved under the summary block that would merge summary cells, hang a row's hyperlink on the
summary, and make ``=A3`` read the how-to line. :func:`move_rows_on_top` moves them along, and
rewrites references to the sheet in formulas of every sheet (absolute ones too, as Excel does
when rows are inserted) and in defined names, and renames them when the sheet is renamed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

_CELL = re.compile(r"(\$?[A-Za-z]{1,3}\$?)(\d+)")
_ROW = re.compile(r"(\$?)(\d+)")


def _shift_part(part: str, count: int) -> str:
    # A row that would fall above row 1 (only when empty rows are deleted) is left as it was.
    if (cell := _CELL.fullmatch(part)) is not None and int(cell.group(2)) + count >= 1:
        return f"{cell.group(1)}{int(cell.group(2)) + count}"
    if (row := _ROW.fullmatch(part)) is not None and int(row.group(2)) + count >= 1:
        return f"{row.group(1)}{int(row.group(2)) + count}"
    return part  # a whole column (A:A), a name, an R1C1 reference: nothing to move


def _shift_ref(ref: str, count: int) -> str:
    return ":".join(_shift_part(part, count) for part in ref.split(":"))


def shift_formula(formula: str, count: int, *, local: bool, old: str, new: str) -> str:
    """``formula`` with references to sheet ``old`` moved down ``count`` rows and renamed to ``new``.

    ``local`` says the formula sits on that sheet, where unprefixed references are its own.
    A formula the tokenizer cannot read is returned unchanged.
    """
    try:
        tokens = Tokenizer(formula if formula.startswith("=") else "=" + formula)
    except TokenizerError:
        return formula
    changed = False
    for token in tokens.items:
        if token.type != Token.OPERAND or token.subtype != Token.RANGE:
            continue
        sheet, bang, ref = token.value.rpartition("!")
        if bang:
            if sheet.strip("'").replace("''", "'").casefold() != old.casefold():
                continue
            if new != old:
                sheet = "'" + new.replace("'", "''") + "'"
        elif not local:
            continue
        value = f"{sheet}{bang}{_shift_ref(ref, count)}"
        if value != token.value:
            token.value, changed = value, True
    if not changed:
        return formula
    rendered = str(tokens.render())
    return rendered if formula.startswith("=") else rendered[1:]


def _shift_ranges(ranges: object, count: int) -> MultiCellRange:
    shifted = []
    for text in str(ranges).split():
        try:
            cell_range = CellRange(text)
            if cell_range.min_row + count >= 1:
                cell_range.shift(row_shift=count)
        except (ValueError, TypeError):  # a whole-column range: it covers the new rows already
            shifted.append(text)
            continue
        shifted.append(cell_range.coord)
    return MultiCellRange(" ".join(shifted))


def move_rows_on_top(wb: Workbook, ws: Worksheet, count: int, new_title: str) -> None:
    """Insert ``count`` rows above row 1 of ``ws`` (delete ``-count`` empty rows from the top when
    negative) and rename it ``new_title``, moving along what refers to rows."""
    old_title = ws.title
    if count == 0 and old_title == new_title:
        return

    def move(local: bool) -> Callable[[str], str]:
        return lambda text: shift_formula(text, count, local=local, old=old_title, new=new_title)

    _move_cells(ws, count)
    for dv in ws.data_validations.dataValidation:
        dv.sqref = _shift_ranges(dv.sqref, count)
    # A table left behind would cover the summary rows with a header that is not its own, which
    # Excel "repairs" by dropping the table; the sheet's filter moves with its rows too.
    for table in ws.tables.values():
        table.ref = _shift_ref(table.ref, count)
        if table.autoFilter is not None and table.autoFilter.ref:
            table.autoFilter.ref = _shift_ref(table.autoFilter.ref, count)
    if ws.auto_filter.ref:
        ws.auto_filter.ref = _shift_ref(ws.auto_filter.ref, count)
    rules = ws.conditional_formatting
    ws.conditional_formatting = ConditionalFormattingList()
    for block in rules:
        for rule in block.rules:
            rule.formula = [move(True)(f) for f in rule.formula]
            ws.conditional_formatting.add(str(_shift_ranges(block.sqref, count)), rule)
    for sheet in wb.worksheets:
        _move_formulas(sheet, move(sheet is ws), count if sheet is ws else 0)
        for name in sheet.defined_names.values():  # names scoped to a sheet
            if name.attr_text:
                name.attr_text = move(sheet is ws)(name.attr_text)
    for name in wb.defined_names.values():  # workbook names always say which sheet they mean
        if name.attr_text:
            name.attr_text = move(False)(name.attr_text)
    ws.title = new_title


def _move_cells(ws: Worksheet, count: int) -> None:
    """Insert or delete the rows; merged ranges and hyperlink anchors follow their cells."""
    merged = [r.coord for r in ws.merged_cells.ranges]
    for text in merged:
        ws.unmerge_cells(text)
    if count > 0:
        ws.insert_rows(1, count)
    elif count < 0:
        ws.delete_rows(1, -count)
    for text in merged:
        cell_range = CellRange(text)
        if cell_range.min_row + count >= 1:  # a merge inside deleted (empty) rows goes with them
            cell_range.shift(row_shift=count)
            ws.merge_cells(cell_range.coord)
    for cell in [c for c in ws._cells.values() if c.hyperlink is not None]:
        cell.hyperlink.ref = cell.coordinate  # the link object moved with the cell; its anchor did not


def _move_formulas(sheet: Worksheet, shift: Callable[[str], str], count: int) -> None:
    """Rewrite the formulas of ``sheet``; ``count`` moves array-formula ranges on the moved sheet."""
    for cell in sheet._cells.values():
        value = cell._value
        if isinstance(value, ArrayFormula):
            value.text = shift(value.text)
            if count:
                value.ref = _shift_ref(value.ref, count)
        elif cell.data_type == "f" and isinstance(value, str):
            cell._value = shift(value)
