"""The write journal: an append-only, hash-chained JSONL file beside the workbook.

Every write Execute or Restore makes is recorded twice: an ``intent`` *before* the request is
sent (flushed to disk with ``fsync``) and an ``outcome`` after the answer. A ``verify`` entry
records what the read-back saw, and ``run_start`` / ``run_end`` frame each run. A run killed at
any point (kill -9, power loss) therefore leaves either no intent (nothing was sent), an intent
without outcome (the write may or may not have reached Mercado Libre: :mod:`.reconcile` reads the
live state to find out), or a complete record.

Each line carries ``prev``: the SHA-256 of the previous line's bytes (without its newline; the
first line has 64 zeros), so a changed, inserted or removed line is detected by :func:`read_journal`.

A lock file (``run.lock``) keeps two runs on one workbook from overlapping; a lock left behind
by a killed process is recognised as stale because its PID is no longer alive.

Layout (ARCHITECTURE.md §4): ``X.xlsm`` → ``X.mltakedown/journal.jsonl``, ``X.mltakedown/run.lock``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

JOURNAL_NAME: Final = "journal.jsonl"
LOCK_NAME: Final = "run.lock"
LOCK_WRITE_GRACE_S: Final = 2.0
"""How long a lock file may stay empty while its creator writes it before it counts as stale."""
LOCK_WAIT_S: Final = 2.0
"""How long to keep trying for a lock file that is being created or taken over right now."""
GENESIS: Final = "0" * 64
"""``prev`` of the first line."""

ENTRY_TYPES: Final = frozenset({"run_start", "intent", "outcome", "verify", "run_end"})


def state_dir(workbook: Path) -> Path:
    """The folder beside ``workbook`` that holds its journal, plan and snapshots."""
    return workbook.parent / f"{workbook.stem}.mltakedown"


def write_id(namespace: str, row_number: int, item_id: str, op: str, detail: str = "") -> str:
    """A stable identifier of one planned write.

    ``namespace`` is the plan id for Execute (or ``restore:<source write id>`` for Restore), so
    a re-run of the same plan finds the same ids in the journal and reconciles instead of
    writing again. ``detail`` tells apart two writes of one row (a variation id, an ad group).
    """
    text = "\x1f".join((namespace, str(row_number), item_id, op, detail))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _encode(entry: Mapping[str, Any]) -> bytes:
    # Sorted keys and compact separators: the bytes (and so the chain) do not depend on dict order.
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8"
    )


def _digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


class JournalError(RuntimeError):
    """The journal cannot be used (broken chain, unreadable)."""


class JournalLocked(JournalError):
    """Another live run holds the workbook's lock."""

    def __init__(self, holder: Mapping[str, Any]) -> None:
        self.holder = dict(holder)
        pid = holder.get("pid")
        host = holder.get("host", "?")
        since = holder.get("started_at", "?")
        super().__init__(f"another run is working on this workbook (pid {pid} on {host}, since {since})")


# --------------------------------------------------------------------------------------------
# Reading


@dataclass(slots=True)
class WriteState:
    """Everything the journal knows about one ``write_id``.

    ``intent`` is the latest intent; ``outcome`` and ``verify`` are only set when they were
    recorded *after* that intent (an older outcome belongs to an attempt that was superseded).
    """

    write_id: str
    intent: dict[str, Any]
    outcome: dict[str, Any] | None = None
    verify: dict[str, Any] | None = None
    attempts: int = 1

    @property
    def in_flight(self) -> bool:
        """An intent without an outcome: the write may or may not have been applied."""
        return self.outcome is None

    @property
    def succeeded(self) -> bool:
        """The write (or a reconciliation) reported success."""
        return self.outcome is not None and bool(self.outcome.get("ok"))


