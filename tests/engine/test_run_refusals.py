"""Stage-level refusals: an old plan is refused, and a refusal keeps what earlier runs recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from mltakedown.codes import Code
from mltakedown.engine import run
from mltakedown.engine.plan import save_plan
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
