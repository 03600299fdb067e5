"""A realistic run record for the report tests: seller A of the sandbox, one TRO complaint.

The rows cover every shape a confirmation must handle: paused listings on two sites, a SKU that
named one variation (stock to 0, listing stays up), a CLOSE blocked by pending orders, listings
Mercado Libre controls (held, forbidden), a network failure, an already-paused listing, a
deletion, and an identifier that matched nothing.
"""

from __future__ import annotations

import datetime as dt

from mltakedown.book.ports import Result
from mltakedown.report.model import ReportRow, RunRecord

RUN_ID = "20261127T021500Z-7f3a9c"
START = dt.datetime(2026, 11, 27, 2, 15, 0, tzinfo=dt.UTC)
REFERENCE = "TRO-2026-0147"


def _at(seconds: float) -> dt.datetime:
    return START + dt.timedelta(seconds=seconds)


def make_run(run_id: str = RUN_ID) -> RunRecord:
    """The fixture run (fresh objects every call, so tests can change them)."""
    rows = [
        ReportRow(
            row=5, identifier="MLM1234567801", item_id="MLM1234567801", sku="ACME-EARB-01",
            title="Audífonos Inalámbricos Bluetooth 5.3 Deportivos", site="MLM",
            permalink="https://articulo.mercadolibre.com.mx/MLM-1234567801-audifonos-inalambricos-_JM",
            action="PAUSE", reason="IP complaint", reference=REFERENCE, result=Result.OK, code="X300",
            message="Paused.", status_before="active", status_after="paused", verified_status="paused",
            done_at_utc=_at(3.2), request_ids=["7c1e6d0a-41b2-4f0e-9d7d-2a1f0c9e1a01", "0b9f3c55-verify-01"],
            snapshot_file=f"snapshots/{run_id}/MLM1234567801.json",
        ),
        ReportRow(
            row=6, identifier="ACME-CASE-BLK", item_id="MLM1234567802", variation_id=174392011,
            sku="ACME-CASE-BLK", title="Funda Uso Rudo Para Celular Varios Colores", site="MLM",
            permalink="https://articulo.mercadolibre.com.mx/MLM-1234567802-funda-uso-rudo-_JM",
            action="PAUSE", reason="IP complaint", reference=REFERENCE, result=Result.WARNING, code="L206",
            message="Only this variation's stock was set to 0; the other colours stay on sale.",
            status_before="active", status_after="active", verified_status="active",
            done_at_utc=_at(3.9), request_ids=["a3d4e5f6-0000-4000-8000-000000000002"],
            snapshot_file=f"snapshots/{run_id}/MLM1234567802.json",
        ),
        ReportRow(
            row=7, identifier="MLB3456789012", item_id="MLB3456789012", sku="ACME-EARB-01",
            title="Fone de Ouvido Bluetooth Sem Fio Esportivo", site="MLB",
            permalink="https://produto.mercadolivre.com.br/MLB-3456789012-fone-de-ouvido-_JM",
            action="PAUSE", reason="IP complaint", reference=REFERENCE, result=Result.OK, code="X300",
            message="Paused.", status_before="active", status_after="paused", verified_status="paused",
            done_at_utc=_at(4.4), request_ids=["5e6f7a8b-0000-4000-8000-000000000003"],
            snapshot_file=f"snapshots/{run_id}/MLB3456789012.json",
        ),
        ReportRow(
            row=8, identifier="MLM1234567803", item_id="MLM1234567803", sku="ACME-WATCH-S",
            title="Reloj Inteligente Smartwatch Deportivo", site="MLM",
            permalink="https://articulo.mercadolibre.com.mx/MLM-1234567803-reloj-_JM",
            action="CLOSE", reason="IP complaint", reference=REFERENCE, result=Result.BLOCKED, code="L208",
            message="2 paid orders are waiting to ship; closing now would cancel them.",
            status_before="active",
        ),
        ReportRow(
            row=9, identifier="MLM1234567804", item_id="MLM1234567804", sku="ACME-LAMP-02",
            title="Lámpara LED De Escritorio Recargable", site="MLM",
            permalink="https://articulo.mercadolibre.com.mx/MLM-1234567804-lampara-_JM",
            action="PAUSE", reason="IP complaint", reference=REFERENCE, result=Result.BLOCKED, code="L207",
            message="Mercado Libre holds this listing for review; its status cannot be changed.",
            status_before="under_review", sub_status=["held"],
            snapshot_file=f"snapshots/{run_id}/MLM1234567804.json",
        ),
        ReportRow(
            row=10, identifier="MLA987654321", item_id="MLA987654321", sku="ACME-EARB-01",
            title="Auriculares Bluetooth Deportivos", site="MLA",
            permalink="https://articulo.mercadolibre.com.ar/MLA-987654321-auriculares-_JM",
            action="PAUSE", reason="IP complaint", reference=REFERENCE, result=Result.FAILED, code="X305",
            message="The connection failed after 5 attempts; the listing was not changed.",
            status_before="active", api_error="ReadTimeout: PUT /items/MLA987654321",
            request_ids=[],
        ),
        ReportRow(
            row=11, identifier="MLC555000111", item_id="MLC555000111", sku="ACME-CHG-65W",
            title="Cargador Rápido 65W USB-C", site="MLC",
            permalink="https://articulo.mercadolibre.cl/MLC-555000111-cargador-_JM",
            action="PAUSE", reason="missing certification", result=Result.SKIPPED, code="L213",
            message="Already paused; nothing was written.", status_before="paused",
            sub_status=["paused_by_seller"],
        ),
        ReportRow(
            row=12, identifier="MCO777888999", item_id="MCO777888999", sku="ACME-OLD-1",
            title="Soporte Para Celular De Carro", site="MCO",
            permalink="https://articulo.mercadolibre.com.co/MCO-777888999-soporte-_JM",
            action="DELETE", reason="market exit", result=Result.OK, code="X300", message="Deleted.",
            status_before="active", status_after="closed", verified_status="closed",
            done_at_utc=_at(6.0),
            request_ids=["c0ffee00-0000-4000-8000-000000000009", "c0ffee00-0000-4000-8000-000000000010"],
            snapshot_file=f"snapshots/{run_id}/MCO777888999.json",
        ),
        ReportRow(
            row=13, identifier="MLB3456789099", item_id="MLB3456789099", sku="ACME-CABLE-3",
            title="Cabo USB-C Reforçado 2 Metros", site="MLB",
            permalink="https://produto.mercadolivre.com.br/MLB-3456789099-cabo-_JM",
            action="PAUSE", reason="policy violation", result=Result.BLOCKED, code="L207",
            message="Mercado Libre disabled this listing (forbidden).", status_before="under_review",
            sub_status=["forbidden"], snapshot_file=f"snapshots/{run_id}/MLB3456789099.json",
        ),
        ReportRow(
            row=14, identifier="ACME-GHOST-9", action="PAUSE", reason="IP complaint", reference=REFERENCE,
            result=Result.BLOCKED, code="L205", message="No listing of this account has this SKU.",
        ),
    ]  # fmt: skip
    return RunRecord(
        run_id=run_id,
        seller_id=1001,
        nickname="ACME_CN",
        account_alias="acme-main",
        sites=["MLM", "MLB", "MLA", "MLC", "MCO"],
        stage="execute",
        workbook="takedown-2026-11.xlsm",
        started_at=START,
        finished_at=_at(7.5),
        requests_used=14,
        seconds=7.5,
        rate_per_second=5.0,
        rows=rows,
    )


ITEM_IDS = [row.item_id for row in make_run().rows if row.item_id]
"""Every item ID of the fixture (each must appear in the documents that cover it)."""
