"""A fake of the small part of the xlwings object model that mltakedown uses, counting every access.

Real Excel cannot run on Linux, so the live adapter and the ribbon entry points are tested against
this stand-in. It implements only the subset the code uses — books and sheets by name,
``sheet.range(...)`` / ``sheet["A1"]``, ``.value`` get/set in 2-D, ``.expand()``,
``.options(ndim=2)``, ``.formula``, ``.color``, ``.number_format``, ``used_range``, ``app.alert``
and ``app.status_bar`` — and it behaves like Excel where that matters to us:

- a string written into a cell whose number format is not ``"@"`` is *parsed* as if typed: a text
  starting with ``=`` becomes a formula, a numeric-looking text (``"00123"``, ``"5%"``) a number,
  ``TRUE``/``FALSE`` a boolean, ``1/2`` a date and ``#N/A`` an error, unless it starts with an
  apostrophe (which Excel swallows as the prefix character);
- numbers come back as ``float`` and dates as ``datetime`` (Excel keeps doubles only), colours
  as ``(r, g, b)`` tuples; a message box answers only with one of its own buttons;
- a 2-D list written to a range fills the block starting at the range's top-left cell;
- ``""`` and ``None`` leave the cell empty.

Every value read (``.value``/``.formula`` get) and every write (``.value``, ``.color``,
``.number_format`` set) is recorded in :class:`Counter`, which is what the "bulk, not per cell" tests
assert on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Cell = tuple[int, int]


@dataclass
class Access:
    """One counted access: kind is ``read``/``write``, what is ``value``/``formula``/``color``/…"""

    kind: str
    what: str
    sheet: str
    address: str
    rows: int
    columns: int


@dataclass
class Counter:
    """Every read and write made through the fake, in order."""

    accesses: list[Access] = field(default_factory=list)

    @property
    def reads(self) -> int:
        return sum(1 for a in self.accesses if a.kind == "read")

    @property
    def writes(self) -> int:
        return sum(1 for a in self.accesses if a.kind == "write")

    def of(self, kind: str, what: str | None = None, sheet: str | None = None) -> list[Access]:
        return [
            a
            for a in self.accesses
            if a.kind == kind and (what is None or a.what == what) and (sheet is None or a.sheet == sheet)
        ]

    def reset(self) -> None:
        self.accesses.clear()


def col_letter(column: int) -> str:
    letters = ""
    while column:
        column, rem = divmod(column - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _parse_cell(text: str) -> Cell:
    match = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", text.strip())
    if not match:
        raise ValueError(f"bad cell address {text!r}")
    column = 0
    for ch in match.group(1).upper():
        column = column * 26 + ord(ch) - 64
    return int(match.group(2)), column


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _as_excel_stores(value: Any) -> Any:
    """A value as Excel keeps it and xlwings reads it back: every number a double (``float``),
    every date a ``datetime`` (Excel has no date-only type)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _as_excel_parses(value: Any, number_format: str) -> tuple[Any, str | None]:
    """(stored value, formula) for a value assigned through ``Range.value``, the way Excel parses it."""
    value = _as_excel_stores(value)
    if isinstance(value, str):
        if value == "":
            return None, None
        if number_format == "@":
            return value, None
        if value.startswith("'"):
            return value[1:], None
        if value.startswith("=") and len(value) > 1:
            return f"<formula {value}>", value
        text = value.strip()
        if _NUMBER.fullmatch(text):
            return float(value), None
        if text.endswith("%") and _NUMBER.fullmatch(text[:-1]):
            return float(text[:-1]) / 100, None
        if text.upper() in ("TRUE", "FALSE"):
            return text.upper() == "TRUE", None
        date = _DATE.fullmatch(text)
        if date:  # en-US typing: month/day[/year]
            month, day, year = int(date[1]), int(date[2]), int(date[3] or dt.date.today().year)
            try:
                return dt.datetime(year, month, day), None
            except ValueError:
                return value, None
        if text.upper() in _ERRORS:
            return None, None  # an error value: xlwings reads it as None (without err_to_str)
    return value, None


_DATE = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")
_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!"})


class ComError(Exception):
    """Stands for ``pywintypes.com_error`` / appscript's ``CommandError``: Excel refused a call."""


