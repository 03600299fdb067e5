"""Appeal packs: evidence for listings whose status Mercado Libre controls.

For a row whose listing was under review, forbidden, suspended… (the tool cannot and does not
change those), the pack gathers what a seller needs to appeal: the snapshot taken before any
change (checked against its SHA-256), what the moderation sub-status means, and a short letter
in the language Mercado Libre support uses on that site (Spanish, or Portuguese on MLB), with
the facts filled in and the seller's own argument left in ``[brackets]`` to complete.

The pack itself is written in the language the user chose (Chinese for most of our users); only
the letter is in the site's language.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from mltakedown.engine.journal import state_dir
from mltakedown.engine.meanings import is_platform_controlled
from mltakedown.engine.plan import load_plan, plan_path
from mltakedown.engine.snapshots import (
    EVIDENCE_DIR,
    SNAPSHOT_DIR,
    Snapshot,
    SnapshotError,
    SnapshotStore,
    load_snapshot,
)
from mltakedown.report.collect import sku_from_item
from mltakedown.report.confirmation import localised_message
from mltakedown.report.document import Document, Field, Section
from mltakedown.report.fonts import FontFile
from mltakedown.report.model import ReportRow, RunRecord
from mltakedown.report.pdf import render_pdf
from mltakedown.report.sites import format_utc, site_info, site_language
from mltakedown.report.texts import Texts, reason_label

APPEAL_CODES = frozenset({"L207", "L220"})
"""Platform-controlled (Plan) and moderated-so-not-restored (Restore): the rows an appeal is for."""


def needs_appeal(row: ReportRow) -> bool:
    """True when Mercado Libre, not the seller, controls the listing's status."""
    if not row.item_id:
        return False
    return row.code in APPEAL_CODES or is_platform_controlled(row.status_before or None, row.sub_status)


@dataclass(slots=True)
class AppealPack:
    """One listing's appeal material."""

    row: ReportRow
    document: Document
    letter: str
    letter_language: str
    snapshot: Snapshot | None
    snapshot_problem: str = ""
    """Why the snapshot could not be used (missing, or altered after it was taken)."""


def _snapshot_from_plan(row: ReportRow, run: RunRecord, workbook: Path) -> Snapshot | None:
    """Save the listing's state as Pull read it (kept in the plan) as this run's snapshot.

    The fallback for plans stored before Plan saved its own evidence: Plan now snapshots every
    platform-controlled listing itself (:func:`mltakedown.engine.ops.save_appeal_evidence`), and
    :func:`_find_snapshot` prefers that file. Saved through the engine's own snapshot store (same
    folder, format and ``.sha256``) so the evidence is uniform.
    """
    try:
        plan = load_plan(plan_path(workbook))
    except (OSError, ValueError):  # no plan, or one that no longer parses
        return None
    for planned in plan.rows:
        live = planned.live
        if (
            planned.row_number == row.row
            and live is not None
            and live.item_id == row.item_id
            and live.item_json
        ):
            store = SnapshotStore(state_dir(workbook), run.run_id, area=EVIDENCE_DIR)
            store.ensure(live.item_json, variation_id=row.variation_id, row_number=row.row)
            path = store.find(row.item_id)
            return None if path is None else load_snapshot(path)
    return None


def _find_snapshot(row: ReportRow, run: RunRecord, workbook: Path | None) -> tuple[Snapshot | None, str]:
    """The listing's earliest snapshot: the one Plan (or a write) took; made from the plan only when
    no snapshot exists at all."""
    if workbook is None:
        return None, ""
    candidates: list[Path] = []
    if row.snapshot_file:
        candidates.append(workbook.parent / row.snapshot_file)
        candidates.append(state_dir(workbook) / row.snapshot_file)
    # The state before the tool's first write wins; Plan's evidence copy serves listings never written.
    for area in (SNAPSHOT_DIR, EVIDENCE_DIR):
        found = SnapshotStore(state_dir(workbook), run.run_id, area=area).find(row.item_id)
        if found is not None:
            candidates.append(found)
    for path in candidates:
        if path.is_file():
            try:
                return load_snapshot(path), ""
            except SnapshotError as exc:
                # An altered snapshot is not evidence: say so instead of using it.
                return None, str(exc)
    try:
        return _snapshot_from_plan(row, run, workbook), ""
    except (SnapshotError, OSError) as exc:
        return None, str(exc)


def _sub_status_text(t: Texts, row: ReportRow) -> tuple[str, str]:
    """(``held, warning``, their meanings joined) — the status itself when no sub-status."""
    keys = row.sub_status or [row.status_before or "unknown"]
    meanings = [t.optional(f"sub_status.{key}", t.get("sub_status.unknown")) for key in keys]
    return ", ".join(keys), " ".join(meanings)


