"""Integrity of the record: do the workbook, the journal and the snapshots of a run agree?

The journal, the snapshots and the documents of one run share its run ID; each snapshot has its
SHA-256 written beside it (and copied into the Snapshots sheet); each journal line carries the
SHA-256 of the line before it; the Report sheet stamps the journal's last line when it is
written. :func:`verify_record` checks all of it and lists every disagreement:

* a snapshot changed after it was taken (its bytes no longer match its ``.sha256``), or changed
  together with its ``.sha256`` (they no longer match the hash the Snapshots sheet recorded), or
  missing though the journal or the sheet refers to it;
* a journal line changed, inserted, removed or moved (the ``prev`` chain breaks), or lines cut
  off the end after the Report sheet was written (the stamp no longer matches);
* an appeal pack's copy of a snapshot (``reports/<run>/appeals/<item>/``) that no longer matches
  the snapshot it was copied from: evidence rewritten together with its ``.sha256`` after the
  pack was made (Plan's evidence snapshots have no other recorded hash);
* a workbook row claiming a change was made that the journal does not back: no successful write
  of its item, or the latest write on it failed or was read back otherwise, or a request ID that
  is no successful write's;
* a successful listing write of the journal's last run (or of the runs it carried on after a
  crash) whose row says otherwise.

The journal reader and snapshot loader are the engine's own (:mod:`mltakedown.engine.journal`,
:mod:`mltakedown.engine.snapshots`), so "valid" means the same thing here as when a run starts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mltakedown.engine.journal import JOURNAL_NAME, JournalLog, WriteState, read_journal, state_dir
from mltakedown.engine.snapshots import EVIDENCE_DIR, SNAPSHOT_DIR, SnapshotError, load_snapshot
from mltakedown.report.collect import run_family
from mltakedown.report.workbook_read import SheetRow, WorkbookRecord, read_workbook_record

_DONE_RESULTS = frozenset({"OK", "WARNING"})
_AD_OPS = frozenset({"pause_ad", "restore_ad"})
REPORTS_DIR = "reports"
"""Where ``make_report`` writes documents by default (beside the journal)."""


class ProblemKind(StrEnum):
    """What kind of disagreement a :class:`Problem` is."""

    JOURNAL_MISSING = "journal_missing"
    JOURNAL_CHAIN = "journal_chain"
    JOURNAL_TRUNCATED = "journal_truncated"
    RUN_UNKNOWN = "run_unknown"
    SNAPSHOT_ALTERED = "snapshot_altered"
    SNAPSHOT_MISSING = "snapshot_missing"
    ROW_WITHOUT_JOURNAL = "row_without_journal"
    JOURNAL_ROW_MISMATCH = "journal_row_mismatch"


@dataclass(frozen=True, slots=True)
class Problem:
    """One disagreement in the record."""

    kind: ProblemKind
    where: str
    """The file and line, the snapshot, or the sheet row concerned."""
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind.value}] {self.where}: {self.detail}"


def _intent_row(state: WriteState) -> int:
    value = state.intent.get("row")
    return int(value) if isinstance(value, int | float) else 0


def _claims_done(row: SheetRow) -> bool:
    """The row says a change was made: a done result and a time or a resulting status."""
    if row.text("result").upper() not in _DONE_RESULTS:
        return False
    return bool(row.text("done_at_utc") or row.text("status_after") or row.text("new_item_id"))


def _item_matches(row: SheetRow, state: WriteState) -> bool:
    wanted = row.text("item_id")
    if not wanted:
        return True
    outcome = state.outcome or {}
    return wanted in {str(state.intent.get("item_id") or ""), str(outcome.get("new_item_id") or "")}


def _check_snapshot_file(path: Path, folder: Path) -> list[Problem]:
    """One snapshot file: its bytes match its ``.sha256``, and it sits where its run and item say."""
    where = _rel(path, folder)
    try:
        snapshot = load_snapshot(path)
    except SnapshotError as exc:
        return [Problem(ProblemKind.SNAPSHOT_ALTERED, where, str(exc))]
    except (ValueError, KeyError) as exc:
        return [Problem(ProblemKind.SNAPSHOT_ALTERED, where, f"not a snapshot: {exc}")]
    if (snapshot.run_id, snapshot.item_id) != (path.parent.name, path.stem):
        # Moved or renamed (with its checksum): the run ID or item it names is not its place.
        return [
            Problem(
                ProblemKind.SNAPSHOT_ALTERED,
                where,
                f"records run {snapshot.run_id} and item {snapshot.item_id}, "
                "but sits in another run's or item's place",
            )
        ]
    return []


def _check_journal_hashes(folder: Path, hashes: dict[str, str]) -> list[Problem]:
    """Each pre-write snapshot against the SHA-256 its intent recorded in the hash-chained journal:
    catches a snapshot rewritten together with its ``.sha256`` file (and the Snapshots sheet)."""
    problems: list[Problem] = []
    root = folder / SNAPSHOT_DIR
    for name, recorded in sorted(hashes.items()):
        for path in sorted(root.glob(f"*/{name}")) if root.is_dir() else []:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
            if actual != recorded.lower():
                problems.append(
                    Problem(
                        ProblemKind.SNAPSHOT_ALTERED,
                        _rel(path, folder),
                        "differs from the SHA-256 the journal recorded when the snapshot was taken",
                    )
                )
            break  # the first (oldest) snapshot of an item is the one the journal names
    return problems


def _check_snapshots(folder: Path, record: WorkbookRecord, names_in_journal: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    on_disk: dict[str, Path] = {}
    for area in (SNAPSHOT_DIR, EVIDENCE_DIR):
        root = folder / area
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*/*.json")):
            if area == SNAPSHOT_DIR:
                on_disk.setdefault(path.name, path)
            problems += _check_snapshot_file(path, folder)
        for sha in sorted(root.glob("*/*.json.sha256")):
            if not sha.with_name(sha.name.removesuffix(".sha256")).is_file():
                problems.append(
                    Problem(
                        ProblemKind.SNAPSHOT_MISSING, _rel(sha, folder), "checksum present, snapshot removed"
                    )
                )
    problems += _check_pack_copies(folder)
    for name in sorted(names_in_journal - set(on_disk)):
        problems.append(
            Problem(ProblemKind.SNAPSHOT_MISSING, f"{SNAPSHOT_DIR}/*/{name}", "the journal refers to it")
        )
    for row in record.snapshots:
        file, recorded = row.text("file"), row.text("sha256").lower()
        if not file or not recorded:
            continue
        path = record.path.parent / file
        where = f"Snapshots sheet row {row.row}"
        if not path.is_file():
            problems.append(Problem(ProblemKind.SNAPSHOT_MISSING, where, f"{file} does not exist"))
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != recorded:
            problems.append(
                Problem(
                    ProblemKind.SNAPSHOT_ALTERED,
                    where,
                    f"{file} no longer matches the SHA-256 the workbook recorded when it was taken",
                )
            )
    return problems


def _check_pack_copies(folder: Path) -> list[Problem]:
    """Each snapshot copied into an appeal pack must still match its copy, byte for byte."""
    problems: list[Problem] = []
    for copy in sorted((folder / REPORTS_DIR).glob("*/appeals/*/*.json")):
        try:
            copied = load_snapshot(copy)
        except SnapshotError as exc:
            problems.append(Problem(ProblemKind.SNAPSHOT_ALTERED, _rel(copy, folder), str(exc)))
            continue
        except (ValueError, KeyError):
            continue  # not a snapshot copy
        sources = [folder / area / copied.run_id / copy.name for area in (SNAPSHOT_DIR, EVIDENCE_DIR)]
        if not any(source.is_file() for source in sources):
            problems.append(
                Problem(
                    ProblemKind.SNAPSHOT_MISSING,
                    _rel(copy, folder),
                    f"the appeal pack keeps a copy, but the snapshot of run {copied.run_id} is gone",
                )
            )
        for source in sources:
            if source.is_file() and hashlib.sha256(source.read_bytes()).hexdigest() != copied.sha256:
                problems.append(
                    Problem(
                        ProblemKind.SNAPSHOT_ALTERED,
                        _rel(source, folder),
                        f"differs from the copy in the appeal pack {_rel(copy, folder)} "
                        "(changed after the pack was made)",
                    )
                )
    return problems


def _rel(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder.parent).as_posix()
    except ValueError:
        return path.as_posix()


def _check_stamp(journal_path: Path, record: WorkbookRecord, lines: list[bytes]) -> list[Problem]:
    if not record.report_journal_head or record.report_journal_lines <= 0:
        return []
    where = f"{journal_path.name} (Report sheet stamp)"
    count = record.report_journal_lines
    if len(lines) < count:
        return [
            Problem(
                ProblemKind.JOURNAL_TRUNCATED,
                where,
                f"the Report sheet saw {count} lines; the journal now has {len(lines)}",
            )
        ]
    if hashlib.sha256(lines[count - 1]).hexdigest() != record.report_journal_head:
        return [
            Problem(ProblemKind.JOURNAL_CHAIN, where, f"line {count} is not the line the Report sheet saw")
        ]
    return []


def _positions(entries: list[dict[str, Any]]) -> dict[int, int]:
    """Each entry's place in the journal, by object identity (entries are the log's own dicts)."""
    return {id(entry): number for number, entry in enumerate(entries)}


def _latest_write(row: SheetRow, states: list[WriteState], positions: dict[int, int]) -> WriteState | None:
    """The row's most recent listing write (of its item), by where its outcome stands in the journal."""
    mine = [s for s in states if _item_matches(row, s)]
    listing = [s for s in mine if str(s.intent.get("op") or "") not in _AD_OPS] or mine
    answered = [s for s in listing if s.outcome is not None]
    if not answered:
        return None
    return max(answered, key=lambda s: positions.get(id(s.outcome), -1))


