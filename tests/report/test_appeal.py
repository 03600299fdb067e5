"""Appeal packs for listings Mercado Libre controls: snapshot, meaning, letter in the site's language."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from mltakedown.engine.journal import state_dir
from mltakedown.engine.model import LiveRow, Plan, PlannedRow
from mltakedown.engine.plan import save_plan
from mltakedown.engine.snapshots import SnapshotStore
from mltakedown.report.appeal import build_appeal_packs, needs_appeal, write_appeal_pack
from mltakedown.report.model import RunRecord

from .report_fixtures import RUN_ID
from .report_recorded import item_json

AT = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)


def _plan_with_live_items(workbook: Path, run: RunRecord) -> None:
    """The stored plan, holding the items as Pull read them (the engine's own model and file)."""
    rows = [
        PlannedRow(
            row_number=row.row,
            action=row.action,
            live=LiveRow(
                row_number=row.row, item_id=row.item_id, status=row.status_before, item_json=item_json(row)
            ),
        )
        for row in run.rows
        if row.item_id
    ]
    plan = Plan(
        plan_id="p1", created_at=AT, workbook=workbook.name, seller_id=1001, inputs_hash="x", rows=rows,
        requests_estimate=0, seconds_estimate=0.0,
    )  # fmt: skip
    save_plan(plan, workbook)


def test_only_platform_controlled_rows_get_a_pack(run: RunRecord) -> None:
    assert [row.item_id for row in run.rows if needs_appeal(row)] == ["MLM1234567804", "MLB3456789099"]


def test_letter_is_in_the_site_language_with_the_facts_filled_in(run: RunRecord, recorded: Path) -> None:
    _plan_with_live_items(recorded, run)
    packs = build_appeal_packs(run, "zh", workbook=recorded, generated_at=AT)
    by_item = {pack.row.item_id: pack for pack in packs}

    held = by_item["MLM1234567804"]
    assert held.letter_language == "es"
    assert held.snapshot is not None and held.snapshot_problem == ""
    assert "MLM1234567804" in held.letter and "ACME_CN" in held.letter and "1001" in held.letter
    assert held.snapshot.sha256 in held.letter
    assert "retenida para una revisión manual" in held.letter  # what "held" means, in Spanish
    assert "Denuncia de PI" in held.letter  # the reason, in the letter's language
    assert "[Explique" in held.letter  # the seller's argument is left to complete
    assert "$" not in held.letter  # every placeholder was filled

    forbidden = by_item["MLB3456789099"]
    assert forbidden.letter_language == "pt"
    assert "Olá, equipe do Mercado Livre" in forbidden.letter
    assert "desativou o anúncio por violação de política" in forbidden.letter

    # The pack itself is in the user's language (Chinese), with the meaning explained.
    texts = list(held.document.texts())
    assert any("人工审核" in text for text in texts)
    assert any(held.snapshot.sha256 in text for text in texts)


def test_pack_files_keep_the_snapshot_byte_for_byte(run: RunRecord, recorded: Path, tmp_path: Path) -> None:
    _plan_with_live_items(recorded, run)
    pack = build_appeal_packs(run, "en", workbook=recorded, generated_at=AT)[0]
    files = write_appeal_pack(pack, tmp_path / "appeals")
    names = sorted(p.name for p in files)
    assert names == [
        "MLM1234567804.json",
        "MLM1234567804.json.sha256",
        "appeal-MLM1234567804.en.pdf",
        "appeal-letter-MLM1234567804.es.txt",
    ]
    copied = tmp_path / "appeals" / "MLM1234567804" / "MLM1234567804.json"
    assert pack.snapshot is not None
    assert copied.read_bytes() == pack.snapshot.path.read_bytes()
    assert json.loads(copied.read_bytes())["item"]["status"] == "under_review"
    # A listing never written has no pre-write snapshot: its evidence copy goes to evidence/,
    # where Restore (which reads snapshots/ only) can never mistake it for the pre-write state.
    assert pack.snapshot.path.parent == state_dir(recorded) / "evidence" / RUN_ID
    assert SnapshotStore(state_dir(recorded), "later-run").find(pack.snapshot.item_id) is None


def test_an_altered_snapshot_is_not_used_as_evidence(run: RunRecord, recorded: Path) -> None:
    _plan_with_live_items(recorded, run)
    first = build_appeal_packs(run, "en", workbook=recorded, generated_at=AT)[0]
    assert first.snapshot is not None
    path = first.snapshot.path
    path.write_bytes(path.read_bytes().replace(b"under_review", b"active"))
    again = build_appeal_packs(run, "en", workbook=recorded, generated_at=AT)[0]
    assert again.snapshot is None
    assert "changed after it was taken" in again.snapshot_problem
    snapshot_section = again.document.sections[3]
    assert snapshot_section.alert and again.snapshot_problem in snapshot_section.paragraphs


def test_without_a_workbook_the_pack_says_there_is_no_snapshot(run: RunRecord) -> None:
    pack = build_appeal_packs(run, "es", generated_at=AT)[1]
    assert pack.snapshot is None
    assert "No se registró ninguna captura" in " ".join(pack.document.sections[3].paragraphs)
    assert "[SHA-256]" in pack.letter
