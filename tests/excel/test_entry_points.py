"""The ribbon's entry points (``mltakedown.excel``) end to end: ``xw.Book.caller`` patched to a fake
book, the real engine, and the real sandbox over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import BookFactory, Sandbox, save_as_xlsx
from fake_xlwings import FakeBook

from mltakedown import excel
from mltakedown.book.layout import FIRST_DATA_ROW, HEADER_ROW, SHEET_LOG, SHEET_TAKEDOWN, TAKEDOWN_COLUMNS
from mltakedown.sandbox.seed import SAMPLE_ITEM_IDS, SELLER_A, TRICKY

Caller = Callable[[FakeBook], FakeBook]
KEYS = [c.key for c in TAKEDOWN_COLUMNS]
UNKNOWN_ID = "MLM9999999999"


def out(book: FakeBook, row: int, key: str) -> Any:
    return book.sheets[SHEET_TAKEDOWN].cells.get((row, KEYS.index(key) + 1))


def rows_for(ids: list[str], action: str = "PAUSE") -> list[dict[str, object]]:
    return [{"identifier": i, "action": action, "reason": "IP complaint", "reference": "TRO-1"} for i in ids]


def seller_a(make_book: BookFactory, rows: list[dict[str, object]]) -> FakeBook:
    return make_book(rows, settings={"SELLER_ID": str(SELLER_A), "DEFAULT_SITE": "MLM"})


def log_rows(book: FakeBook) -> list[list[Any]]:
    sheet = book.sheets[SHEET_LOG]
    last = max((r for r, _ in sheet.cells), default=1)
    return [sheet.row_values(r, 1, 9) for r in range(2, last + 1)]


# --- Check (offline) -----------------------------------------------------------------------------


def test_check_writes_every_row_and_shows_a_summary(make_book: BookFactory, caller: Caller) -> None:
    rows = rows_for(SAMPLE_ITEM_IDS[:3]) + [{"identifier": "MLM1234567890", "action": "FLY"}]
    book = caller(seller_a(make_book, rows))
    report = excel.check()
    assert report is not None and report.stage == "check"
    last = FIRST_DATA_ROW + 3
    assert out(book, FIRST_DATA_ROW, "result") == "OK"
    assert out(book, last, "result") == "BLOCKED"  # the bad row is one row's problem, not the run's
    assert out(book, last, "code")
    assert len(book.app.alerts) == 1
    alert = book.app.alerts[0]
    assert alert["title"] == excel.TITLE and alert["mode"] == "info"
    assert "Check finished." in alert["prompt"] and "BLOCKED 1" in alert["prompt"]
    assert "Ctrl+S" in alert["prompt"]
    assert book.app.status_history[0] == "mltakedown: Check…"
    assert book.app.status_bar is False  # handed back to Excel


def test_a_10000_row_check_from_the_ribbon_takes_at_most_20_range_writes(
    make_book: BookFactory, caller: Caller
) -> None:
    ids = [f"MLM{2_000_000_000 + i}" for i in range(10_000)]
    rows = rows_for(ids)
    rows[4_321]["action"] = "FLY"  # one row-level problem in the middle
    book = caller(seller_a(make_book, rows))
    report = excel.check()
    assert report is not None
    assert sum(report.counts.values()) == 10_000
    writes = book.counter.of("write")
    assert len(writes) <= 20, [(w.what, w.address) for w in writes]
    assert len(book.counter.of("read", sheet=SHEET_TAKEDOWN)) <= 2
    assert out(book, FIRST_DATA_ROW + 4_321, "result") == "BLOCKED"
    assert out(book, FIRST_DATA_ROW + 9_999, "result") == "OK"


# --- Pull and Plan against the sandbox -----------------------------------------------------------


def test_pull_reads_live_state_and_a_bad_row_does_not_stop_it(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox
) -> None:
    ids = [*SAMPLE_ITEM_IDS[:3], UNKNOWN_ID]
    book = caller(seller_a(make_book, rows_for(ids)))
    report = excel.pull()
    assert report is not None and report.requests > 0
    assert out(book, FIRST_DATA_ROW, "item_id") == SAMPLE_ITEM_IDS[0]
    assert out(book, FIRST_DATA_ROW, "status_before") == "active"
    assert out(book, FIRST_DATA_ROW, "result") == "OK"
    assert out(book, FIRST_DATA_ROW + 3, "result") == "BLOCKED"
    assert "L201" in str(out(book, FIRST_DATA_ROW + 3, "code"))
    # Every API call is in the Log, appended in one write.
    assert len(log_rows(book)) == report.requests
    assert len(book.counter.of("write", sheet=SHEET_LOG)) == 1
    assert "Pull status finished." in book.app.alerts[-1]["prompt"]
    assert any("requests…" in str(line) for line in book.app.status_history)  # progress while it ran
    assert sandbox.world.writes == []


def test_plan_then_execute_asks_with_the_counts_then_sends(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox
) -> None:
    ids = [SAMPLE_ITEM_IDS[0], SAMPLE_ITEM_IDS[1], TRICKY["seller_b_item"], TRICKY["paused_by_seller"]]
    rows = rows_for(ids)
    rows[1] |= {"action": "CLOSE", "confirm": "yes"}
    book = caller(seller_a(make_book, rows))
    assert excel.plan() is not None
    assert out(book, FIRST_DATA_ROW, "planned_action")
    assert sandbox.world.writes == []

    book.app.answers = ["ok"]  # the confirmation
    report = excel.execute()
    assert report is not None
    confirm = book.app.alerts[-2]
    assert confirm["buttons"] == "ok_cancel"
    assert "1 pause" in confirm["prompt"] and "1 close" in confirm["prompt"]
    assert "blocked" in confirm["prompt"]
    written = {w.item for w in sandbox.world.writes}
    assert SAMPLE_ITEM_IDS[0] in written and SAMPLE_ITEM_IDS[1] in written
    assert TRICKY["seller_b_item"] not in written
    assert out(book, FIRST_DATA_ROW, "status_after") == "paused"
    assert out(book, FIRST_DATA_ROW + 1, "status_after") == "closed"
    assert out(book, FIRST_DATA_ROW + 2, "result") == "BLOCKED"
    assert "Execute finished." in book.app.alerts[-1]["prompt"]


def test_execute_cancelled_at_the_confirmation_sends_nothing(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox
) -> None:
    book = caller(seller_a(make_book, rows_for(SAMPLE_ITEM_IDS[:2])))
    excel.plan()
    book.app.answers = ["cancel"]
    report = excel.execute()
    assert report is not None and "cancelled" in report.message
    assert sandbox.world.writes == []
    assert "2 pause" in book.app.alerts[-2]["prompt"]


def test_one_failing_write_does_not_stop_execute(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox
) -> None:
    ids = SAMPLE_ITEM_IDS[:4]
    book = caller(seller_a(make_book, rows_for(ids)))
    excel.plan()
    # Between Plan and Execute, Mercado Libre closes one listing: its pause is refused (400).
    sandbox.world.items[ids[2]]["status"] = "closed"
    book.app.answers = ["ok"]
    report = excel.execute()
    assert report is not None
    results = [out(book, FIRST_DATA_ROW + i, "result") for i in range(4)]
    assert results[2] == "FAILED"
    assert results[0] == results[1] == results[3] == "OK"
    assert out(book, FIRST_DATA_ROW + 2, "api_error")
    assert "Execute finished." in book.app.alerts[-1]["prompt"]


# --- the friendly error path ---------------------------------------------------------------------


def _assert_friendly(book: FakeBook, code: str) -> dict[str, Any]:
    alert = book.app.alerts[-1]
    assert alert["mode"] == "critical" and alert["title"] == excel.TITLE
    assert code in alert["prompt"]
    assert "What to do:" in alert["prompt"]
    assert "Traceback" not in alert["prompt"]
    assert book.app.status_bar is False
    return alert


def test_not_logged_in_blocks_every_row_and_the_box_names_the_code(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLTAKEDOWN_ACCESS_TOKEN")
    book = caller(seller_a(make_book, rows_for(SAMPLE_ITEM_IDS[:2])))
    report = excel.pull()
    assert report is not None and report.counts == {"BLOCKED": 2}
    assert out(book, FIRST_DATA_ROW, "code") == "L226"
    assert "L226 ×2" in book.app.alerts[-1]["prompt"]
    assert sandbox.world.request_counts.total() == 0


def test_an_exception_becomes_a_box_with_the_code_and_a_logged_traceback(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltakedown.meli.errors import TokenError

    def no_login(*args: object, **kwargs: object) -> None:
        raise TokenError("refresh token revoked", code="invalid_grant")

    monkeypatch.setattr("mltakedown.engine.ops.open_api", no_login)
    book = caller(seller_a(make_book, rows_for(SAMPLE_ITEM_IDS[:1])))
    assert excel.pull() is None
    _assert_friendly(book, "L226")
    (entry,) = log_rows(book)
    assert entry[1] == "ERROR" and entry[2] == "pull"
    assert entry[8].startswith("Traceback") and "TokenError" in entry[8]
    assert sandbox.world.request_counts.total() == 0


def test_no_network_is_x305(make_book: BookFactory, caller: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    from mltakedown.meli.retry import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, n, status_code=None: 0.0)  # retry at once
    monkeypatch.setenv("MLTAKEDOWN_API_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("MLTAKEDOWN_ACCESS_TOKEN", "APP_USR-X")
    book = caller(seller_a(make_book, rows_for(SAMPLE_ITEM_IDS[:1])))
    assert excel.pull() is None
    _assert_friendly(book, "X305")


def test_a_damaged_workbook_gets_a_clear_message(make_book: BookFactory, caller: Caller) -> None:
    book = caller(make_book([{"identifier": "x", "action": "PAUSE"}], keys=["action", "reason"]))
    assert excel.check() is None
    alert = _assert_friendly(book, "MissingColumnError")
    assert "mltakedown upgrade" in alert["prompt"]


def test_an_unexpected_error_is_named_and_logged(
    make_book: BookFactory, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(book: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("mltakedown.engine.ops.check", broken)
    book = caller(make_book(rows_for(SAMPLE_ITEM_IDS[:1]), lang="es"))
    assert excel.check() is None
    alert = book.app.alerts[-1]
    assert "Error inesperado" in alert["prompt"] and "RuntimeError: boom" in alert["prompt"]
    assert "Qué hacer:" in alert["prompt"]
    assert "boom" in log_rows(book)[0][8]


def test_when_even_the_log_sheet_cannot_be_written_the_box_still_explains(
    make_book: BookFactory, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(book: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("mltakedown.engine.ops.check", broken)
    book = caller(make_book())
    book.sheets[SHEET_LOG].put(1, ["Note", "Note"])  # a damaged Log header: the traceback cannot go there
    assert excel.check() is None
    prompt = book.app.alerts[-1]["prompt"]
    assert "RuntimeError: boom" in prompt
    assert "could not be written to the Log sheet" in prompt and "appears twice" in prompt


# --- Report and Help -----------------------------------------------------------------------------


def test_help_explains_the_buttons_in_order(
    make_book: BookFactory, caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def open_url(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", open_url)
    book = caller(make_book())
    book.app.answers = ["yes"]
    excel.help_()
    prompt = book.app.alerts[-1]["prompt"]
    order = ["Check", "Pull status", "Plan", "Execute", "Restore", "Report"]
    assert [prompt.index(f". {name}") for name in order] == sorted(
        prompt.index(f". {name}") for name in order
    )
    if excel._guide() is not None:
        assert opened and opened[0].startswith("file:")


def test_confirm_text_lists_writes_then_rows_that_send_nothing() -> None:
    text = excel.confirm_text(
        {"pause": 120, "close": 3, "pause_ad": 2, "blocked": 4, "rows": 129}, "execute", "en"
    )
    assert (
        text.index("120 pause") < text.index("3 close") < text.index("2 pause ad") < text.index("4 blocked")
    )
    assert "rows" not in text.replace("Rows not listed", "")
    restore = excel.confirm_text({"activate": 5, "restore_moderated": 1}, "restore", "zh")
    assert "5 activate" in restore and "1 restore moderated" in restore and "恢复" in restore


def test_header_row_constant_matches_the_fake(make_book: BookFactory) -> None:
    book = make_book()
    assert book.sheets[SHEET_TAKEDOWN].cells[(HEADER_ROW, 1)] == "Identifier"


def test_report_saves_writes_documents_and_the_report_sheet(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox
) -> None:
    book = caller(seller_a(make_book, rows_for(SAMPLE_ITEM_IDS[:2])))
    book.on_save = save_as_xlsx
    excel.plan()
    book.app.answers = ["ok"]
    executed = excel.execute()
    assert executed is not None
    book.app.answers = ["ok"]  # "save the workbook now and continue?"
    report = excel.report()
    assert report is not None, book.app.alerts[-1]["prompt"]
    assert book.saves == 1
    assert report.run_id == executed.run_id
    assert report.counts == {"OK": 2}
    sheet = book.sheets["Report"]
    assert executed.run_id in sheet.cells.values()
    assert len(book.counter.of("write", "value", sheet="Report")) == 1
    folder = Path(book.fullname).parent / "takedown.mltakedown" / "reports" / executed.run_id
    assert list(folder.glob("*.pdf"))
    assert str(folder) in book.app.alerts[-1]["prompt"]


def test_report_without_a_run_explains_what_to_do_first(make_book: BookFactory, caller: Caller) -> None:
    book = caller(seller_a(make_book, rows_for(SAMPLE_ITEM_IDS[:1])))
    book.on_save = save_as_xlsx
    book.app.answers = ["ok"]
    assert excel.report() is None
    assert "Run Execute (or Restore) first" in book.app.alerts[-1]["prompt"]


def test_report_cancelled_does_not_save(make_book: BookFactory, caller: Caller) -> None:
    book = caller(make_book())
    book.app.answers = ["cancel"]
    report = excel.report()
    assert report is not None and book.saves == 0


def test_restore_asks_then_brings_back_what_execute_paused(
    make_book: BookFactory, caller: Caller, sandbox: Sandbox
) -> None:
    ids = SAMPLE_ITEM_IDS[:2]
    book = caller(seller_a(make_book, rows_for(ids)))
    excel.plan()
    book.app.answers = ["ok"]
    excel.execute()
    assert all(sandbox.world.items[i]["status"] == "paused" for i in ids)
    takedown = book.sheets[SHEET_TAKEDOWN]
    for index in range(2):
        takedown.put(FIRST_DATA_ROW + index, ["RESTORE"], column=KEYS.index("action") + 1)
    book.app.answers = ["ok"]
    report = excel.restore()
    assert report is not None, book.app.alerts[-1]["prompt"]
    assert "2 activate" in book.app.alerts[-2]["prompt"]
    assert all(sandbox.world.items[i]["status"] == "active" for i in ids)
    assert out(book, FIRST_DATA_ROW, "result") == "OK"
    assert "Restore finished." in book.app.alerts[-1]["prompt"]