def _backing_problem(row: SheetRow, states: list[WriteState], positions: dict[int, int]) -> str:
    """Why the journal does not back a row that claims a done write ("" when it does)."""
    latest = _latest_write(row, states, positions)
    if latest is None or latest.outcome is None:
        return "the journal holds no successful write for it"
    if not latest.outcome.get("ok"):
        return f"the journal's latest write on it failed ({latest.outcome.get('code') or 'error'})"
    if latest.verify is not None and not latest.verify.get("ok"):
        return f"the journal's read-back showed {latest.verify.get('status_seen') or 'nothing'}"
    shown = set(row.text("request_id").replace(",", " ").split())
    recorded = {
        str(s.outcome.get("request_id"))
        for s in states
        if s.outcome is not None and s.outcome.get("ok") and s.outcome.get("request_id")
    }
    if shown and not shown & recorded:
        return f"its request ID {', '.join(sorted(shown))} is not a successful write's in the journal"
    return ""


def _shows_write_then_failure(row: SheetRow, state: WriteState) -> bool:
    """The row is FAILED yet shows the listing's status after this write: the listing changed and
    another write of the row (its ad, say) failed or was not sent, as the engine reports it."""
    if row.text("result").upper() != "FAILED" or not _item_matches(row, state):
        return False
    outcome, verify = state.outcome or {}, state.verify or {}
    seen = {str(outcome.get("status_after") or ""), str(verify.get("status_seen") or "")} - {""}
    return row.text("status_after") in seen


