"""``mltakedown demo``: a full rehearsal against the built-in sandbox.

Creates a takedown workbook whose rows exercise every safety gate, serves the sandbox on
127.0.0.1 (real HTTP, like the real API), and runs the stages in the order an operations person
presses the ribbon buttons: Check → Pull status → Plan → Execute → (the user marks rows RESTORE)
→ Restore → Report. The workbook, its journal, snapshots and documents stay behind for the user
to open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook

from mltakedown.book import layout as L
from mltakedown.book.ports import CellValue
from mltakedown.book.xlsx import XlsxWorkbook, create_workbook, find_sheet, header_columns, save_atomically
from mltakedown.engine import ops, run
from mltakedown.engine.calls import CallLog
from mltakedown.engine.model import StageReport
from mltakedown.meli.client import MeliClient
from mltakedown.meli.config import ClientConfig
from mltakedown.report.fonts import FontNotFoundError
from mltakedown.report.output import ReportResult, make_report
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox import seed as S

DEMO_RATE = 25.0
"""Client-side requests per second in the demo (the real API allows about 5)."""

TRO = "TRO-2026-0413"
IP = "IP complaint"


@dataclass(frozen=True)
class DemoRow:
    """One input row of the demo workbook, with what it is there to show."""

    identifier: CellValue
    action: str
    reason: str = IP
    reference: str = TRO
    confirm: str = ""
    shows: str = ""
    restore_later: bool = False


def demo_rows() -> list[DemoRow]:
    """The demo's rows: one per gate or identifier quirk, on seller A's seeded catalogue."""
    t = S.TRICKY
    mla_number = t["active_mla"].removeprefix("MLA")
    fullwidth = S.SAMPLE_ITEM_IDS[-1].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789MLABCO"})
    return [
        DemoRow(t["active_mlm"], "PAUSE", shows="pause; its active ad pauses with it", restore_later=True),
        DemoRow(t["active_mlb"], "PAUSE", shows="a plain pause on Brazil"),
        DemoRow(
            f"https://articulo.mercadolibre.com.ar/MLA-{mla_number}-audifonos-bluetooth-_JM",
            "pausar",
            reason="Policy violation",
            reference="",
            shows="a permalink and a Spanish action word",
        ),
        DemoRow(
            t["multi_variation_sku"],
            "PAUSE",
            shows="one variation's SKU: only that variation's stock goes to 0",
            restore_later=True,
        ),
        DemoRow(t["ambiguous_sku"], "PAUSE", shows="a SKU on two listings: nothing is guessed"),
        DemoRow(t["seller_b_item"], "PAUSE", shows="another seller's item: never written"),
        DemoRow(t["under_review_held"], "PAUSE", shows="under review by Mercado Libre: explained"),
        DemoRow(t["order_pending_item"], "CLOSE", confirm="yes", shows="unshipped paid orders block a close"),
        DemoRow(t["order_ready_to_ship_item"], "PAUSE", shows="unshipped orders only warn on a pause"),
        DemoRow(t["paused_by_seller"], "PAUSE", shows="already paused: skipped"),
        DemoRow(t["full_item"], "PAUSE", shows="FULL: stock stays in the warehouse"),
        DemoRow(t["closed_recent"], "PAUSE", shows="closed is final: cannot be paused"),
        DemoRow(
            t["active_mlc"],
            "CLOSE",
            reason="Market exit",
            reference="",
            confirm="yes",
            shows="a confirmed close (restore relists it under a new ID)",
            restore_later=True,
        ),
        DemoRow(t["active_mco"], "DELETE", shows="DELETE without Confirm: refused offline"),
        DemoRow(123, "PAUSE", reason="Stock-out", reference="", shows="Excel turned SKU 00123 into 123"),
        DemoRow(
            "https://www.mercadolibre.com.ar/p/MLA20021576", "PAUSE", shows="a catalogue page, not a listing"
        ),
        DemoRow(t["catalog_parent"], "PAUSE", shows="its catalogue sibling is not on the list"),
        DemoRow(t["active_sku"], "BORRAR??", shows="an action the tool does not know"),
        DemoRow(
            fullwidth,
            "下架",
            reason="Missing certification",
            reference="NOM-2026-77",
            shows="full-width ID, 下架",
        ),
        DemoRow(t["active_mlb"], "PAUSE", shows="the same row twice: the copy is skipped"),
        DemoRow(t["paused_moderation_penalty"], "PAUSE", shows="paused by Mercado Libre (moderation)"),
    ]


@dataclass
class DemoResult:
    """What the demo did and where it left things."""

    workbook: Path
    reports: list[StageReport] = field(default_factory=list)
    rows: list[DemoRow] = field(default_factory=list)
    first_row: int = L.FIRST_DATA_ROW
    restored_rows: list[int] = field(default_factory=list)
    report: ReportResult | None = None


def fill_workbook(path: Path, rows: Sequence[DemoRow], settings: dict[str, CellValue]) -> None:
    """Type the demo rows and settings into a fresh workbook, as a user would."""
    wb = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    ws = find_sheet(wb, L.SHEET_TAKEDOWN)
    assert ws is not None
    columns = header_columns(ws, L.HEADER_ROW, path)
    for offset, row in enumerate(rows):
        r = L.FIRST_DATA_ROW + offset
        values: dict[str, CellValue] = {
            "identifier": row.identifier,
            "action": row.action,
            "reason": row.reason,
            "reference": row.reference or None,
            "confirm": row.confirm or None,
            "note": row.shows,
        }
        for key, value in values.items():
            ws.cell(row=r, column=columns[key], value=value)
    set_settings(wb, settings)
    save_atomically(wb, path)


def set_settings(wb: Workbook, settings: dict[str, CellValue]) -> None:
    """Put values next to their keys on the Settings sheet (keys in column A)."""
    ws = find_sheet(wb, L.SHEET_SETTINGS)
    assert ws is not None
    found: set[str] = set()
    for cells in ws.iter_rows(min_col=1, max_col=2):
        key = str(cells[0].value or "").strip()
        if key in settings:
            cells[1].value = settings[key]
            found.add(key)
    for key in settings.keys() - found:
        ws.append([key, settings[key]])


def mark_restore(path: Path, row_numbers: Sequence[int]) -> None:
    """Change the Action of the given rows to RESTORE, as the user does when a complaint is resolved."""
    wb = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    ws = find_sheet(wb, L.SHEET_TAKEDOWN)
    assert ws is not None
    column = header_columns(ws, L.HEADER_ROW, path)["action"]
    for r in row_numbers:
        ws.cell(row=r, column=column, value="RESTORE")
    save_atomically(wb, path)


Progress = Callable[[str], None]


async def _stages(path: Path, base_url: str, result: DemoResult, progress: Progress) -> None:
    config = ClientConfig(api_url=base_url, access_token=S.TOKEN_A, client_id=S.CLIENT_ID, rate=DEMO_RATE)

    def yes(counts: dict[str, int]) -> bool:
        progress("Execute asks: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + " → yes")
        return True

    def client(calls: CallLog) -> MeliClient:
        return MeliClient(config, tokens=S.TOKEN_A, on_call=calls, rate=DEMO_RATE)

    # One call log (and client) per button press, as in Excel and the CLI: a run's journal counts
    # the requests of its call log, so a log shared with Pull and Plan would inflate the
    # request budget the Report sheet shows for Execute and Restore.
    progress("Check (offline)")
    result.reports.append(ops.check(XlsxWorkbook.open(path)))
    calls = CallLog(ops.new_run_id())
    async with client(calls) as api:
        progress("Pull status")
        result.reports.append(await ops.pull(XlsxWorkbook.open(path), api, calls=calls))
    calls = CallLog(ops.new_run_id())
    async with client(calls) as api:
        progress("Plan")
        _, plan_report = await ops.plan(XlsxWorkbook.open(path), api, calls=calls, rate=DEMO_RATE)
        result.reports.append(plan_report)
    calls = CallLog()
    async with client(calls) as api:
        progress("Execute")
        result.reports.append(await run.execute(XlsxWorkbook.open(path), api, confirm=yes, calls=calls))
    result.restored_rows = [result.first_row + i for i, row in enumerate(result.rows) if row.restore_later]
    progress(f"You mark rows {', '.join(map(str, result.restored_rows))} RESTORE (complaint resolved)")
    mark_restore(path, result.restored_rows)
    calls = CallLog()
    async with client(calls) as api:
        progress("Restore")
        result.reports.append(await run.restore(XlsxWorkbook.open(path), api, confirm=yes, calls=calls))


def run_demo(out_dir: Path, *, lang: str = "en", progress: Progress | None = None) -> DemoResult:
    """Build the demo workbook in ``out_dir`` and run every stage against a fresh sandbox."""
    say = progress or (lambda _: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = out_dir / f"mltakedown-demo-{stamp}.xlsx"
    create_workbook(path, lang)
    rows = demo_rows()
    fill_workbook(
        path,
        rows,
        {"ACCOUNT_ALIAS": "sandbox", "SELLER_ID": S.SELLER_A, "DEFAULT_SITE": "MLM", "LANGUAGE": lang},
    )
    result = DemoResult(workbook=path, rows=rows)
    app = create_app(SandboxOptions())
    with serve_in_thread(app) as base_url:
        say(f"Sandbox serving on {base_url}")
        asyncio.run(_stages(path, base_url, result, say))
    say("Report: confirmations, appeal packs and the Report sheet for the execute run")
    try:
        result.report = make_report(path, run_id=result.reports[3].run_id)
    except FontNotFoundError as exc:
        # A machine without a CJK font still gets the whole rehearsal and the Report sheet; the
        # PDFs need the font (the project's set-up installs it: .ci/run, README).
        say(f"Confirmation documents skipped: {exc}")
        result.report = make_report(path, run_id=result.reports[3].run_id, documents=False)
    return result