def build_appeal_pack(
    run: RunRecord,
    row: ReportRow,
    texts: Texts,
    *,
    workbook: Path | None = None,
    generated_at: dt.datetime | None = None,
) -> AppealPack:
    """The appeal pack of one row (``texts`` is the pack's language; the letter uses the site's)."""
    t = texts
    at = generated_at or dt.datetime.now(dt.UTC)
    site = row.site or run.main_site
    letter_lang = site_language(site)
    letter_texts = Texts(letter_lang, t.folder)
    snapshot, problem = _find_snapshot(row, run, workbook)
    subs, meaning = _sub_status_text(t, row)
    letter_subs, letter_meaning = _sub_status_text(letter_texts, row)
    status = t.optional(f"statuses.{row.status_before}", row.status_before or t.get("not_available"))
    na = t.get("not_available")
    # What the row lacks (a row blocked before any write has no SKU or link) the snapshot knows.
    known = snapshot.key if snapshot is not None else {}
    title = row.title or str(known.get("title") or "")
    permalink = row.permalink or str(known.get("permalink") or "")
    sku = row.sku or (sku_from_item(snapshot.item, row.variation_id) if snapshot is not None else "")
    seller = f"{run.nickname} ({run.seller_id})" if run.nickname else str(run.seller_id or na)

    listing = Section(
        t.get("appeal.section_listing"),
        facts=[
            Field(t.get("labels.item_id"), row.item_id),
            Field(
                t.get("labels.variation"), str(row.variation_id) if row.variation_id else t.get("whole_item")
            ),
            Field(t.get("labels.sku"), sku or na),
            Field(t.get("labels.title"), title or na),
            Field(t.get("labels.permalink"), permalink or na),
            Field(t.get("labels.site"), f"{site} ({site_info(site).country})"),
            Field(t.get("labels.seller"), seller),
            Field(t.get("labels.reference"), row.reference or na),
            Field(t.get("labels.reason"), reason_label(row.reason, t.language) or na),
            Field(t.get("labels.row"), str(row.row)),
            Field(t.get("labels.code"), row.code or na),
            Field(t.get("labels.message"), localised_message(row, t.language) or na),
        ],
    )
    moderation = Section(
        t.get("appeal.section_moderation"),
        facts=[
            Field(t.get("labels.status_before"), status),
            Field(t.get("labels.sub_status"), subs),
        ],
        paragraphs=[meaning],
    )
    snap_section = Section(t.get("appeal.section_snapshot"))
    if snapshot is not None:
        file = snapshot.path.name
        key = snapshot.key
        snap_section.paragraphs.append(t.get("appeal.snapshot_note", file=file, sha256=snapshot.sha256))
        price = key.get("price")
        snap_section.facts = [
            Field(t.get("labels.run_id"), snapshot.run_id),
            Field(t.get("labels.taken_at"), format_utc(snapshot.taken_at)),
            Field(t.get("labels.status_before"), str(key.get("status") or na)),
            Field(t.get("labels.sub_status"), ", ".join(str(s) for s in key.get("sub_status") or []) or na),
            Field(t.get("labels.title"), str(key.get("title") or na)),
            Field(
                t.get("labels.price"),
                f"{price} {key.get('currency_id') or ''}".strip() if price is not None else na,
            ),
            Field(t.get("labels.available_quantity"), str(key.get("available_quantity", na))),
            Field(t.get("labels.listing_type"), str(key.get("listing_type_id") or na)),
            Field(t.get("labels.snapshot_sha256"), snapshot.sha256),
        ]
    else:
        snap_section.paragraphs.append(problem or t.get("appeal.snapshot_missing"))
        snap_section.alert = bool(problem)

    letter = letter_texts.letter(
        "appeal",
        item_id=row.item_id,
        site=site,
        country=site_info(site).country,
        title=title or "[título]",
        permalink=permalink or "[link]",
        status=row.status_before or "[status]",
        sub_status=letter_subs,
        sub_status_meaning=letter_meaning,
        nickname=run.nickname or "[vendedor]",
        seller_id=run.seller_id if run.seller_id is not None else "[ID]",
        snapshot_taken_at=format_utc(snapshot.taken_at) if snapshot else "[fecha]",
        snapshot_sha256=snapshot.sha256 if snapshot else "[SHA-256]",
        reference=row.reference or "—",
        reason=reason_label(row.reason, letter_lang) or "—",
        today=at.date().isoformat(),
    )
    letter_section = Section(
        t.get("appeal.section_letter"),
        paragraphs=[t.get("appeal.letter_note"), *letter.strip().split("\n\n")],
    )
    letter_language = t.get(f"appeal.letter_language_{letter_lang}")
    document = Document(
        title=t.get("appeal.title"),
        subtitle=t.get("appeal.subtitle", item_id=row.item_id, site=site, status=f"{status} / {subs}"),
        language=t.language,
        run_id=run.run_id,
        doc_id=f"appeal-{row.item_id}",
        sections=[
            Section("", paragraphs=[t.get("appeal.intro", letter_language=letter_language)]),
            listing,
            moderation,
            snap_section,
            letter_section,
        ],
        footer=t.get("confirmation.footer", run_id=run.run_id, generated=format_utc(at)),
    )
    return AppealPack(row, document, letter, letter_lang, snapshot, problem)


def build_appeal_packs(
    run: RunRecord,
    language: str,
    *,
    workbook: Path | None = None,
    generated_at: dt.datetime | None = None,
) -> list[AppealPack]:
    """Appeal packs for every row of ``run`` whose listing Mercado Libre controls."""
    texts = Texts(language)
    return [
        build_appeal_pack(run, row, texts, workbook=workbook, generated_at=generated_at)
        for row in run.rows
        if needs_appeal(row)
    ]


def write_appeal_pack(pack: AppealPack, folder: Path, *, font: FontFile | None = None) -> list[Path]:
    """Write the pack into ``folder/<item_id>/``: the PDF, the letter as text, the snapshot and its hash."""
    target = folder / pack.row.item_id
    target.mkdir(parents=True, exist_ok=True)
    lang = pack.document.language
    pdf = render_pdf(pack.document, target / f"{pack.document.doc_id}.{lang}.pdf", font=font).path
    letter = target / f"appeal-letter-{pack.row.item_id}.{pack.letter_language}.txt"
    letter.write_text(pack.letter, encoding="utf-8")
    written = [pdf, letter]
    if pack.snapshot is not None:
        # Byte-for-byte copies, so the copied file still matches the recorded SHA-256.
        source = pack.snapshot.path
        for path in (source, source.with_name(source.name + ".sha256")):
            written.append(Path(shutil.copy2(path, target / path.name)))
    return written
