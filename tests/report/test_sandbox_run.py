"""The report of a real run: the engine executes against the sandbox over loopback HTTP, then the
documents, the Report sheet and verify-record work from the saved workbook, journal and snapshots.
"""

from __future__ import annotations

from pathlib import Path

from mltakedown.book.ports import Result
from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.report.collect import collect_run
from mltakedown.report.output import write_documents
from mltakedown.report.record import ProblemKind, verify_record
from mltakedown.report.sheet import write_report_sheet
from mltakedown.sandbox import World
from mltakedown.sandbox.seed import SELLER_A, TRICKY

from .report_pdftools import pdf_text
from .report_sandbox import plan_and_execute, sandbox_book

T = TRICKY
REFERENCE = "TRO-2026-0211"
ROWS = [
    (T["active_mlm"], "PAUSE", REFERENCE),
    (T["active_mlb"], "PAUSE", REFERENCE),
    (T["multi_variation_sku"], "PAUSE", REFERENCE),
    (T["under_review_held"], "PAUSE", REFERENCE),
    (T["seller_b_item"], "PAUSE", REFERENCE),
    (T["active_mco"], "PAUSE", ""),
]


async def test_documents_and_record_of_a_sandbox_run(tmp_path: Path, served: tuple[str, World]) -> None:
    url, _world = served
    path = sandbox_book(tmp_path / "sandbox.xlsx", ROWS, lang="zh", reason="知识产权投诉")
    await plan_and_execute(url, path)

    record = collect_run(path)
    by_item = {row.item_id: row for row in record.rows}
    paused = by_item[T["active_mlm"]]
    assert paused.was_written and paused.verified_status == "paused" and paused.request_ids
    assert paused.snapshot_sha256 and paused.permalink
    assert by_item[T["active_mlb"]].was_written
    assert not by_item[T["under_review_held"]].was_written
    assert by_item[T["under_review_held"]].result is Result.BLOCKED
    assert record.requests_used > 0 and record.seller_id == SELLER_A

    files = write_documents(record, tmp_path / "docs", ["zh"], workbook=path)
    tro = next(p for p in files.confirmations if REFERENCE in p.name)
    text = pdf_text(tro)
    for item_id in (T["active_mlm"], T["active_mlb"], T["under_review_held"]):
        assert item_id in text
    for request_id in paused.request_ids:
        assert request_id in text
    assert "商品下架确认书" in "".join(text.split())
    assert any(T["under_review_held"] in str(p) for p in files.appeals)

    book = XlsxWorkbook.open(path)
    write_report_sheet(book.wb, record, book.language)
    book.save()
    assert verify_record(path) == []

    # Tamper with the evidence of the paused listing: verify-record names it.
    snapshot = path.parent / paused.snapshot_file
    snapshot.write_bytes(snapshot.read_bytes().replace(b'"active"', b'"paused"'))
    assert ProblemKind.SNAPSHOT_ALTERED in [p.kind for p in verify_record(path)]