def _check_rows(record: WorkbookRecord, log: JournalLog) -> list[Problem]:
    problems: list[Problem] = []
    states = log.states()
    positions = _positions(log.entries)
    by_number: dict[int, list[WriteState]] = {}
    for state in states.values():
        by_number.setdefault(_intent_row(state), []).append(state)
    by_row = {row.row: row for row in record.rows}
    sheet = record.path.name
    for row in record.rows:
        if not _claims_done(row):
            continue
        why = _backing_problem(row, by_number.get(row.row, []), positions)
        if why:
            problems.append(
                Problem(
                    ProblemKind.ROW_WITHOUT_JOURNAL,
                    f"{sheet} Takedown row {row.row}",
                    f"says {row.text('result')} {row.text('code')} for {row.text('item_id') or '?'}, but {why}",
                )
            )
    # The rows show the outcomes of the last run that wrote them back: every successful listing
    # write of the journal's last run (and of the runs it carried on) must show as done. An older
    # run's rows may since have been rewritten (a second Execute skips what is already down).
    runs = [str(entry.get("run_id") or "") for entry in log.runs()]
    family = run_family(log, runs[-1]) if runs else set()
    for state in states.values():
        outcome = state.outcome or {}
        if not state.succeeded or outcome.get("run_id") not in family:
            continue
        if str(state.intent.get("op") or "") in _AD_OPS:
            continue  # the row reports its listing write; an ad write rides along
        if state.verify is not None and not state.verify.get("ok"):
            continue  # the read-back disagreed: the row rightly shows a failure
        number = _intent_row(state)
        found = by_row.get(number)
        if found is not None and _shows_write_then_failure(found, state):
            continue
        if found is None or not _claims_done(found) or not _item_matches(found, state):
            shown = (
                "no such row"
                if found is None
                else f"{found.text('result') or 'no result'} {found.text('code')}"
            )
            problems.append(
                Problem(
                    ProblemKind.JOURNAL_ROW_MISMATCH,
                    f"{sheet} Takedown row {number}",
                    f"the journal records a successful {state.intent.get('op')} of "
                    f"{state.intent.get('item_id')} in run {outcome.get('run_id')}, but the row shows {shown}",
                )
            )
    return problems


