"""LiveWorkbook (the xlwings adapter) against a fake Book that counts every range read and write."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from conftest import BookFactory
from fake_xlwings import FakeBook, FakeSheet, rgb

from mltakedown.book.errors import (
    MissingColumnError,
    MissingSheetError,
    TemplateVersionError,
    TooManyRowsError,
    WorkbookError,
)
from mltakedown.book.layout import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    INPUT_KEYS,
    OUTPUT_KEYS,
    RESULT_COLOURS_KEY,
    RESULT_FILLS,
    SHEET_LOG,
    SHEET_SNAPSHOTS,
    SHEET_TAKEDOWN,
    TAKEDOWN_COLUMNS,
)
from mltakedown.book.live import (
    EXCEL_CELL_LIMIT,
    LiveWorkbook,
    colour_runs,
    column_runs,
    excel_text,
    read_cell,
    union_addresses,
)
from mltakedown.book.ports import LogEntry, Outcome, Result, SnapshotRow, WorkbookPort

KEYS = [c.key for c in TAKEDOWN_COLUMNS]
PAINTED = {RESULT_COLOURS_KEY: ""}
"""Settings of a workbook made before the conditional-formatting colours: the adapter paints."""


def col(key: str) -> int:
    return KEYS.index(key) + 1


def takedown(book: FakeBook) -> FakeSheet:
    return book.sheets[SHEET_TAKEDOWN]


def rows_of(n: int) -> list[dict[str, object]]:
    return [
        {"identifier": f"MLM{1_000_000_000 + i}", "action": "PAUSE", "reason": "IP complaint"}
        for i in range(n)
    ]


# --- pure helpers --------------------------------------------------------------------------------


def test_column_runs_groups_consecutive_numbers() -> None:
    assert column_runs([5, 1, 2, 3, 9, 10]) == [(1, 3), (5, 5), (9, 10)]
    assert column_runs([]) == []


def test_colour_runs_paints_the_common_result_once_then_the_others() -> None:
    ok, bl, wa = Result.OK, Result.BLOCKED, Result.WARNING
    results = dict.fromkeys(range(5, 1005), ok)
    results[100] = bl
    results[500] = wa
    assert colour_runs(results) == [(5, 1004, ok), (100, 100, bl), (500, 500, wa)]
    # Plain runs when that is no more writes; a gap (row without outcome) splits segments.
    assert colour_runs({5: ok, 6: ok, 7: bl, 9: bl}) == [(5, 6, ok), (7, 7, bl), (9, 9, bl)]
    assert colour_runs({}) == []


@pytest.mark.parametrize(
    ("text", "guarded"),
    [
        ('=HYPERLINK("x")', True),
        ("00123", True),
        ("+55 11", True),
        ("-5", True),
        ("#N/A", True),
        ("1/2", True),
        ("TRUE", True),
        ("May 5", True),
        ("'quoted", True),
        ("MLM123", False),
        ("Paused by the seller", False),
        ("暂停", False),
        ("", False),
    ],
)
def test_excel_text_guards_what_excel_would_parse(text: str, guarded: bool) -> None:
    assert (excel_text(text) == "'" + text) is guarded


def test_read_cell_gives_whole_numbers_as_int_like_openpyxl() -> None:
    assert read_cell(123.0) == 123 and isinstance(read_cell(123.0), int)
    assert read_cell(7501234567890.0) == 7501234567890
    assert read_cell(1.5) == 1.5
    assert read_cell(1e300) == 1e300
    assert read_cell(True) is True


# --- reading -------------------------------------------------------------------------------------


def test_adapter_satisfies_the_port(make_book: BookFactory) -> None:
    assert isinstance(LiveWorkbook(make_book()), WorkbookPort)


def test_read_rows_is_one_value_read_plus_one_formula_read(make_book: BookFactory) -> None:
    book = make_book(rows_of(10_000))
    live = LiveWorkbook(book)
    started = time.perf_counter()
    rows = live.read_rows()
    elapsed = time.perf_counter() - started
    assert len(rows) == 10_000
    assert [a.what for a in book.counter.of("read", sheet=SHEET_TAKEDOWN)] == ["value", "formula"]
    assert book.counter.writes == 0
    assert rows[0].row_number == FIRST_DATA_ROW
    assert rows[0].values == {"identifier": "MLM1000000000", "action": "PAUSE", "reason": "IP complaint"}
    assert elapsed < 5


def test_columns_are_found_by_header_text_in_any_order_and_language(make_book: BookFactory) -> None:
    order = ["note", "action", "result", "identifier", "reason", "item_id", "code", "message", "remedy"]
    book = make_book(
        [{"identifier": "SKU-1", "action": "PAUSAR", "note": "n", "item_id": "MLM1", "result": "OK"}],
        keys=order,
        lang="es",
    )
    (row,) = LiveWorkbook(book).read_rows()
    assert row.values == {"identifier": "SKU-1", "action": "PAUSAR", "note": "n"}
    assert row.outputs == {"item_id": "MLM1", "result": "OK"}


def test_blank_rows_are_skipped_and_numbers_formulas_reported(make_book: BookFactory) -> None:
    book = make_book(
        [
            {"identifier": 123.0, "action": "PAUSE"},
            {},
            {"identifier": "=A1", "action": "CLOSE", "confirm": "yes"},
            {"item_id": "MLM9"},  # only an output cell: not a data row
        ]
    )
    rows = LiveWorkbook(book).read_rows()
    assert [r.row_number for r in rows] == [FIRST_DATA_ROW, FIRST_DATA_ROW + 2]
    assert rows[0].values["identifier"] == 123 and isinstance(rows[0].values["identifier"], int)
    assert rows[0].formulas == frozenset()
    assert rows[1].formulas == frozenset({"identifier"})
    assert rows[1].values["identifier"] == "=A1"  # the formula text, as the openpyxl adapter gives it


def test_duplicate_headers_and_old_templates_are_refused(make_book: BookFactory) -> None:
    with pytest.raises(WorkbookError, match="appears twice"):
        LiveWorkbook(make_book(keys=["identifier", "action", "action"])).read_rows()
    with pytest.raises(TemplateVersionError, match="mltakedown upgrade"):
        LiveWorkbook(make_book(settings={"TEMPLATE_VERSION": ""})).read_rows()
    with pytest.raises(TemplateVersionError, match="newer"):
        LiveWorkbook(make_book(settings={"TEMPLATE_VERSION": "99"})).read_rows()


def test_missing_output_columns_get_their_header(make_book: BookFactory) -> None:
    keys = ["identifier", "action", "reason", "result", "code"]
    book = make_book([{"identifier": "MLM1", "action": "PAUSE"}], keys=keys)
    live = LiveWorkbook(book)
    (row,) = live.read_rows()
    live.write_outcomes(
        [Outcome(row.row_number, Result.OK, "C100", "Checked", values={"site": "MLM"})], stage="c"
    )
    sheet = takedown(book)
    headers = sheet.row_values(HEADER_ROW, 1, 40)
    assert "Message" in headers and "Site" in headers and "New item ID" in headers
    assert sheet.cells[(row.row_number, headers.index("Message") + 1)] == "Checked"
    assert sheet.cells[(row.row_number, headers.index("Site") + 1)] == "MLM"
    assert LiveWorkbook(book).read_rows()[0].outputs["site"] == "MLM"


def test_a_missing_log_sheet_is_added_with_its_header(make_book: BookFactory) -> None:
    book = make_book(sheets=[SHEET_TAKEDOWN, "Settings"])
    at = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    LiveWorkbook(book).append_log([LogEntry(at, "GET", "/users/me", 200, "r", 1.0)])
    sheet = book.sheets[SHEET_LOG]
    assert sheet.cells[(1, 1)] == "At (UTC)" and sheet.cells[(2, 3)] == "/users/me"
    assert len(book.counter.of("write", sheet=SHEET_LOG)) == 1


def test_missing_sheet_and_missing_column_are_workbook_errors(make_book: BookFactory) -> None:
    with pytest.raises(MissingSheetError, match="Takedown"):
        LiveWorkbook(make_book(sheets=["Settings"])).read_rows()
    with pytest.raises(MissingColumnError, match="Identifier"):
        LiveWorkbook(make_book([{"action": "PAUSE"}], keys=["action", "reason"])).read_rows()


def test_too_many_rows_is_refused_before_reading_values(make_book: BookFactory) -> None:
    book = make_book(rows_of(1))
    takedown(book).put(HEADER_ROW + 300_000, ["junk"])
    with pytest.raises(TooManyRowsError):
        LiveWorkbook(book).read_rows()
    assert book.counter.of("read", sheet=SHEET_TAKEDOWN) == []


def test_settings_are_read_once(make_book: BookFactory) -> None:
    book = make_book(settings={"SELLER_ID": "1001", "LANGUAGE": "zh"})
    live = LiveWorkbook(book)
    assert live.read_settings().seller_id == 1001
    assert live.language == "zh"
    assert book.counter.reads == 1


# --- writing -------------------------------------------------------------------------------------


def _pull_outcome(row: int, result: Result, i: int) -> Outcome:
    return Outcome(
        row_number=row,
        result=result,
        code="L200" if result is Result.OK else "L201",
        message="Found" if result is Result.OK else "=not found, check the ID",
        remedy="" if result is Result.OK else "Check the identifier",
        values={
            "item_id": f"MLM{1_000_000_000 + i}",
            "variation_id": 180_000_000_000 + i,
            "site": "MLM",
            "title": f"Item {i}",
            "status_before": "active",
            "sub_status": "",
            "available_qty": i % 7,
            "pending_orders": 0,
            "ad_status": "active",
            "full": "no",
            "catalog": "no",
            "questions": 0,
        },
    )


def test_a_10000_row_result_takes_at_most_20_range_writes(make_book: BookFactory) -> None:
    book = make_book(rows_of(10_000), settings=PAINTED)
    live = LiveWorkbook(book)
    rows = live.read_rows()
    book.counter.reset()
    # Realistic mix: mostly found, a not-found every 1,000 rows (scattered exceptions).
    outcomes = [
        _pull_outcome(r.row_number, Result.BLOCKED if i % 1000 == 999 else Result.OK, i)
        for i, r in enumerate(rows)
    ]
    live.write_outcomes(outcomes, stage="pull")
    writes = book.counter.of("write")
    assert book.counter.reads == 0  # the cache from read_rows is enough
    assert len(writes) <= 20, [(w.what, w.address) for w in writes]
    sheet = takedown(book)
    last = FIRST_DATA_ROW + 9_999
    assert sheet.cells[(last, col("item_id"))] == "MLM1000009999"
    assert sheet.cells[(last, col("result"))] == "BLOCKED"
    assert sheet.colors[(last, col("result"))] == rgb(RESULT_FILLS[Result.BLOCKED])
    assert sheet.colors[(FIRST_DATA_ROW, col("result"))] == rgb(RESULT_FILLS[Result.OK])
    # The value write covers the whole output block in one go.
    value_writes = [w for w in writes if w.what == "value" and w.rows == 10_000]
    assert len(value_writes) == 1


def test_text_stays_text_and_numbers_stay_numbers(make_book: BookFactory) -> None:
    book = make_book(rows_of(3))
    live = LiveWorkbook(book)
    rows = live.read_rows()
    live.write_outcomes(
        [
            Outcome(rows[0].row_number, Result.FAILED, "X302", "=SUM(A1:A9) is not a title", "+fix it", {}),
            Outcome(rows[1].row_number, Result.OK, "L200", "ok", "", {"title": "00123", "available_qty": 5}),
            Outcome(rows[2].row_number, Result.OK, "L200", "ok", "", {"variation_id": 12345678901}),
        ],
        stage="pull",
    )
    sheet = takedown(book)
    r0, r1, r2 = (r.row_number for r in rows)
    assert sheet.formulas == {}
    assert sheet.cells[(r0, col("message"))] == "=SUM(A1:A9) is not a title"
    assert sheet.cells[(r0, col("remedy"))] == "+fix it"
    assert sheet.cells[(r1, col("title"))] == "00123"
    assert sheet.cells[(r1, col("available_qty"))] == 5
    assert sheet.cells[(r2, col("variation_id"))] == "12345678901"
    assert sheet.formats[(r2, col("variation_id"))] == "@"  # ID columns are formatted as Text
    assert (r0, col("message")) not in sheet.formats  # other text is guarded with the apostrophe
    # Read back through a new adapter: the same texts.
    again = LiveWorkbook(book).read_rows()
    assert again[1].outputs["title"] == "00123"


def test_input_cells_are_never_written(make_book: BookFactory) -> None:
    book = make_book(rows_of(50))
    live = LiveWorkbook(book)
    rows = live.read_rows()

    def inputs() -> dict[tuple[int, int], object]:
        cells = takedown(book).cells.items()
        return {k: v for k, v in cells if k[0] >= FIRST_DATA_ROW and KEYS[k[1] - 1] in INPUT_KEYS}

    before = inputs()
    live.write_outcomes([_pull_outcome(r.row_number, Result.OK, i) for i, r in enumerate(rows)], stage="pull")
    after = inputs()
    assert after == before
    for access in book.counter.of("write", sheet=SHEET_TAKEDOWN):
        if access.address == "$A$1:$I$2":
            continue  # the summary block above the table
        first_col = access.address.split("$")[1]
        assert first_col >= "H", access  # H is the first output column of the template
    with pytest.raises(WorkbookError, match="inputs are never written"):
        live.write_outcomes([Outcome(rows[0].row_number, values={"identifier": "x"})], stage="pull")


def test_rows_between_outcomes_keep_their_values(make_book: BookFactory) -> None:
    book = make_book(rows_of(5))
    sheet = takedown(book)
    sheet.put(FIRST_DATA_ROW + 2, ["kept"], column=col("title"))
    live = LiveWorkbook(book)
    rows = live.read_rows()
    live.write_outcomes(
        [Outcome(rows[0].row_number, Result.OK, "C100"), Outcome(rows[4].row_number, Result.OK, "C100")],
        stage="check",
    )
    assert sheet.cells[(FIRST_DATA_ROW + 2, col("title"))] == "kept"
    assert (FIRST_DATA_ROW + 2, col("result")) not in sheet.colors


def test_clear_others_empties_stale_outputs(make_book: BookFactory) -> None:
    book = make_book([{"identifier": "MLM1", "action": "PAUSE", "title": "old", "status_after": "paused"}])
    live = LiveWorkbook(book)
    (row,) = live.read_rows()
    live.write_outcomes(
        [Outcome(row.row_number, Result.OK, "C100", "Checked", clear_others=True, values={"site": "MLM"})],
        stage="check",
    )
    sheet = takedown(book)
    assert (row.row_number, col("title")) not in sheet.cells
    assert (row.row_number, col("status_after")) not in sheet.cells
    assert sheet.cells[(row.row_number, col("site"))] == "MLM"


def test_colours_one_write_per_run_of_equal_results(make_book: BookFactory) -> None:
    book = make_book(rows_of(8), settings=PAINTED)
    live = LiveWorkbook(book)
    rows = live.read_rows()
    pattern = [
        Result.OK,
        Result.OK,
        Result.WARNING,
        Result.WARNING,
        Result.WARNING,
        Result.OK,
        None,
        Result.FAILED,
    ]
    book.counter.reset()
    live.write_outcomes(
        [Outcome(r.row_number, res, "C100") for r, res in zip(rows, pattern, strict=True)], stage="check"
    )
    colours = book.counter.of("write", "color")
    assert len(colours) == 4  # OK over all 8 rows, then the WARNING run, the empty one, FAILED
    sheet = takedown(book)
    got = [sheet.colors.get((r.row_number, col("result"))) for r in rows]
    assert got == [rgb(RESULT_FILLS[p]) if p else None for p in pattern]


def test_summary_block_counts_every_row(make_book: BookFactory) -> None:
    book = make_book(rows_of(4))
    live = LiveWorkbook(book)
    rows = live.read_rows()
    live.write_outcomes(
        [Outcome(rows[0].row_number, Result.OK), Outcome(rows[1].row_number, Result.BLOCKED)], stage="check"
    )
    live.write_outcomes([Outcome(rows[2].row_number, Result.BLOCKED)], stage="plan")
    sheet = takedown(book)
    assert sheet.row_values(1, 1, 9) == [
        "Summary",
        "OK",
        "SKIPPED",
        "WARNING",
        "BLOCKED",
        "FAILED",
        "Total",
        "Last step",
        "At (UTC)",
    ]
    values = sheet.row_values(2, 2, 9)
    assert values[:7] == [1, 0, 0, 2, 0, 3, "plan"]  # OK SKIPPED WARNING BLOCKED FAILED Total Stage
    assert dt.datetime.fromisoformat(values[7]).year >= 2026  # text, like the openpyxl adapter writes it


def test_write_without_read_reads_the_table_first(make_book: BookFactory) -> None:
    book = make_book(rows_of(2))
    LiveWorkbook(book).write_outcomes([Outcome(FIRST_DATA_ROW, Result.OK, "C100")], stage="check")
    assert takedown(book).cells[(FIRST_DATA_ROW, col("result"))] == "OK"
    assert len(book.counter.of("read", "value", sheet=SHEET_TAKEDOWN)) == 1


# --- Log, Snapshots, status bar, save ------------------------------------------------------------


def test_log_is_appended_in_one_write_with_text_guarded(make_book: BookFactory) -> None:
    book = make_book()
    live = LiveWorkbook(book)
    at = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    entries = [
        LogEntry(at, "PUT", f"/items/MLM{i}", 200, f"req-{i}", 12.345, row_number=5 + i, run_id="r1")
        for i in range(1_000)
    ]
    live.append_log(entries)
    live.append_log([LogEntry(at, "", "", None, "", 0.0, note="=cmd|' /C calc'!A0\nTraceback …")])
    writes = book.counter.of("write", sheet=SHEET_LOG)
    assert len(writes) == 2 and writes[0].rows == 1_000
    sheet = book.sheets[SHEET_LOG]
    assert sheet.row_values(2, 1, 9) == [
        at.replace(tzinfo=None),
        "PUT",
        "/items/MLM0",
        200,
        "req-0",
        12.3,
        5,
        "r1",
        None,
    ]
    assert sheet.formulas == {}
    assert sheet.cells[(1_002, 9)].startswith("=cmd")


def test_snapshots_are_appended_and_long_json_is_cut(make_book: BookFactory) -> None:
    book = make_book()
    live = LiveWorkbook(book)
    snap = SnapshotRow(
        run_id="r1",
        taken_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC),
        item_id="MLM1",
        variation_id=123,
        site="MLM",
        status="active",
        sub_status="",
        available_quantity=3,
        price=10.5,
        title="T",
        sha256="ab" * 32,
        file="snapshots/r1/MLM1.json",
        raw_json="{" + "x" * 40_000 + "}",
    )
    live.write_snapshots([snap, snap])
    assert len(book.counter.of("write", sheet=SHEET_SNAPSHOTS)) == 1
    sheet = book.sheets[SHEET_SNAPSHOTS]
    assert sheet.cells[(2, 4)] == "123"
    assert len(sheet.cells[(2, 13)]) <= EXCEL_CELL_LIMIT
    assert sheet.cells[(2, 13)].endswith("…")


def test_status_bar_is_set_once_per_change_and_handed_back(make_book: BookFactory) -> None:
    book = make_book()
    live = LiveWorkbook(book)
    for _ in range(3):
        live.status("Pull status…")
    live.status("Pull status: 40 requests…")
    assert book.app.status_history == ["mltakedown: Pull status…", "mltakedown: Pull status: 40 requests…"]
    live.clear_status()
    assert book.app.status_bar is False


def test_save_is_a_no_op(make_book: BookFactory) -> None:
    book = make_book(rows_of(1))
    LiveWorkbook(book).save()
    assert book.counter.accesses == []


def test_output_keys_cover_the_template() -> None:
    # Guard for the block logic: the template's output columns are contiguous (one block).
    outputs = [KEYS.index(k) + 1 for k in OUTPUT_KEYS]
    assert column_runs(outputs) == [(min(outputs), max(outputs))]


def test_union_addresses_fit_excels_limit() -> None:
    addresses = [f"U{row}" for row in range(5, 500, 2)]
    unions = union_addresses(addresses, limit=40)
    assert all(len(u) <= 40 for u in unions)
    assert ",".join(unions).split(",") == addresses


@pytest.mark.parametrize("union", [False, True])
def test_scattered_results_colour_correctly_with_and_without_unions(
    make_book: BookFactory, union: bool
) -> None:
    import random

    book = make_book(rows_of(10_000), settings=PAINTED)
    live = LiveWorkbook(book, union_ranges=union)
    rows = live.read_rows()
    rnd = random.Random(7)
    results = [
        rnd.choice([Result.WARNING, Result.BLOCKED]) if rnd.random() < 0.05 else Result.OK for _ in rows
    ]
    book.counter.reset()
    live.write_outcomes(
        [Outcome(r.row_number, res, "C100") for r, res in zip(rows, results, strict=True)], stage="c"
    )
    sheet = takedown(book)
    got = [sheet.colors.get((r.row_number, col("result"))) for r in rows]
    assert got == [rgb(RESULT_FILLS[res]) for res in results]
    colour_writes = len(book.counter.of("write", "color"))
    if union:
        assert colour_writes <= 30  # ~500 scattered rows, grouped into 255-character addresses
    else:
        assert colour_writes > 400  # one per run: why Windows uses unions
