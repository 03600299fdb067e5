"""Pull and Plan end to end: MeliClient over loopback HTTP (uvicorn) against the sandbox.

The workbook is an in-memory :class:`WorkbookPort` so each test reads as rows in, outcomes out;
the network part is the real client talking to the real emulator on 127.0.0.1. One test per
gate of design.md, and "nothing is ever written" is checked on the sandbox's own write log.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mltakedown.accounts import Account, AccountBook
from mltakedown.book.memory import MemoryWorkbook
from mltakedown.book.ports import BookSettings, CellValue, InputRow, Result, SnapshotRow
from mltakedown.codes import Code
from mltakedown.engine.calls import CallLog
from mltakedown.engine.model import Op, Plan, PlannedRow, StageReport
from mltakedown.engine.ops import open_api, plan, pull
from mltakedown.engine.plan import is_current, load_plan
from mltakedown.meli import ClientConfig, MeliClient, TokenSet
from mltakedown.sandbox import SandboxOptions, World, create_app, serve_in_thread
from mltakedown.sandbox.search import matching_item_ids
from mltakedown.sandbox.seed import CLIENT_ID, SELLER_A, TOKEN_A, TOKEN_B, TRICKY

pytestmark = pytest.mark.slow


class MemoryBook(MemoryWorkbook):
    """The in-memory workbook, refusing snapshots: Pull and Plan never write a listing."""

    def write_snapshots(self, snapshots: Sequence[SnapshotRow]) -> None:
        raise AssertionError("Pull and Plan never take snapshots")


@dataclass
class Sandbox:
    url: str
    world: World


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    app = create_app(SandboxOptions())
    with serve_in_thread(app) as url:
        yield Sandbox(url, app.state.world)


def rows(*specs: tuple[str, str] | tuple[str, str, str]) -> list[InputRow]:
    """``(identifier, action[, confirm])`` → rows 5, 6, … with a reason."""
    out = []
    for n, spec in enumerate(specs):
        values: dict[str, CellValue] = {"identifier": spec[0], "action": spec[1], "reason": "IP complaint"}
        if len(spec) == 3:
            values["confirm"] = spec[2]
        out.append(InputRow(5 + n, values))
    return out


def book_for(tmp_path: Path, input_rows: list[InputRow], **settings: Any) -> MemoryBook:
    base: dict[str, Any] = {"seller_id": SELLER_A, "account_alias": "acme", "pause_ads_with_listing": True}
    base.update(settings)
    return MemoryBook(tmp_path / "takedown.xlsm", input_rows, BookSettings(**base))


async def run_plan(
    sandbox: Sandbox, book: MemoryBook, token: str = TOKEN_A
) -> tuple[Plan, StageReport, CallLog]:
    calls = CallLog("test")
    config = ClientConfig(api_url=sandbox.url, client_id=f"e2e-{id(book)}")
    writes_before = len(sandbox.world.writes)
    async with MeliClient(config, tokens=token, on_call=calls, rate=500.0) as api:
        stored, report = await plan(book, api, calls=calls)
    assert len(sandbox.world.writes) == writes_before, "Plan must never write"
    return stored, report, calls


def by_row(stored: Plan) -> dict[int, PlannedRow]:
    return {row.row_number: row for row in stored.rows}


async def test_another_sellers_item_is_never_planned_for_a_write(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(
        tmp_path, rows((TRICKY["seller_b_item"], "PAUSE"), (TRICKY["seller_b_lookalike"], "PAUSE"))
    )
    stored, _, _ = await run_plan(sandbox, book)
    for row in stored.rows:
        assert row.writes == []
        assert row.codes == [Code.NOT_YOUR_ITEM]
    assert book.outcomes[5].result is Result.BLOCKED
    assert "2002" in book.outcomes[5].message


async def test_variation_sku_zeroes_that_variation_only(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(tmp_path, rows((TRICKY["multi_variation_sku"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, book)
    (row,) = stored.rows
    assert [w.op for w in row.writes] == [Op.ZERO_VARIATION]  # never PAUSE, never PAUSE_AD
    write = row.writes[0]
    assert write.item_id == TRICKY["multi_variation"] and write.variation_id == 180012345604
    ids = [v["id"] for v in write.body["variations"]]
    assert sorted(ids) == [180012345601, 180012345602, 180012345603, 180012345604]
    assert write.body["variations"][0] == {"id": 180012345604, "available_quantity": 0}
    assert row.codes[0] is Code.VARIATION_ONLY
    out = book.outcomes[5]
    assert out.values["variation_id"] == "180012345604" and out.values["available_qty"] == 6
    assert out.values["planned_action"] == "zero_variation 180012345604"


async def test_ambiguous_sku_plans_nothing_and_lists_candidates(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(tmp_path, rows((TRICKY["ambiguous_sku"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, book)
    (row,) = stored.rows
    assert row.writes == [] and row.codes == [Code.SKU_AMBIGUOUS]
    assert row.live is not None
    assert row.live.candidates == [TRICKY["ambiguous_sku_classic"], TRICKY["ambiguous_sku_premium"]]
    out = book.outcomes[5]
    assert out.result is Result.BLOCKED
    assert TRICKY["ambiguous_sku_classic"] in out.message and TRICKY["ambiguous_sku_premium"] in out.message


async def test_account_mismatch_blocks_everything_and_sends_only_users_me(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    book = book_for(tmp_path, rows((TRICKY["active_mlm"], "PAUSE"), ("ACME-BT-0001", "PAUSE"), ("", "PAUSE")))
    counts_before = sandbox.world.request_counts.copy()
    stored, report, calls = await run_plan(sandbox, book, token=TOKEN_B)  # seller B's token, A's workbook
    assert [entry.path for entry in calls.entries] == ["/users/me"]
    sent = sandbox.world.request_counts - counts_before
    assert sum(sent.values()) == 1
    assert all(row.writes == [] and row.codes == [Code.ACCOUNT_MISMATCH] for row in stored.rows)
    assert {o.result for o in book.outcomes.values()} == {Result.BLOCKED}
    assert report.counts == {"BLOCKED": 3}
    assert [entry.path for entry in book.log] == ["/users/me"]


async def test_pending_orders_block_close(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(
        tmp_path,
        rows(
            (TRICKY["order_pending_item"], "CLOSE", "yes"),
            (TRICKY["order_ready_to_ship_item"], "DELETE", "yes"),
            (TRICKY["order_handling_item"], "PAUSE"),
            (TRICKY["order_shipped_only_item"], "CLOSE", "yes"),
        ),
    )
    stored, _, _ = await run_plan(sandbox, book)
    plans = by_row(stored)
    assert plans[5].writes == [] and plans[5].codes[0] is Code.PENDING_ORDERS_BLOCK
    assert plans[6].writes == [] and plans[6].codes[0] is Code.PENDING_ORDERS_BLOCK
    assert book.outcomes[6].values["pending_orders"] == 2
    assert [w.op for w in plans[7].writes] == [Op.PAUSE] and Code.PENDING_ORDERS_WARN in plans[7].codes
    # Shipped and delivered orders do not block.
    assert [w.op for w in plans[8].writes] == [Op.CLOSE] and Code.PENDING_ORDERS_BLOCK not in plans[8].codes


async def test_platform_controlled_is_explained_not_attempted(sandbox: Sandbox, tmp_path: Path) -> None:
    keys = ["under_review_held", "under_review_forbidden", "under_review_pending_documentation", "inactive"]
    book = book_for(tmp_path, rows(*((TRICKY[k], "PAUSE") for k in keys)))
    book.language = "es"
    stored, _, _ = await run_plan(sandbox, book)
    for row in stored.rows:
        assert row.writes == [] and row.codes == [Code.PLATFORM_CONTROLLED]
    assert "revisión manual" in book.outcomes[5].message  # held, in the workbook's language
    assert "prohibida" in book.outcomes[6].message
    assert "held" in str(book.outcomes[5].values["sub_status"])


async def test_already_in_target_is_skipped(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(
        tmp_path,
        rows(
            (TRICKY["paused_by_seller"], "PAUSE"),
            (TRICKY["closed_recent"], "CLOSE", "yes"),
            (TRICKY["deleted"], "DELETE", "yes"),
        ),
    )
    stored, report, _ = await run_plan(sandbox, book)
    for row in stored.rows:
        assert row.writes == [] and row.codes[0] is Code.ALREADY_IN_TARGET
    assert report.counts == {"SKIPPED": 3}


async def test_full_is_warned_and_stock_never_written(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(tmp_path, rows((TRICKY["full_item"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, book)
    (row,) = stored.rows
    assert [w.op for w in row.writes] == [Op.PAUSE]
    assert Code.FULL_STOCK in row.codes
    assert book.outcomes[5].values["full"] == "FULL"
    assert book.outcomes[5].result is Result.WARNING


async def test_active_ad_is_paused_with_the_listing(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(tmp_path, rows((TRICKY["active_ad_item"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, book)
    (row,) = stored.rows
    assert [w.op for w in row.writes] == [Op.PAUSE, Op.PAUSE_AD]
    assert row.writes[1].ad_group_id == "AG1001" and row.writes[1].site == "MLM"
    assert Code.AD_PAUSED_WITH_LISTING in row.codes
    assert book.outcomes[5].values["planned_action"] == "pause + pause_ad AG1001"

    noted = book_for(tmp_path, rows((TRICKY["active_ad_item"], "PAUSE")), pause_ads_with_listing=False)
    stored, _, _ = await run_plan(sandbox, noted)
    assert [w.op for w in stored.rows[0].writes] == [Op.PAUSE]
    assert Code.AD_ACTIVE_NOTED in stored.rows[0].codes


async def test_plan_is_stored_and_stale_after_an_input_cell_changes(sandbox: Sandbox, tmp_path: Path) -> None:
    input_rows = rows((TRICKY["active_mla"], "PAUSE"), (TRICKY["active_mlc"], "PAUSE"))
    book = book_for(tmp_path, input_rows)
    stored, report, _ = await run_plan(sandbox, book)
    loaded = load_plan(tmp_path / "takedown.mltakedown" / "plan.json")
    assert loaded.plan_id == stored.plan_id and is_current(loaded, input_rows)
    assert loaded.requests_estimate == 3 + 1  # pause, pause + ad (AG1007), one verification multiget
    assert "requests" in report.message
    changed = [input_rows[0], InputRow(6, {**input_rows[1].values, "action": "CLOSE"})]
    assert not is_current(loaded, changed)


async def test_pull_fills_live_columns_and_logs_every_call(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(
        tmp_path,
        rows(
            (TRICKY["questions_item"], "PAUSE"),
            (TRICKY["custom_field_only_sku"], "PAUSE"),
            (TRICKY["catalog_parent"], "PAUSE"),
            ("MLM2156399999", "PAUSE"),
        ),
    )
    calls = CallLog("pull")
    config = ClientConfig(api_url=sandbox.url, client_id="e2e-pull")
    async with MeliClient(config, tokens=TOKEN_A, on_call=calls, rate=500.0) as api:
        report = await pull(book, api, calls=calls)
    q = book.outcomes[5]
    assert q.result is Result.OK and q.values["questions"] == 2 and q.values["status_before"] == "active"
    assert book.outcomes[6].values["item_id"] == TRICKY["custom_field_only"]
    assert TRICKY["catalog_listing"] in str(book.outcomes[7].values["catalog"])
    assert book.outcomes[8].code == Code.NOT_FOUND.value and book.outcomes[8].result is Result.BLOCKED
    assert report.requests == len(book.log) == calls.requests > 0
    assert book.log[0].path == "/users/me"


def test_cli_plan_on_a_real_workbook(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mltakedown pull`` and ``plan`` on an .xlsx file: rows, Log sheet and plan.json written."""
    import typer
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from mltakedown.book.xlsx import create_workbook
    from mltakedown.cli import engine_cmd

    # Only this area's commands: the test does not depend on the other CLI modules.
    app = typer.Typer()
    engine_cmd.register(app)

    path = create_workbook(tmp_path / "takedown.xlsx", "en")
    wb = load_workbook(path)
    settings = wb["Settings"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "SELLER_ID":
            row[1].value = str(SELLER_A)
    sheet = wb["Takedown"]
    headers = {cell.value: cell.column for cell in sheet[4]}
    for n, (ident, action) in enumerate(
        [(TRICKY["active_mlb"], "PAUSE"), (TRICKY["ambiguous_sku"], "PAUSAR")]
    ):
        sheet.cell(5 + n, headers["Identifier"], ident)
        sheet.cell(5 + n, headers["Action"], action)
        sheet.cell(5 + n, headers["Reason"], "IP complaint")
    wb.save(path)
    monkeypatch.setenv("MLTAKEDOWN_API_URL", sandbox.url)
    monkeypatch.setenv("MLTAKEDOWN_ACCESS_TOKEN", TOKEN_A)
    monkeypatch.setenv("MLTAKEDOWN_CLIENT_ID", "e2e-cli")
    monkeypatch.setenv("MLTAKEDOWN_RATE", "500")
    runner = CliRunner()
    pulled = runner.invoke(app, ["pull", str(path)])
    assert pulled.exit_code == 1, pulled.output  # the ambiguous SKU is blocked
    planned = runner.invoke(app, ["plan", str(path)])
    assert planned.exit_code == 1, planned.output
    assert "requests" in planned.output
    stored = load_plan(path)
    assert [w.op for w in by_row(stored)[5].writes] == [Op.PAUSE]
    assert by_row(stored)[6].codes == [Code.SKU_AMBIGUOUS]
    wb = load_workbook(path)
    sheet = wb["Takedown"]
    headers = {cell.value: cell.column for cell in sheet[4]}
    assert sheet.cell(5, headers["Item ID"]).value == TRICKY["active_mlb"]
    assert sheet.cell(6, headers["Result"]).value == "BLOCKED"
    assert wb["Log"].max_row > 2


async def test_bad_token_marks_every_row_not_logged_in(sandbox: Sandbox, tmp_path: Path) -> None:
    book = book_for(tmp_path, rows((TRICKY["active_mlm"], "PAUSE")))
    stored, _, calls = await run_plan(sandbox, book, token="APP_USR-NOT-A-REAL-TOKEN")
    assert {entry.path for entry in calls.entries} == {"/users/me"}
    assert stored.rows[0].codes == [Code.NOT_LOGGED_IN] and stored.rows[0].writes == []


async def test_catalogue_sibling_outside_the_list_is_warned(sandbox: Sandbox, tmp_path: Path) -> None:
    alone = book_for(tmp_path, rows((TRICKY["catalog_parent"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, alone)
    assert Code.CATALOGUE_SIBLING in stored.rows[0].codes
    assert TRICKY["catalog_listing"] in stored.rows[0].code_details[Code.CATALOGUE_SIBLING.value]
    # The CATALOG ad group serves both listings: with only one listed, the ad is noted, not paused.
    assert Op.PAUSE_AD not in [w.op for w in stored.rows[0].writes]
    both = book_for(tmp_path, rows((TRICKY["catalog_parent"], "PAUSE"), (TRICKY["catalog_listing"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, both)
    assert all(Code.CATALOGUE_SIBLING not in row.codes for row in stored.rows)


@dataclass
class MemoryStore:
    """A TokenStore in memory."""

    tokens: dict[str, TokenSet] = field(default_factory=dict)

    def load(self, alias: str) -> TokenSet | None:
        return self.tokens.get(alias)

    def save(self, alias: str, tokens: TokenSet) -> None:
        self.tokens[alias] = tokens

    def delete(self, alias: str) -> None:
        self.tokens.pop(alias, None)

    def aliases(self) -> list[str]:
        return sorted(self.tokens)


async def test_open_api_uses_the_access_token_or_the_workbooks_login(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    accounts = AccountBook(tmp_path / "accounts.json")
    with_token = ClientConfig(api_url=sandbox.url, access_token=TOKEN_A, client_id="e2e-open")
    async with open_api(BookSettings(account_alias="nobody"), config=with_token, accounts=accounts) as api:
        assert (await api.me()).id == SELLER_A
    # No token in the environment: the alias's stored tokens, against the API the login used.
    store = MemoryStore({"acme-b": TokenSet(access_token=TOKEN_B, refresh_token=None)})
    accounts.save(
        Account(
            alias="acme-b",
            site_id="MLM",
            client_id=CLIENT_ID,
            client_secret="s",
            redirect_uri="",
            api_url=sandbox.url,
            user_id=2002,
        )
    )
    elsewhere = ClientConfig(api_url="https://api.mercadolibre.com", client_id="e2e-open")
    settings = BookSettings(account_alias="acme-b")
    async with open_api(settings, config=elsewhere, store=store, accounts=accounts) as api:
        assert (await api.me()).id == 2002
    # An empty alias is the default login: here the only account there is.
    async with open_api(BookSettings(), config=elsewhere, store=store, accounts=accounts) as api:
        assert (await api.me()).id == 2002


async def test_large_catalogue_plan_counts_scans_and_asks_advertisers_once(tmp_path: Path) -> None:
    """Over 1,000 listings and rows on four sites: the catalogue is scanned (multigets overlapping
    the scan pages), paid orders and unanswered questions are counted before being listed, and
    one advertisers call serves every site."""
    app = create_app(SandboxOptions(extra_items=1100))
    world: World = app.state.world
    generated = [it for it in world.items.values() if "ACME-GEN-" in str(it["attributes"])][:60]
    skus = [
        next(str(a["value_name"]) for a in it["attributes"] if a["id"] == "SELLER_SKU") for it in generated
    ]
    others = [TRICKY["active_mlb"], TRICKY["active_mla"], TRICKY["active_mlc"]]
    book = book_for(tmp_path, rows(*((sku, "PAUSE") for sku in skus), *((i, "PAUSE") for i in others)))
    with serve_in_thread(app) as url:
        stored, report, _ = await run_plan(Sandbox(url, world), book)
    sent = world.request_counts
    planned = by_row(stored)
    found = {n: row.live.item_id for n, row in planned.items() if row.live is not None}
    assert [found.get(5 + n) for n in range(60)] == [it["id"] for it in generated]
    assert report.counts.get("OK", 0) >= 60
    total = len(matching_item_ids(world, SELLER_A, {}))  # what the seller's item search lists
    assert total > 1000
    # The count, then the scan pages of 100 and the empty page that ends the scroll.
    assert sent["GET /users/{user_id}/items/search"] == 1 + -(-total // 100) + 1
    assert sent["GET /items"] == -(-total // 20)  # the scanned catalogue, once; typed IDs are in it
    assert sent["GET /advertising/advertisers"] == 1  # MLM, MLB, MLA and MLC in one call
    # One limit=1 count each, then the seller-wide listing it showed to be cheaper (one page).
    assert sent["GET /orders/search"] == 2 and sent["GET /my/received_questions/search"] == 2


async def test_a_sku_excel_stored_as_a_number_keeps_its_warning_on_the_plan(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Check warns that the SKU cell is a number (Excel may have changed it); Pull and Plan
    overwrite the row's code and message, so the warning must survive there, not vanish."""
    ean = int(TRICKY["ean_sku"])
    input_rows = [InputRow(5, {"identifier": ean, "action": "PAUSE", "reason": "IP complaint"})]
    book = book_for(tmp_path, input_rows)
    stored, _, _ = await run_plan(sandbox, book)
    (row,) = stored.rows
    assert [(w.op, w.item_id) for w in row.writes] == [(Op.PAUSE, TRICKY["ean"])]
    assert row.codes[0] is Code.SKU_NUMERIC_CELL and row.codes[-1] is Code.PLANNED
    assert row.code_details[Code.SKU_NUMERIC_CELL.value] == TRICKY["ean_sku"]
    out = book.outcomes[5]
    assert out.result is Result.WARNING and out.code.startswith(Code.SKU_NUMERIC_CELL.value)
    assert out.values["planned_action"] == "pause"

    pulled = book_for(tmp_path, input_rows)
    config = ClientConfig(api_url=sandbox.url, client_id="e2e-pull-numeric")
    async with MeliClient(config, tokens=TOKEN_A, rate=500.0) as api:
        await pull(pulled, api)
    out = pulled.outcomes[5]
    assert out.result is Result.WARNING and out.code.split(", ") == [
        Code.SKU_NUMERIC_CELL.value,
        Code.FOUND.value,
    ]
    assert out.values["item_id"] == TRICKY["ean"]


async def test_a_listing_paused_only_for_stock_is_paused_by_the_seller(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    book = book_for(tmp_path, rows((TRICKY["paused_out_of_stock"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, book)
    (row,) = stored.rows
    assert [w.op for w in row.writes] == [Op.PAUSE] and Code.ALREADY_IN_TARGET not in row.codes


async def test_catalogue_twins_share_one_ad_pause(sandbox: Sandbox, tmp_path: Path) -> None:
    both = book_for(tmp_path, rows((TRICKY["catalog_parent"], "PAUSE"), (TRICKY["catalog_listing"], "PAUSE")))
    stored, _, _ = await run_plan(sandbox, both)
    ad_writes = [(r.row_number, w.ad_group_id) for r in stored.rows for w in r.writes if w.op is Op.PAUSE_AD]
    assert len(ad_writes) == 1 and ad_writes[0][0] == 5
    assert [w.op for w in by_row(stored)[6].writes] == [Op.PAUSE]
    # The twin is listed, but to be restored: it stays on sale, so the shared ad keeps running.
    mixed = book_for(
        tmp_path, rows((TRICKY["catalog_parent"], "PAUSE"), (TRICKY["catalog_listing"], "RESTORE"))
    )
    stored, _, _ = await run_plan(sandbox, mixed)
    first = by_row(stored)[5]
    assert [w.op for w in first.writes] == [Op.PAUSE]
    assert Code.CATALOGUE_SIBLING in first.codes and Code.AD_ACTIVE_NOTED in first.codes