def verify_record(workbook_path: Path) -> list[Problem]:
    """Every disagreement between the workbook, its journal and its snapshots (empty: all agree)."""
    record = read_workbook_record(workbook_path)
    folder = state_dir(workbook_path)
    journal_path = folder / JOURNAL_NAME
    problems: list[Problem] = []
    if not journal_path.is_file():
        problems.append(
            Problem(ProblemKind.JOURNAL_MISSING, _rel(journal_path, folder), "no journal beside the workbook")
        )
    log = read_journal(journal_path)
    if log.torn_tail:
        problems.append(
            Problem(
                ProblemKind.JOURNAL_TRUNCATED,
                f"{JOURNAL_NAME} last line",
                "the last line is incomplete (cut off, or an append interrupted by a crash)",
            )
        )
    for number in log.broken_at:
        detail = next((p for p in log.problems if p.startswith(f"line {number}:")), "chain broken")
        problems.append(Problem(ProblemKind.JOURNAL_CHAIN, f"{JOURNAL_NAME} line {number}", detail))
    raw_lines = journal_path.read_bytes().split(b"\n")[:-1] if journal_path.is_file() else []
    problems += _check_stamp(journal_path, record, raw_lines)

    runs = [str(entry.get("run_id") or "") for entry in log.runs()]
    if record.report_run_id and record.report_run_id not in runs:
        problems.append(
            Problem(
                ProblemKind.RUN_UNKNOWN, "Report sheet", f"run {record.report_run_id} is not in the journal"
            )
        )
    names: set[str] = set()
    journal_hashes: dict[str, str] = {}
    for entry in log.entries:
        snapshot: Any = entry.get("snapshot")
        if entry.get("type") == "intent" and isinstance(snapshot, str) and snapshot:
            names.add(snapshot)
            recorded: Any = entry.get("snapshot_sha256")
            if isinstance(recorded, str) and recorded:
                journal_hashes.setdefault(snapshot, recorded)
    problems += _check_snapshots(folder, record, names)
    problems += _check_journal_hashes(folder, journal_hashes)
    problems += _check_rows(record, log)
    return problems
