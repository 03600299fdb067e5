"""The journal: hash chain, per-write state, torn tails, the run lock, snapshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mltakedown.engine.journal import (
    GENESIS,
    Journal,
    JournalLocked,
    RunLock,
    open_run,
    read_journal,
    state_dir,
    write_id,
)
from mltakedown.engine.snapshots import SnapshotError, SnapshotStore, load_snapshot


def _journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j" / "journal.jsonl")


def test_state_dir_sits_beside_the_workbook(tmp_path: Path) -> None:
    assert state_dir(tmp_path / "Takedown May.xlsm") == tmp_path / "Takedown May.mltakedown"


def test_write_id_is_stable_and_distinguishes_writes() -> None:
    a = write_id("plan1", 5, "MLM1", "pause")
    assert a == write_id("plan1", 5, "MLM1", "pause")
    assert (
        len(
            {
                a,
                write_id("plan2", 5, "MLM1", "pause"),
                write_id("plan1", 6, "MLM1", "pause"),
                write_id("plan1", 5, "MLM1", "pause_ad", "AG1"),
            }
        )
        == 4
    )


def test_each_line_chains_to_the_previous_one(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        journal.append("run_start", run_id="r1")
        journal.append("intent", write_id="w1", item_id="MLM1")
        journal.append("outcome", write_id="w1", ok=True)
    raw = (tmp_path / "j" / "journal.jsonl").read_bytes().split(b"\n")
    assert raw[-1] == b""
    first, second = json.loads(raw[0]), json.loads(raw[1])
    assert first["prev"] == GENESIS
    import hashlib

    assert second["prev"] == hashlib.sha256(raw[0]).hexdigest()
    log = read_journal(tmp_path / "j" / "journal.jsonl")
    assert log.chain_ok and not log.problems
    assert [e["type"] for e in log.entries] == ["run_start", "intent", "outcome"]


def test_a_reopened_journal_continues_the_chain(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        journal.append("run_start", run_id="r1")
    with _journal(tmp_path) as journal:
        journal.append("run_start", run_id="r2")
    assert read_journal(tmp_path / "j" / "journal.jsonl").chain_ok


@pytest.mark.parametrize("tamper", ["edit", "remove", "insert"])
def test_a_changed_removed_or_inserted_line_breaks_the_chain(tmp_path: Path, tamper: str) -> None:
    path = tmp_path / "j" / "journal.jsonl"
    with _journal(tmp_path) as journal:
        for n in range(4):
            journal.append("intent", write_id=f"w{n}", item_id=f"MLM{n}")
    lines = path.read_bytes().split(b"\n")[:-1]
    if tamper == "edit":
        lines[1] = lines[1].replace(b"MLM1", b"MLM9")
    elif tamper == "remove":
        del lines[1]
    else:
        lines.insert(2, lines[1])
    path.write_bytes(b"\n".join(lines) + b"\n")
    log = read_journal(path)
    assert not log.chain_ok
    if tamper == "edit":
        assert log.broken_at == [3]  # the line after the edited one no longer matches it
    assert any("chain broken" in p for p in log.problems)


def test_states_follow_the_latest_intent(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        journal.append("intent", write_id="a", item_id="MLM1")
        journal.append("outcome", write_id="a", ok=False, code="X305")
        journal.append("intent", write_id="b", item_id="MLM2")
        journal.append("intent", write_id="a", item_id="MLM1")  # a re-run sends it again
        journal.append("outcome", write_id="b", ok=True)
        journal.append("verify", write_id="b", ok=True)
    states = read_journal(tmp_path / "j" / "journal.jsonl").states()
    assert states["a"].in_flight and states["a"].attempts == 2
    assert states["b"].succeeded and states["b"].verify is not None


def test_a_torn_last_line_is_set_aside_and_the_chain_continues(tmp_path: Path) -> None:
    path = tmp_path / "j" / "journal.jsonl"
    with _journal(tmp_path) as journal:
        journal.append("intent", write_id="a", item_id="MLM1")
    with path.open("ab") as handle:
        handle.write(b'{"type":"outcome","write_id":"a","ok":tr')  # power cut mid-append
    log = read_journal(path)
    assert log.torn_tail and log.chain_ok
    with _journal(tmp_path) as journal:
        journal.append("outcome", write_id="a", ok=True)
    log = read_journal(path)
    assert log.chain_ok and not log.torn_tail
    assert log.states()["a"].succeeded
    torn = list(path.parent.glob("journal.torn-*"))
    assert len(torn) == 1 and torn[0].read_bytes().endswith(b"tr")


def test_unknown_entry_types_are_refused(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal, pytest.raises(ValueError):
        journal.append("gossip")


def test_a_second_run_on_the_same_workbook_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    with open_run(book, "r1"), pytest.raises(JournalLocked) as caught, open_run(book, "r2"):
        pass
    assert caught.value.holder["pid"] == os.getpid()
    with open_run(book, "r3"):  # released after the first run
        pass


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "book.mltakedown"
    folder.mkdir()
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead_pid = int(child.stdout)
    import socket

    (folder / "run.lock").write_text(json.dumps({"pid": dead_pid, "host": socket.gethostname()}))
    lock = RunLock(folder, run_id="r2")
    lock.acquire()
    assert lock.took_over is not None and lock.took_over["pid"] == dead_pid
    lock.release()
    assert not (folder / "run.lock").exists()


def test_a_lock_from_another_host_is_never_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "book.mltakedown"
    folder.mkdir()
    (folder / "run.lock").write_text(json.dumps({"pid": 1, "host": "some-other-laptop"}))
    with pytest.raises(JournalLocked):
        RunLock(folder).acquire()


def test_snapshot_is_taken_once_per_item_ever(tmp_path: Path) -> None:
    folder = tmp_path / "book.mltakedown"
    item = {
        "id": "MLM1",
        "site_id": "MLM",
        "status": "active",
        "price": 10.5,
        "available_quantity": 3,
        "listing_type_id": "gold_special",
        "title": "Cable",
        "sub_status": [],
        "variations": [{"id": 7, "available_quantity": 2}],
    }
    first = SnapshotStore(folder, "20260101T000000Z-aaaaaa", workbook_dir=tmp_path)
    row = first.ensure(item, ad_group_id="AG1", ad_status="active", row_number=4)
    assert row is not None and row.item_id == "MLM1" and row.file.endswith("MLM1.json")
    path = first.find("MLM1")
    assert path is not None
    sha_line = path.with_name("MLM1.json.sha256").read_text()
    assert sha_line.split()[0] == row.sha256
    # A later run finds it and does not take another (the evidence of the first state stays).
    later = SnapshotStore(folder, "20260202T000000Z-bbbbbb")
    assert later.ensure({**item, "status": "paused"}) is None
    snap = later.load("MLM1")
    assert snap is not None and snap.key["status"] == "active" and snap.key["ad_status"] == "active"
    assert snap.variation_quantity(7) == 2


def test_a_changed_snapshot_is_detected(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s", "r1")
    store.ensure({"id": "MLM1", "status": "active"})
    path = store.find("MLM1")
    assert path is not None
    path.write_text(path.read_text().replace("active", "paused"))
    with pytest.raises(SnapshotError, match="changed"):
        load_snapshot(path)


def test_an_empty_lock_is_stale_only_once_its_writer_had_time(tmp_path: Path) -> None:
    folder = tmp_path / "book.mltakedown"
    folder.mkdir()
    lock_file = folder / "run.lock"
    lock_file.write_text("")  # a run killed between creating and writing its lock
    old = lock_file.stat().st_mtime - 60
    os.utime(lock_file, (old, old))
    lock = RunLock(folder)
    lock.acquire()
    assert lock.took_over is not None and lock.took_over["pid"] == 0
    lock.release()
