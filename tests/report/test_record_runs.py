"""verify-record over several real runs: clean after execute + restore + a second execute, and
catching a row that claims a done write the journal's latest word on that row contradicts, and
evidence altered together with its checksum after the appeal pack copied it."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from mltakedown.book.xlsx import XlsxWorkbook
from mltakedown.engine import run
from mltakedown.engine.calls import CallLog
from mltakedown.engine.journal import JOURNAL_NAME, Journal, read_journal, state_dir
from mltakedown.engine.snapshots import EVIDENCE_DIR, SnapshotStore
from mltakedown.meli import ClientConfig, MeliClient, RateLimiter
from mltakedown.report.output import make_report
from mltakedown.report.record import ProblemKind, verify_record
from mltakedown.sandbox import World
from mltakedown.sandbox.seed import TOKEN_A, TRICKY

from .report_sandbox import plan_and_execute, sandbox_book, set_actions
from .test_run_facts import _set_cells

T = TRICKY
REFERENCE = "TRO-2026-0555"
ROWS = [
    (T["active_mlm"], "PAUSE", REFERENCE),
    (T["under_review_held"], "PAUSE", REFERENCE),
    (T["active_mco"], "PAUSE", REFERENCE),
]


async def _executed_book(tmp_path: Path, url: str) -> Path:
    """A book of ``ROWS`` planned and executed against the sandbox at ``url``."""
    path = sandbox_book(tmp_path / "book.xlsx", ROWS, lang="en", reason="IP complaint")
    await plan_and_execute(url, path)
    return path


def _journal(path: Path) -> Path:
    """The journal file of the book at ``path``."""
    return state_dir(path) / JOURNAL_NAME


def _intent(path: Path, item_id: str) -> dict[str, Any]:
    """The journal's first write intent for ``item_id``."""
    log = read_journal(_journal(path))
    return next(e for e in log.entries if e["type"] == "intent" and e["item_id"] == item_id)


async def _restore(url: str, path: Path) -> None:
    calls = CallLog()
    config = ClientConfig(api_url=url, rate=50.0)
    async with MeliClient(config, tokens=TOKEN_A, on_call=calls, rate=RateLimiter(math.inf)) as api:
        await run.restore(XlsxWorkbook.open(path), api, confirm=lambda counts: True, calls=calls)


async def test_execute_restore_and_a_second_execute_leave_a_clean_record(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = await _executed_book(tmp_path, served[0])
    make_report(path, languages=["en"])
    assert verify_record(path) == []
    set_actions(path, {0: "RESTORE"})
    await _restore(served[0], path)
    assert verify_record(path) == []
    set_actions(path, {0: "PAUSE"})
    await plan_and_execute(served[0], path)
    assert verify_record(path) == []
    make_report(path, languages=["en"])
    assert verify_record(path) == []


async def test_a_row_turned_ok_after_its_latest_write_failed_is_reported(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    """The pause succeeded; a later restore of the same row failed; the row is edited to say the
    restore worked. The earlier successful pause must not vouch for it."""
    path = await _executed_book(tmp_path, served[0])
    pause = _intent(path, T["active_mlm"])
    with Journal(_journal(path)) as journal:
        journal.append("run_start", run_id="restore-run", stage="restore")
        journal.append(
            "intent",
            write_id="restore-write",
            run_id="restore-run",
            row=pause["row"],
            item_id=T["active_mlm"],
            op="activate",
            status_before="paused",
        )
        journal.append(
            "outcome",
            write_id="restore-write",
            run_id="restore-run",
            ok=False,
            code="X302",
            item_id=T["active_mlm"],
            request_id="rq-restore-failed",
        )
        journal.append("run_end", run_id="restore-run", stage="restore")
    _set_cells(path, 0, {"result": "OK", "code": "X311", "status_after": "active"})
    kinds = [p.kind for p in verify_record(path)]
    assert ProblemKind.ROW_WITHOUT_JOURNAL in kinds


async def test_a_row_turned_ok_after_its_read_back_disagreed_is_reported(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = await _executed_book(tmp_path, served[0])
    pause = _intent(path, T["active_mco"])
    with Journal(_journal(path)) as journal:
        # A later read-back of the same write saw the listing active again.
        journal.append(
            "verify", write_id=pause["write_id"], run_id=pause["run_id"], ok=False, status_seen="active"
        )
    _set_cells(path, 2, {"result": "OK", "code": "X300", "status_after": "paused"})
    kinds = [p.kind for p in verify_record(path)]
    assert ProblemKind.ROW_WITHOUT_JOURNAL in kinds


async def test_evidence_altered_with_its_checksum_is_caught_by_the_appeal_pack_copy(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = await _executed_book(tmp_path, served[0])
    make_report(path, languages=["en"])
    assert verify_record(path) == []
    evidence = SnapshotStore(state_dir(path), "reader", area=EVIDENCE_DIR).find(T["under_review_held"])
    assert evidence is not None
    data = json.loads(evidence.read_text(encoding="utf-8"))
    data["item"]["status"] = "active"  # "it was never under review"
    body = json.dumps(data).encode("utf-8")
    evidence.write_bytes(body)
    sha = evidence.with_name(evidence.name + ".sha256")
    sha.write_text(
        sha.read_text(encoding="utf-8").replace(sha.read_text().split()[0], hashlib.sha256(body).hexdigest())
    )
    kinds = [p.kind for p in verify_record(path)]
    assert ProblemKind.SNAPSHOT_ALTERED in kinds


async def test_a_snapshot_rewritten_with_its_checksum_is_caught_by_the_journal(
    tmp_path: Path, served: tuple[str, World]
) -> None:
    path = await _executed_book(tmp_path, served[0])
    assert verify_record(path) == []
    snapshot = SnapshotStore(state_dir(path), "reader").find(T["active_mlm"])
    assert snapshot is not None
    intents = [e for e in read_journal(_journal(path)).entries if e.get("type") == "intent"]
    assert any(e.get("snapshot") == snapshot.name and e.get("snapshot_sha256") for e in intents)
    # Someone "improves" the evidence and recomputes its checksum file to match.
    doc = json.loads(snapshot.read_bytes())
    doc["item"]["title"] = "Something else entirely"
    body = json.dumps(doc).encode()
    snapshot.write_bytes(body)
    sha = snapshot.with_name(snapshot.name + ".sha256")
    sha.write_text(f"{hashlib.sha256(body).hexdigest()}  {snapshot.name}\n", encoding="ascii")
    problems = verify_record(path)
    assert any(
        p.kind is ProblemKind.SNAPSHOT_ALTERED and "journal recorded" in str(p) and snapshot.name in str(p)
        for p in problems
    ), problems
