"""Fixtures for the Excel front: a fake xlwings book laid out like the template."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_xlwings import FakeBook

from mltakedown.book.layout import (
    HEADER_ROW,
    LOG_COLUMNS,
    SETTINGS,
    SHEET_CODES,
    SHEET_LOG,
    SHEET_SETTINGS,
    SHEET_SNAPSHOTS,
    SHEET_TAKEDOWN,
    SHEET_XLWINGS_CONF,
    SNAPSHOT_COLUMNS,
    SUMMARY_RESULTS,
    TAKEDOWN_COLUMNS,
    TEMPLATE_VERSION,
    TEMPLATE_VERSION_KEY,
)
from mltakedown.sandbox import SandboxOptions, World, create_app, serve_in_thread
from mltakedown.sandbox.seed import TOKEN_A

BookFactory = Callable[..., FakeBook]


def build_book(
    path: Path,
    rows: Sequence[dict[str, Any]] = (),
    *,
    lang: str = "en",
    keys: Sequence[str] | None = None,
    settings: dict[str, str] | None = None,
    sheets: Sequence[str] | None = None,
) -> FakeBook:
    """A fake book with the template's sheets; ``rows`` are dicts of input values by key.

    ``keys`` picks and orders the Takedown columns (default: the template's order).
    """
    book = FakeBook(str(path))
    wanted = sheets or (
        SHEET_TAKEDOWN,
        SHEET_SETTINGS,
        SHEET_LOG,
        SHEET_SNAPSHOTS,
        SHEET_CODES,
        SHEET_XLWINGS_CONF,
    )
    columns = {c.key: c for c in TAKEDOWN_COLUMNS}
    order = list(keys) if keys is not None else [c.key for c in TAKEDOWN_COLUMNS]
    if SHEET_TAKEDOWN in wanted:
        sheet = book.sheets.add(SHEET_TAKEDOWN)
        sheet.put(1, ["Summary", *[r.value for r in SUMMARY_RESULTS], "Total", "Last step", "At (UTC)"])
        sheet.put(3, ["Fill the blue columns…"])
        sheet.put(HEADER_ROW, [columns[k].header(lang) for k in order])
        for index, row in enumerate(rows):
            sheet.put(HEADER_ROW + 1 + index, [row.get(k) for k in order])
    if SHEET_SETTINGS in wanted:
        sheet = book.sheets.add(SHEET_SETTINGS)
        values = {s.key: s.default for s in SETTINGS}
        values[TEMPLATE_VERSION_KEY] = TEMPLATE_VERSION
        values["LANGUAGE"] = lang
        values.update(settings or {})
        sheet.put(1, ["Key", "Value", "Note"])
        for index, (key, value) in enumerate(values.items(), start=2):
            sheet.put(index, [key, value])
    if SHEET_LOG in wanted:
        book.sheets.add(SHEET_LOG).put(1, [c.header(lang) for c in LOG_COLUMNS])
    if SHEET_SNAPSHOTS in wanted:
        book.sheets.add(SHEET_SNAPSHOTS).put(1, [c.header(lang) for c in SNAPSHOT_COLUMNS])
    for name in (SHEET_CODES, SHEET_XLWINGS_CONF):
        if name in wanted:
            book.sheets.add(name)
    book.counter.reset()
    return book


@pytest.fixture
def make_book(tmp_path: Path) -> BookFactory:
    """``make_book(rows, lang=..., keys=..., settings=...)`` → a fresh fake book in ``tmp_path``."""

    def factory(rows: Sequence[dict[str, Any]] = (), **kwargs: Any) -> FakeBook:
        return build_book(tmp_path / "takedown.xlsm", rows, **kwargs)

    return factory


@dataclass
class Sandbox:
    """A sandbox served on loopback, with the environment pointing the client at it."""

    url: str
    world: World


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The real sandbox over 127.0.0.1; the client reads its URL and seller A's token from the
    environment, exactly as a user's scripted setup would (``ClientConfig.from_env``)."""
    app = create_app(SandboxOptions())
    with serve_in_thread(app) as url:
        monkeypatch.setenv("MLTAKEDOWN_API_URL", url)
        monkeypatch.setenv("MLTAKEDOWN_ACCESS_TOKEN", TOKEN_A)
        monkeypatch.setenv("MLTAKEDOWN_RATE", "500")
        yield Sandbox(url, app.state.world)


@pytest.fixture
def caller(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeBook], FakeBook]:
    """``caller(book)`` makes ``xw.Book.caller()`` return ``book`` (as RunPython would)."""
    import xlwings

    def install(book: FakeBook) -> FakeBook:
        monkeypatch.setattr(xlwings.Book, "caller", classmethod(lambda cls: book))
        return book

    return install


def save_as_xlsx(book: FakeBook) -> None:
    """What Excel's save leaves on disk, for readers of the file (the report): every fake sheet's
    values written with openpyxl at the book's path."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in book.sheets:
        ws = workbook.create_sheet(sheet.name)
        for (row, column), value in sheet.cells.items():
            ws.cell(row=row, column=column, value=value)
    workbook.save(book.fullname)