_ALERT_BUTTONS: dict[str | None, tuple[str, ...]] = {
    None: ("ok",),
    "ok": ("ok",),
    "ok_cancel": ("ok", "cancel"),
    "yes_no": ("yes", "no"),
    "yes_no_cancel": ("yes", "no", "cancel"),
}
_ALERT_MODES: dict[str | None, str] = {None: "info", "info": "info", "critical": "critical"}


def rgb(colour: Any) -> tuple[int, int, int] | None:
    """A colour as xlwings sets it (``"#rrggbb"``, an ``(r, g, b)`` tuple, or ``None`` to clear)
    and as it reads it back: an ``(r, g, b)`` tuple. Anything else is refused, as Excel refuses it."""
    if colour is None:
        return None
    if isinstance(colour, str):
        if not re.fullmatch(r"#?[0-9A-Fa-f]{6}", colour):
            raise ValueError(f"not a #rrggbb colour: {colour!r}")
        text = colour.lstrip("#")
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    if (
        isinstance(colour, tuple)
        and len(colour) == 3
        and all(isinstance(c, int) and 0 <= c <= 255 for c in colour)
    ):
        return (colour[0], colour[1], colour[2])
    raise ValueError(f"not a colour: {colour!r}")


class FakeApp:
    """``book.app``: message boxes answered from a script, status bar history."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.answers: list[str] = []
        self.status_history: list[str | bool] = []
        self._status: str | bool = False

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str:
        # As xlwings 0.37.8 (_xlwindows/_xlmac App.alert): unknown buttons or mode → KeyError, and
        # the answer is one of the box's own buttons, in lower case.
        choices = _ALERT_BUTTONS[buttons]
        _ALERT_MODES[mode]
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        if self.answers:
            answer = self.answers.pop(0)
            assert answer in choices, f"a {buttons!r} box cannot answer {answer!r}"
            return answer
        return choices[0]

    @property
    def status_bar(self) -> str | bool:
        return self._status

    @status_bar.setter
    def status_bar(self, value: str | bool) -> None:
        self._status = value
        self.status_history.append(value)


class FakeRange:
    """A rectangular block of one sheet (1-based, inclusive)."""

    def __init__(
        self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int, opts: dict[str, Any] | None = None
    ) -> None:
        if min(r1, c1, r2, c2) < 1:
            raise IndexError("xlwings/Excel ranges are 1-based")
        self.sheet = sheet
        self.r1, self.c1 = min(r1, r2), min(c1, c2)
        self.r2, self.c2 = max(r1, r2), max(c1, c2)
        self.opts = dict(opts or {})

    # --- geometry ------------------------------------------------------------------------------
    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def shape(self) -> tuple[int, int]:
        return (self.r2 - self.r1 + 1, self.c2 - self.c1 + 1)

    @property
    def last_cell(self) -> FakeRange:
        return FakeRange(self.sheet, self.r2, self.c2, self.r2, self.c2)

    @property
    def address(self) -> str:
        a = f"${col_letter(self.c1)}${self.r1}"
        if (self.r1, self.c1) == (self.r2, self.c2):
            return a
        return f"{a}:${col_letter(self.c2)}${self.r2}"

    def __len__(self) -> int:
        rows, cols = self.shape
        return rows * cols

    def options(self, convert: Any = None, **options: Any) -> FakeRange:
        if convert is not None:
            raise NotImplementedError("the fake supports the default converter only")
        merged = {**self.opts, **options}
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2, merged)

    def expand(self, mode: str = "table") -> FakeRange:
        r2, c2 = self.r2, self.c2
        if mode in ("table", "down", "d"):
            while self.sheet.cells.get((r2 + 1, self.c1)) is not None:
                r2 += 1
        if mode in ("table", "right", "r"):
            while self.sheet.cells.get((self.r1, c2 + 1)) is not None:
                c2 += 1
        return FakeRange(self.sheet, self.r1, self.c1, r2, c2, self.opts)

    def _record(self, kind: str, what: str, rows: int | None = None, cols: int | None = None) -> None:
        if kind == "write" and self.sheet.protected:
            # What COM raises (pywintypes.com_error) when a protected sheet is written to.
            raise ComError("The cell or chart you're trying to change is on a protected sheet.")
        shape = self.shape
        self.sheet.book.counter.accesses.append(
            Access(kind, what, self.sheet.name, self.address, rows or shape[0], cols or shape[1])
        )

    def _cells(self) -> Iterator[Cell]:
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                yield r, c

    # --- values --------------------------------------------------------------------------------
    def _shaped(self, grid: list[list[Any]]) -> Any:
        if self.opts.get("ndim") == 2:
            return grid
        rows, cols = self.shape
        if rows == 1 and cols == 1:
            return grid[0][0]
        if rows == 1:
            return grid[0]
        if cols == 1:
            return [r[0] for r in grid]
        return grid

    @property
    def value(self) -> Any:
        self._record("read", "value")
        grid = [
            [self.sheet.cells.get((r, c)) for c in range(self.c1, self.c2 + 1)]
            for r in range(self.r1, self.r2 + 1)
        ]
        return self._shaped(grid)

    @value.setter
    def value(self, data: Any) -> None:
        if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
            grid = [list(row) for row in data]
        elif isinstance(data, (list, tuple)):
            grid = [list(data)]
        else:
            grid = [[data]]
        width = max((len(r) for r in grid), default=0)
        self._record("write", "value", len(grid), width)
        for i, row in enumerate(grid):
            for j, item in enumerate(row):
                cell = (self.r1 + i, self.c1 + j)
                fmt = self.sheet.formats.get(cell, "General")
                stored, formula = _as_excel_parses(item, fmt)
                if stored is None:
                    self.sheet.cells.pop(cell, None)
                else:
                    self.sheet.cells[cell] = stored
                if formula is None:
                    self.sheet.formulas.pop(cell, None)
                else:
                    self.sheet.formulas[cell] = formula

    @property
    def formula(self) -> Any:
        self._record("read", "formula")
        grid = []
        for r in range(self.r1, self.r2 + 1):
            line = []
            for c in range(self.c1, self.c2 + 1):
                if (r, c) in self.sheet.formulas:
                    line.append(self.sheet.formulas[(r, c)])
                else:
                    v = self.sheet.cells.get((r, c))
                    line.append("" if v is None else str(v))
            grid.append(tuple(line))
        rows, cols = self.shape
        if rows == 1 and cols == 1:
            return grid[0][0]
        return tuple(grid)

    # --- formatting ----------------------------------------------------------------------------
    @property
    def color(self) -> Any:
        return self.sheet.colors.get((self.r1, self.c1))

    @color.setter
    def color(self, value: Any) -> None:
        colour = rgb(value)  # xlwings converts a hex string before it reaches Excel
        self._record("write", "color")
        for cell in self._cells():
            if colour is None:
                self.sheet.colors.pop(cell, None)
            else:
                self.sheet.colors[cell] = colour

    @property
    def number_format(self) -> str:
        return self.sheet.formats.get((self.r1, self.c1), "General")

    @number_format.setter
    def number_format(self, value: str) -> None:
        self._record("write", "number_format")
        for cell in self._cells():
            self.sheet.formats[cell] = value


class FakeAreas:
    """A multi-area range (``sheet.range("A1,A5:A7")``, Windows COM): only ``.color`` is supported,
    which is all the adapter sets on one; Excel refuses addresses over 255 characters."""

    def __init__(self, sheet: FakeSheet, address: str) -> None:
        if len(address) > 255:
            raise ValueError("Excel's Range() takes at most 255 characters")
        self.sheet = sheet
        self.address = address
        self.areas = [sheet.range(part) for part in address.split(",")]

    @property
    def color(self) -> Any:
        return self.areas[0].color

    @color.setter
    def color(self, value: Any) -> None:
        if self.sheet.protected:
            raise ComError("The cell or chart you're trying to change is on a protected sheet.")
        cells = sum(len(a) for a in self.areas)
        self.sheet.book.counter.accesses.append(
            Access("write", "color", self.sheet.name, self.address, cells, 1)
        )
        colour = rgb(value)
        for area in self.areas:
            for cell in area._cells():
                if colour is None:
                    self.sheet.colors.pop(cell, None)
                else:
                    self.sheet.colors[cell] = colour


class FakeSheet:
    """One worksheet: sparse dictionaries of values, formulas, colours and number formats."""

    def __init__(self, book: FakeBook, name: str) -> None:
        self.book = book
        self.name = name
        self.cells: dict[Cell, Any] = {}
        self.formulas: dict[Cell, str] = {}
        self.colors: dict[Cell, Any] = {}
        self.formats: dict[Cell, str] = {}
        self.protected = False
        """A protected sheet (Review → Protect Sheet): every write raises :class:`ComError`."""

    def range(self, cell1: Any, cell2: Any = None) -> FakeRange:
        if isinstance(cell1, FakeRange):
            r1, c1 = cell1.r1, cell1.c1
            end = cell2 if cell2 is not None else cell1
            assert isinstance(end, FakeRange)
            return FakeRange(self, r1, c1, end.r2, end.c2)
        if isinstance(cell1, tuple):
            r1, c1 = cell1
        else:
            text = str(cell1)
            if "," in text:
                return FakeAreas(self, text)  # type: ignore[return-value]
            if ":" in text:
                left, right = text.split(":", 1)
                (r1, c1), (r2, c2) = _parse_cell(left), _parse_cell(right)
                return FakeRange(self, r1, c1, r2, c2)
            r1, c1 = _parse_cell(text)
        if cell2 is None:
            return FakeRange(self, r1, c1, r1, c1)
        if isinstance(cell2, tuple):
            r2, c2 = cell2
        elif isinstance(cell2, FakeRange):
            r2, c2 = cell2.r2, cell2.c2
        else:
            r2, c2 = _parse_cell(str(cell2))
        return FakeRange(self, r1, c1, r2, c2)

    def __getitem__(self, address: str) -> FakeRange:
        return self.range(address)

    def clear_contents(self) -> None:
        if self.protected:
            raise ComError("The cell or chart you're trying to change is on a protected sheet.")
        self.book.counter.accesses.append(Access("write", "clear_contents", self.name, "", 0, 0))
        self.cells.clear()
        self.formulas.clear()

    @property
    def used_range(self) -> FakeRange:
        # Excel's UsedRange spans every cell holding a value or a format (colours count too).
        used = set(self.cells) | set(self.colors) | set(self.formulas)
        if not used:
            return FakeRange(self, 1, 1, 1, 1)
        rows = [r for r, _ in used]
        cols = [c for _, c in used]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))

    # --- test helpers (not part of xlwings) ------------------------------------------------------
    def put(self, row: int, values: list[Any], column: int = 1) -> None:
        """Set cells directly, as if the user had typed them (not counted)."""
        for j, v in enumerate(values):
            if v is None or v == "":
                self.cells.pop((row, column + j), None)
            elif isinstance(v, str) and v.startswith("=") and len(v) > 1:
                self.formulas[(row, column + j)] = v
                self.cells[(row, column + j)] = f"<formula {v}>"
            else:
                self.cells[(row, column + j)] = _as_excel_stores(v)

    def row_values(self, row: int, first: int, last: int) -> list[Any]:
        return [self.cells.get((row, c)) for c in range(first, last + 1)]


class FakeSheets:
    """``book.sheets``: by name (case-insensitive, like Excel) or by 0-based index."""

    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self._sheets: list[FakeSheet] = []

    def __getitem__(self, key: str | int) -> FakeSheet:
        if isinstance(key, int):
            return self._sheets[key]
        for sheet in self._sheets:
            if sheet.name.lower() == key.lower():
                return sheet
        raise KeyError(key)

    def __iter__(self) -> Iterator[FakeSheet]:
        return iter(self._sheets)

    def __len__(self) -> int:
        return len(self._sheets)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and any(s.name.lower() == key.lower() for s in self._sheets)

    def add(self, name: str, before: Any = None, after: Any = None) -> FakeSheet:
        if self.book.structure_protected:
            raise ComError("Workbook is protected and cannot be changed.")
        if name in self:
            raise ValueError(f"a sheet named {name!r} already exists")
        sheet = FakeSheet(self.book, name)
        if after is not None:
            self._sheets.insert(self._sheets.index(after) + 1, sheet)
        elif before is not None:
            self._sheets.insert(self._sheets.index(before), sheet)
        else:
            self._sheets.append(sheet)
        return sheet


class FakeBook:
    """``xw.Book`` as returned by ``xw.Book.caller()``."""

    def __init__(self, fullname: str) -> None:
        self.fullname = fullname
        self.name = fullname.replace("\\", "/").rsplit("/", 1)[-1]
        self.app = FakeApp()
        self.counter = Counter()
        self.sheets = FakeSheets(self)
        self.saves = 0
        self.structure_protected = False
        """Review → Protect Workbook (structure): no sheet can be added."""

    def save(self, path: str | None = None) -> None:
        """Excel saving the open workbook in place (tests hook ``on_save`` to write the file)."""
        self.saves += 1
        if self.on_save is not None:
            self.on_save(self)

    on_save: Any = None
