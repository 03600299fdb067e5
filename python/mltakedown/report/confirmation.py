"""Takedown confirmation documents: one per complaint reference, or per reason where none is given.

A confirmation is what the seller sends the brand owner or counsel after an IP/TRO complaint. It
names the seller account and site, the complaint, and for each listing the item ID, variation,
title, link and SKU, the action taken, the status before and after with the API's own read-back,
the time in UTC and in the site's local time, and the request IDs as proof.

Rows that were blocked or failed go in a separate, highlighted section and are never shown as
done; rows that needed no change (already down, ignored) go in their own section too. What
counts as done is :attr:`ReportRow.was_written`, nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from mltakedown import codes
from mltakedown.book.ports import Result
from mltakedown.codes import Code
from mltakedown.report.document import Document, Entry, Field, Section
from mltakedown.report.model import ReportRow, RunRecord
from mltakedown.report.sites import format_local, format_utc, site_info, site_language
from mltakedown.report.texts import Texts, reason_key, reason_label

_STOP_ACTIONS = frozenset({"PAUSE", "CLOSE", "DELETE"})


@dataclass(frozen=True, slots=True)
class Group:
    """The rows one confirmation covers: those sharing a complaint reference (or a reason)."""

    reference: str
    reason: str
    rows: tuple[ReportRow, ...]

    @property
    def doc_id(self) -> str:
        """A file-name-safe, stable name: ``ref-<reference>`` or ``reason-<reason>``."""
        if self.reference:
            kind, text = "ref", self.reference
        else:
            # A drop-down reason names the file the same way whatever the workbook's language.
            kind, text = "reason", reason_key(self.reason) or self.reason or "none"
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60]
        if slug != text:
            # Non-ASCII (Chinese reasons) or punctuation: add a short hash so two texts that slug
            # to the same thing still get different files.
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
            slug = f"{slug}-{digest}" if slug else digest
        return f"{kind}-{slug}"

    @property
    def language(self) -> str:
        """The language of the site most rows belong to (MLB → pt, other sites → es)."""
        counts: dict[str, int] = {}
        for row in self.rows:
            if row.site:
                counts[row.site] = counts.get(row.site, 0) + 1
        if not counts:
            return "es"
        return site_language(max(counts, key=lambda site: counts[site]))


def group_rows(run: RunRecord) -> list[Group]:
    """Rows grouped by complaint reference, or by reason when the row has no reference.

    Groups come in the order of their first row, rows in sheet order.
    """
    buckets: dict[tuple[str, str], list[ReportRow]] = {}
    for row in sorted(run.rows, key=lambda r: r.row):
        reference = row.reference.strip()
        key = (reference, "") if reference else ("", row.reason.strip())
        buckets.setdefault(key, []).append(row)
    groups = []
    for (reference, reason), rows in buckets.items():
        reasons = sorted({r.reason.strip() for r in rows if r.reason.strip()})
        groups.append(Group(reference, reason or ", ".join(reasons), tuple(rows)))
    return groups


def localised_message(row: ReportRow, language: str) -> str:
    """The row's message in ``language``.

    The cell holds the catalogue sentence in the *workbook's* language, then the detail; the
    sentence is swapped for the same code's sentence in ``language`` (the detail, item IDs and
    values mostly, stays as recorded). Unknown codes keep the message as recorded.
    """
    if not row.message:
        return ""
    try:
        code = Code(row.code)
        wanted = codes.texts(code, language).message
        for lang in codes.LANGUAGES:
            sentence = codes.texts(code, lang).message
            if row.message.startswith(sentence):
                return wanted + row.message[len(sentence) :]
    except (ValueError, KeyError, OSError):
        pass  # an unknown code or an unreadable catalogue: the message as recorded
    return row.message


class _Builder:
    """Turns one group into a :class:`Document` using one language's texts."""

    def __init__(self, run: RunRecord, group: Group, texts: Texts, generated_at: dt.datetime) -> None:
        self.run = run
        self.group = group
        self.t = texts
        self.generated_at = generated_at
        self.na = texts.get("not_available")
        reasons = sorted({row.reason.strip() for row in group.rows if row.reason.strip()})
        self.reason = ", ".join(reason_label(reason, texts.language) for reason in reasons) or self.na

    # -- small renderers -------------------------------------------------------------------

    def status(self, status: str) -> str:
        return self.t.optional(f"statuses.{status}", status) if status else self.na

    def status_with_sub(self, row: ReportRow) -> str:
        text = self.status(row.status_before)
        return f"{text} ({', '.join(row.sub_status)})" if row.sub_status else text

    def action(self, row: ReportRow) -> str:
        action = row.action.upper()
        # A SKU naming one variation of a multi-variation listing: only that variation's stock
        # went to 0 and the listing stayed up; say so instead of "Paused".
        if row.variation_id is not None and action in _STOP_ACTIONS and row.was_written:
            action = "ZERO_VARIATION"
        return self.t.optional(f"actions.{action}", row.action or self.na)

    def verified(self, row: ReportRow) -> str:
        if not row.verified_status:
            return self.t.get("verification.missing")
        key = (
            "verification.match"
            if not row.status_after or row.verified_status == row.status_after
            else "verification.mismatch"
        )
        return self.t.get(key, status=self.status(row.verified_status))

    def local_time(self, row: ReportRow) -> str:
        if row.done_at_local:
            return row.done_at_local
        if row.done_at_utc is None:
            return self.na
        return format_local(row.done_at_utc, row.site or self.run.main_site)

    def message(self, row: ReportRow) -> str:
        return localised_message(row, self.t.language) or self.na

    def result(self, row: ReportRow) -> str:
        key = row.result.value if row.result is not None else "NONE"
        return self.t.get(f"results.{key}")

    def heading(self, row: ReportRow) -> str:
        return self.t.get("listing_heading", row=row.row, item_id=row.item_id or row.identifier or self.na)

    def label(self, key: str) -> str:
        return self.t.get(f"labels.{key}")

    def listing_fields(self, row: ReportRow) -> list[Field]:
        variation = str(row.variation_id) if row.variation_id is not None else self.t.get("whole_item")
        return [
            Field(self.label("item_id"), row.item_id or self.na),
            Field(self.label("variation"), variation),
            Field(self.label("sku"), row.sku or self.na),
            Field(self.label("title"), row.title or self.na),
            Field(self.label("permalink"), row.permalink or self.na),
            Field(self.label("action"), self.action(row)),
            Field(self.label("status_before"), self.status_with_sub(row)),
        ]

    # -- entries per section ---------------------------------------------------------------

    def done_entry(self, row: ReportRow) -> Entry:
        fields = self.listing_fields(row)
        fields += [
            Field(self.label("status_after"), self.status(row.status_after)),
            Field(self.label("verified"), self.verified(row)),
            Field(self.label("done_utc"), format_utc(row.done_at_utc) if row.done_at_utc else self.na),
            Field(self.label("done_local"), self.local_time(row)),
            Field(self.label("request_ids"), ", ".join(row.request_ids) or self.na),
        ]
        if self.run.stage == "restore":
            fields.append(Field(self.label("new_item_id"), row.new_item_id or self.na))
        return Entry(self.heading(row), tuple(fields))

    def other_entry(self, row: ReportRow, *, with_error: bool) -> Entry:
        fields = self.listing_fields(row)
        fields += [
            Field(self.label("result"), self.result(row)),
            Field(self.label("code"), row.code or self.na),
            Field(self.label("message"), self.message(row)),
        ]
        if with_error:
            fields += [
                # A row can fail after its listing changed (the listing paused, its ad did not):
                # the status the listing was left in is said, not implied.
                Field(self.label("status_after"), self.status(row.status_after)),
                Field(self.label("api_error"), row.api_error or self.na),
                Field(self.label("request_ids"), ", ".join(row.request_ids) or self.na),
            ]
        return Entry(self.heading(row), tuple(fields))

    # -- the document ----------------------------------------------------------------------

    def account_section(self) -> Section:
        run, label = self.run, self.label
        sites = sorted({row.site for row in self.group.rows if row.site}) or run.sites
        window = self.na
        if run.started_at is not None:
            end = format_utc(run.finished_at) if run.finished_at else "…"
            window = f"{format_utc(run.started_at)} → {end}"
        facts = [
            Field(label("seller"), run.nickname or self.na),
            Field(label("seller_id"), str(run.seller_id) if run.seller_id is not None else self.na),
            Field(label("account_alias"), run.account_alias or self.na),
            Field(label("sites"), ", ".join(f"{s} ({site_info(s).country})" for s in sites) or self.na),
        ]
        if self.group.reference:
            facts.append(Field(label("reference"), self.group.reference))
        facts += [
            Field(label("reason"), self.reason),
            Field(label("run_id"), run.run_id),
            Field(label("workbook"), run.workbook or self.na),
            Field(label("run_window"), window),
            Field(label("generated"), format_utc(self.generated_at)),
        ]
        return Section(self.t.get("confirmation.section_account"), facts=facts)

    def build(self) -> Document:
        t, group, stage = self.t, self.group, self.run.stage
        if group.reference:
            subtitle = t.get("confirmation.subtitle_reference", reference=group.reference)
            subject = t.get("confirmation.subject_reference", reference=group.reference)
        else:
            subtitle = t.get("confirmation.subtitle_reason", reason=self.reason)
            subject = t.get("confirmation.subject_reason", reason=self.reason)
        done = [row for row in group.rows if row.was_written]
        skipped = [row for row in group.rows if not row.was_written and row.result is Result.SKIPPED]
        not_done = [row for row in group.rows if not row.was_written and row.result is not Result.SKIPPED]
        none = t.get("confirmation.none")
        stage_key = "restore" if stage == "restore" else "execute"
        sections = [
            Section(
                "",
                paragraphs=[t.get(f"confirmation.intro_{stage_key}", subject=subject)],
            ),
            self.account_section(),
            Section(
                t.get(f"confirmation.section_done_{stage_key}", count=len(done)),
                entries=[self.done_entry(row) for row in done],
                empty_text=none,
            ),
            Section(
                t.get("confirmation.section_not_done", count=len(not_done)),
                paragraphs=[t.get("confirmation.not_done_note")] if not_done else [],
                entries=[self.other_entry(row, with_error=True) for row in not_done],
                empty_text=none,
                alert=bool(not_done),
            ),
        ]
        if skipped:
            sections.append(
                Section(
                    t.get("confirmation.section_skipped", count=len(skipped)),
                    paragraphs=[t.get("confirmation.skipped_note")],
                    entries=[self.other_entry(row, with_error=False) for row in skipped],
                )
            )
        sections.append(
            Section(
                t.get("confirmation.section_proof"),
                paragraphs=[t.get("confirmation.proof_note", run_id=self.run.run_id)],
            )
        )
        return Document(
            title=t.get(f"confirmation.title_{stage_key}"),
            subtitle=subtitle,
            language=t.language,
            run_id=self.run.run_id,
            doc_id=f"confirmation-{group.doc_id}",
            sections=sections,
            footer=t.get(
                "confirmation.footer", run_id=self.run.run_id, generated=format_utc(self.generated_at)
            ),
        )


def build_confirmation(
    run: RunRecord,
    group: Group,
    texts: Texts,
    *,
    generated_at: dt.datetime | None = None,
) -> Document:
    """The confirmation document for one group, in ``texts``' language."""
    return _Builder(run, group, texts, generated_at or dt.datetime.now(dt.UTC)).build()


def build_confirmations(
    run: RunRecord,
    language: str | None = None,
    *,
    generated_at: dt.datetime | None = None,
) -> list[Document]:
    """One confirmation per group of ``run``; ``language`` None means each group's site language."""
    at = generated_at or dt.datetime.now(dt.UTC)
    loaded: dict[str, Texts] = {}
    documents = []
    for group in group_rows(run):
        lang = language or group.language
        if lang not in loaded:
            loaded[lang] = Texts(lang)
        documents.append(build_confirmation(run, group, loaded[lang], generated_at=at))
    return documents