@dataclass(slots=True)
class JournalLog:
    """A journal as read back: its entries, the problems found, and the state per write."""

    path: Path
    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Human-readable findings: a broken chain, an unparseable line, a torn last line."""
    broken_at: list[int] = field(default_factory=list)
    """1-based line numbers whose ``prev`` does not match the line before them."""
    torn_tail: bool = False
    """The last line has no newline: a write interrupted by power loss (harmless; see Journal)."""
    last_digest: str = GENESIS

    @property
    def chain_ok(self) -> bool:
        """No line was changed, inserted or removed."""
        return not self.broken_at

    def states(self) -> dict[str, WriteState]:
        """The state of every write ever intended, by ``write_id``, in first-seen order."""
        states: dict[str, WriteState] = {}
        for entry in self.entries:
            kind = entry.get("type")
            wid = entry.get("write_id")
            if not isinstance(wid, str):
                continue
            if kind == "intent":
                previous = states.get(wid)
                if previous is None:
                    states[wid] = WriteState(wid, entry)
                else:
                    # A new attempt supersedes the old one's outcome and verification.
                    previous.intent = entry
                    previous.outcome = None
                    previous.verify = None
                    previous.attempts += 1
            elif kind == "outcome" and wid in states:
                states[wid].outcome = entry
            elif kind == "verify" and wid in states:
                states[wid].verify = entry
        return states

    def runs(self) -> list[dict[str, Any]]:
        """The ``run_start`` entries, oldest first."""
        return [e for e in self.entries if e.get("type") == "run_start"]


def read_journal(path: Path) -> JournalLog:
    """Read and check a journal file. A missing file reads as an empty, valid journal."""
    log = JournalLog(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return log
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    if tail:
        log.torn_tail = True
        log.problems.append(f"torn last line ({len(tail)} bytes, no newline): an interrupted append")
    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            log.problems.append(f"line {number}: not valid JSON")
            log.broken_at.append(number)
            prev = _digest(line)
            continue
        if not isinstance(entry, dict) or entry.get("type") not in ENTRY_TYPES:
            log.problems.append(f"line {number}: not a journal entry")
            log.broken_at.append(number)
        elif entry.get("prev") != prev:
            log.problems.append(f"line {number}: chain broken (a line before it was changed or removed)")
            log.broken_at.append(number)
        if isinstance(entry, dict):
            log.entries.append(entry)
        prev = _digest(line)
    log.last_digest = prev
    return log


# --------------------------------------------------------------------------------------------
# Writing


class Journal:
    """The append side of the journal. One instance per run; thread-safe.

    Opening moves a torn last line (an append cut by power loss) aside into
    ``journal.torn-<time>`` so the chain continues from the last complete line; the torn bytes
    are kept as evidence. An intent whose line was torn never had its write sent (the request
    goes out only after the intent's ``fsync`` returned), and a torn outcome leaves its intent
    in flight, which reconciliation resolves from live status.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        log = read_journal(path)
        if log.torn_tail:
            self._set_aside_torn_tail()
            log = read_journal(path)
        self.log = log
        self._prev = log.last_digest
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)

    def _set_aside_torn_tail(self) -> None:
        data = self.path.read_bytes()
        cut = data.rfind(b"\n") + 1
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.path.with_name(f"journal.torn-{stamp}").write_bytes(data[cut:])
        with open(self.path, "r+b") as handle:
            handle.truncate(cut)
            handle.flush()
            os.fsync(handle.fileno())

    def append(self, entry_type: str, **fields: Any) -> dict[str, Any]:
        """Append one entry and make it durable (one ``os.write`` and one ``fsync``).

        Returns the entry as written (with ``type``, ``at`` and ``prev``).
        """
        if entry_type not in ENTRY_TYPES:
            raise ValueError(f"unknown journal entry type {entry_type!r}")
        with self._lock:
            if self._fd is None:
                raise JournalError("journal is closed")
            entry: dict[str, Any] = {"type": entry_type, "at": _now(), **fields, "prev": self._prev}
            line = _encode(entry)
            # One write call per entry: O_APPEND makes it land whole at the end of the file.
            os.write(self._fd, line + b"\n")
            os.fsync(self._fd)
            self._prev = _digest(line)
            self.log.entries.append(entry)
            return entry

    def close(self) -> None:
        """Close the file (entries are already durable)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_O_BINARY: Final = getattr(os, "O_BINARY", 0)
"""Windows: no newline translation (the chain hashes raw bytes)."""


# --------------------------------------------------------------------------------------------
# The run lock


def _pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _pid_alive_windows(pid: int) -> bool:  # pragma: no cover - Windows only
    # os.kill(pid, 0) would *terminate* the process on Windows; ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
    process_query_limited_information = 0x1000
    still_active = 259
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return bool(code.value == still_active)
    finally:
        kernel32.CloseHandle(handle)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_os_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except PermissionError:
            return False  # held by another handle
        return True

    def _os_unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_os_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _os_unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def _guard(path: Path, deadline: float) -> Iterator[bool]:
    """Hold an OS lock on ``path`` for a moment; yields False if it stayed busy until ``deadline``.

    It makes "read the lock file, judge it stale, remove it, create ours" one step between
    processes. Without it two runs that find the same dead run's lock can both take it over:
    the slower one removes the file the faster one has just created. The kernel releases the
    guard when its process dies, so it never goes stale itself. Where the file system offers
    no such lock (some network shares), the lock file works on its own as before.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield True
        return
    try:
        while True:
            try:
                locked = _try_os_lock(fd)
            except OSError:
                yield True  # no OS locks here
                return
            if locked:
                break
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(0.02)
        try:
            yield True
        finally:
            _os_unlock(fd)
    finally:
        os.close(fd)


