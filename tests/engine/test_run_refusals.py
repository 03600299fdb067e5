"""Stage-level refusals: an old plan is refused, and a refusal keeps what earlier runs recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from mltakedown.book.ports import BookSettings
from mltakedown.codes import Code
from mltakedown.engine import run
from mltakedown.engine.plan import save_plan, settings_hash
from mltakedown.sandbox.seed import TRICKY as T

from .exec_support import input_row, make_book, plan_for, sandbox_client, yes


async def test_a_plan_older_than_the_limit_is_refused(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        old = plan.model_copy(
            update={"created_at": plan.created_at - run.MAX_PLAN_AGE - dt.timedelta(minutes=1)}
        )
        report = await run.execute(book, h.api, confirm=yes, plan=old, calls=h.calls)
        assert book.outcomes[2].code == Code.PLAN_STALE.value
        assert "hours old" in book.outcomes[2].message and "nothing sent" in report.message
        assert not h.world.writes
        # A plan just inside the limit runs.
        fresh = plan.model_copy(
            update={"created_at": plan.created_at - run.MAX_PLAN_AGE + dt.timedelta(minutes=5)}
        )
        await run.execute(book, h.api, confirm=yes, plan=fresh, calls=h.calls)
        assert [w.item for w in h.ok_writes()] == [T["active_mlm"]]


def test_plan_age_reads_a_naive_time_as_utc() -> None:
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)

    class _Plan:
        created_at = dt.datetime(2026, 11, 27, 10, 0)

    assert run.plan_age(_Plan(), now) == dt.timedelta(hours=2)  # type: ignore[arg-type]


async def test_a_refusal_keeps_the_execution_columns_of_an_earlier_run(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_mlm"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        save_plan(plan, book.path)
        await run.execute(book, h.api, confirm=yes, calls=h.calls)
        done = book.outcomes[2]
        assert done.code == Code.DONE.value and done.values["request_id"]
        # The user changes the row after Plan; what the tool wrote on it stays (as in a real sheet).
        changed = input_row(2, T["active_mlm"], "CLOSE", confirm="yes")
        book.rows[0] = replace(changed, outputs=book.rows[0].outputs)
        await run.execute(book, h.api, confirm=yes, calls=h.calls)
        refused = book.outcomes[2]
        assert refused.code == Code.PLAN_STALE.value
        # The row says why this Execute sent nothing, and still shows what the first one did.
        assert refused.values == {}
        assert book.rows[0].outputs["request_id"] == done.values["request_id"]
        assert book.rows[0].outputs["status_after"] == "paused"


async def test_a_plan_made_under_other_settings_is_refused(tmp_path: Path) -> None:
    book = make_book(tmp_path, [(T["active_ad_item"], "PAUSE")])
    async with sandbox_client() as h:
        plan = await plan_for(h.api, book)
        stamped = plan.model_copy(update={"settings_hash": settings_hash(book.settings)})
        # The user turns off "pause ads with the listing" after Plan: the stored ad writes are stale.
        book.settings = replace(
            book.settings, pause_ads_with_listing=not book.settings.pause_ads_with_listing
        )
        await run.execute(book, h.api, confirm=yes, plan=stamped, calls=h.calls)
        assert book.outcomes[2].code == Code.PLAN_STALE.value
        assert "Settings" in book.outcomes[2].message
        assert not h.world.writes


def test_settings_hash_covers_what_the_gates_read() -> None:
    base = BookSettings(seller_id=1001, account_alias="acme", default_site="MLM", pause_ads_with_listing=True)
    same = BookSettings(
        seller_id=1001, account_alias=" acme ", default_site="mlm", pause_ads_with_listing=True
    )
    assert settings_hash(base) == settings_hash(same)
    for changed in (
        replace(base, seller_id=2002),
        replace(base, account_alias="other"),
        replace(base, default_site="MLB"),
        replace(base, pause_ads_with_listing=False),
    ):
        assert settings_hash(changed) != settings_hash(base)
