"""Result colours in live Excel: none written on a workbook coloured by conditional formatting,
painted as before on an older workbook without the Settings marker."""

from __future__ import annotations

import random

import pytest
from conftest import BookFactory
from fake_xlwings import FakeBook, rgb

from mltakedown.book.layout import (
    RESULT_COLOURS_CONDITIONAL,
    RESULT_COLOURS_KEY,
    RESULT_FILLS,
    SHEET_SETTINGS,
    SHEET_TAKEDOWN,
    TAKEDOWN_COLUMNS,
    conditional_colours,
)
from mltakedown.book.live import LiveWorkbook
from mltakedown.book.ports import Outcome, Result

KEYS = [c.key for c in TAKEDOWN_COLUMNS]
RESULT_COL = KEYS.index("result") + 1
ROWS = 10_000


def _rows(n: int) -> list[dict[str, object]]:
    return [{"identifier": f"MLM{1_000_000_000 + i}", "action": "PAUSE", "reason": "TRO"} for i in range(n)]


def _scattered(n: int) -> list[Result]:
    """Mostly OK, with 10% of the rows scattered among the four other results."""
    rnd = random.Random(11)
    others = [Result.SKIPPED, Result.WARNING, Result.BLOCKED, Result.FAILED]
    return [rnd.choice(others) if rnd.random() < 0.10 else Result.OK for _ in range(n)]


def _drop_setting(book: FakeBook, key: str) -> None:
    """Remove a Settings row, as in a workbook made before the key existed."""
    sheet = book.sheets[SHEET_SETTINGS]
    rows = [r for (r, c), v in sheet.cells.items() if c == 1 and v == key]
    for row in rows:
        for cell in [cell for cell in sheet.cells if cell[0] == row]:
            del sheet.cells[cell]
    book.counter.reset()


def _run(book: FakeBook, results: list[Result], *, union: bool = False) -> LiveWorkbook:
    live = LiveWorkbook(book, union_ranges=union)
    rows = live.read_rows()
    book.counter.reset()
    live.write_outcomes(
        [Outcome(r.row_number, res, "C100") for r, res in zip(rows, results, strict=True)], stage="check"
    )
    return live


@pytest.mark.parametrize("union", [False, True])
def test_a_marked_workbook_gets_no_colour_write_at_all(make_book: BookFactory, union: bool) -> None:
    book = make_book(_rows(ROWS))  # the template's Settings: RESULT_COLOURS = conditional
    results = _scattered(ROWS)
    assert sum(r is not Result.OK for r in results) > 900  # really scattered: ~1,000 runs
    live = _run(book, results, union=union)
    assert live.read_settings().extra[RESULT_COLOURS_KEY] == RESULT_COLOURS_CONDITIONAL
    writes = book.counter.of("write")
    assert book.counter.of("write", "color") == []
    assert book.counter.reads == 0
    # Check writes Result, Code, Message, Remedy (adjacent): one value write of that block over
    # the 10,000 rows, one of the summary block. Nothing that grows with the rows or the runs.
    assert [(w.what, w.rows, w.columns) for w in writes] == [("value", ROWS, 4), ("value", 2, 9)]
    sheet = book.sheets[SHEET_TAKEDOWN]
    assert not sheet.colors
    assert [sheet.cells.get((5 + i, RESULT_COL)) for i in range(ROWS)] == [r.value for r in results]


@pytest.mark.parametrize("settings", [{}, {RESULT_COLOURS_KEY: ""}, {RESULT_COLOURS_KEY: "fill"}])
def test_an_unmarked_workbook_is_painted_as_before(make_book: BookFactory, settings: dict[str, str]) -> None:
    book = make_book(_rows(2_000), settings=settings)
    if not settings:
        _drop_setting(book, RESULT_COLOURS_KEY)
    results = _scattered(2_000)
    live = _run(book, results)
    assert not conditional_colours(live.read_settings())
    sheet = book.sheets[SHEET_TAKEDOWN]
    got = [sheet.colors.get((5 + i, RESULT_COL)) for i in range(2_000)]
    assert got == [rgb(RESULT_FILLS[r]) for r in results]
    assert len(book.counter.of("write", "color")) > 100  # one per run without unions


def test_the_marker_is_case_and_space_insensitive(make_book: BookFactory) -> None:
    book = make_book(_rows(10), settings={RESULT_COLOURS_KEY: "  Conditional "})
    _run(book, [Result.BLOCKED] * 10)
    assert book.counter.of("write", "color") == []