class RunLock:
    """An exclusive lock on one workbook's state folder, held for the length of a run.

    The lock file holds the owner's PID, host and start time. A lock whose PID is dead (the run
    was killed) on this host is stale and is taken over; a lock from another host is never taken
    over automatically (we cannot see its processes). Taking the lock (or taking a stale one
    over) happens under a short OS lock on ``run.lock.guard``, so two runs cannot both win.
    """

    def __init__(self, folder: Path, *, run_id: str = "", wait_s: float = LOCK_WAIT_S) -> None:
        self.path = folder / LOCK_NAME
        self.run_id = run_id
        self.wait_s = wait_s
        self._held = False
        self.took_over: dict[str, Any] | None = None
        """The stale holder's record when a dead run's lock was taken over."""

    def acquire(self) -> None:
        """Take the lock or raise :class:`JournalLocked`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": _now(),
            "run_id": self.run_id,
        }
        deadline = time.monotonic() + self.wait_s
        guard = self.path.with_name(LOCK_NAME + ".guard")
        while True:
            with _guard(guard, deadline) as guarded:
                if not guarded:
                    break  # another run is taking the lock right now
                if self._try_take(me):
                    return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        holder = self._read_holder() or {}
        raise JournalLocked(holder)

    def _try_take(self, me: Mapping[str, Any]) -> bool:
        """One attempt (under the guard): True when taken; raises when a live run holds it."""
        while True:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._read_holder()
                if holder is None:
                    # Vanished, or a run (of a version without the guard) is writing it now.
                    return False
                if self._is_stale(holder):
                    self.took_over = holder
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
                    continue
                raise JournalLocked(holder) from None
            try:
                os.write(fd, _encode(me))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._held = True
            return True

    def _read_holder(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            # Empty or partial: another run is between creating and writing it (wait), or one
            # was killed right there long ago (stale: PID 0 is never alive).
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return None
            if age < LOCK_WRITE_GRACE_S:
                return None
            return {"pid": 0, "host": socket.gethostname(), "started_at": "?"}
        return data if isinstance(data, dict) else {"pid": 0, "host": socket.gethostname()}

    @staticmethod
    def _is_stale(holder: Mapping[str, Any]) -> bool:
        if holder.get("host") != socket.gethostname():
            return False
        pid = holder.get("pid")
        return not isinstance(pid, int) or not _pid_alive(pid)

    def release(self) -> None:
        """Give the lock back (only if this object holds it)."""
        if self._held:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def open_run(workbook: Path, run_id: str) -> Iterator[tuple[Journal, RunLock]]:
    """Lock the workbook's state folder and open its journal for one run."""
    folder = state_dir(workbook)
    with RunLock(folder, run_id=run_id) as lock, Journal(folder / JOURNAL_NAME) as journal:
        yield journal, lock
