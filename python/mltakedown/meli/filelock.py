"""An exclusive OS file lock that serialises token refreshes across processes.

Excel's ``RunPython`` and the CLI are separate processes that may refresh the same account at
the same moment; Mercado Libre's refresh token is single-use, so the loser would spend a dead
token (``invalid_grant``) and the account would need logging in again. An ``asyncio.Lock``
only covers one event loop, so :class:`TokenManager <mltakedown.meli.auth.TokenManager>` also
holds this lock (one lock file per account alias in the config directory) around
re-read → refresh → save.

* POSIX: ``fcntl.flock`` on the open file. The kernel drops the lock when the process dies, so a
  crash never leaves a stale lock behind (the file itself stays; its presence means nothing).
* Windows: ``msvcrt.locking`` on the first byte, likewise released when the handle closes.

The lock is polled without blocking (every ``poll_s``) from a worker thread, so the event loop
keeps running, waiting can time out with a clear error, and a cancelled waiter never ends up
holding a lock nobody will release.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from mltakedown.meli.errors import TokenError

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


__all__ = ["DEFAULT_LOCK_TIMEOUT", "FileLock", "hold_file_lock", "lock_file_name"]

DEFAULT_LOCK_TIMEOUT = 120.0
"""Seconds to wait for another process's refresh: far above one token call (30 s timeout)."""

DEFAULT_POLL = 0.02
"""Seconds between attempts while another process holds the lock."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def lock_file_name(alias: str) -> str:
    """A file name for ``alias`` that is safe on every OS and never shared by two aliases.

    Readable characters are kept for whoever looks in the folder; a short hash of the exact
    alias keeps ``a/b`` and ``a_b`` (or ``ACME`` and ``acme`` on a case-insensitive disk) apart.
    """
    digest = hashlib.sha256(alias.encode("utf-8")).hexdigest()[:12]
    readable = _UNSAFE.sub("_", alias)[:40] or "default"
    return f"refresh-{readable}-{digest}.lock"


class FileLock:
    """``async with FileLock(path):`` holds an exclusive lock on ``path`` across processes.

    Not re-entrant, and one instance guards one holder at a time (the caller serialises its own
    tasks, e.g. with an ``asyncio.Lock``): flock conflicts even between two opens in the same
    process, so a second holder would wait for the first.
    """

    def __init__(
        self, path: Path, *, timeout_s: float = DEFAULT_LOCK_TIMEOUT, poll_s: float = DEFAULT_POLL
    ) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"FileLock({str(self.path)!r}, held={self.held})"

    @property
    def held(self) -> bool:
        """Whether this instance holds the lock now."""
        return self._fd is not None

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise TokenError(
                f"cannot open the refresh lock {self.path}: {exc}", code="token_lock_error"
            ) from exc

    def _acquire_blocking(self, abandon: threading.Event, guard: threading.Lock) -> bool:
        """Poll until locked (True), abandoned by a cancelled waiter (False), or timed out (raise)."""
        fd = self._open()
        deadline = time.monotonic() + self.timeout_s
        try:
            while not abandon.is_set():
                if _try_lock(fd):
                    with guard:
                        if abandon.is_set():  # the waiter gave up while we were taking it
                            _unlock(fd)
                            break
                        self._fd = fd
                        return True
                if time.monotonic() >= deadline:
                    raise TokenError(
                        f"another process has held the refresh lock {self.path} for over "
                        f"{self.timeout_s:g} s; try again, or delete the lock file if no mltakedown "
                        "process is running",
                        code="token_lock_timeout",
                    )
                time.sleep(self.poll_s)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return False

    async def acquire(self) -> None:
        """Wait (in a worker thread, so the event loop keeps running) until the lock is held."""
        if self.held:
            raise RuntimeError(f"{self!r} is already held")
        abandon, guard = threading.Event(), threading.Lock()
        try:
            await asyncio.to_thread(self._acquire_blocking, abandon, guard)
        except asyncio.CancelledError:
            # The thread cannot be stopped from here: tell it to give up, and if it already
            # took the lock, give it back, so a cancelled caller never keeps other processes out.
            with guard:
                abandon.set()
                self.release()  # a no-op unless the thread took the lock meanwhile
            raise

    def release(self) -> None:
        """Give the lock back (closing the file also releases it, belt and braces)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    async def __aenter__(self) -> FileLock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


@contextmanager
def hold_file_lock(
    path: Path, *, timeout_s: float = DEFAULT_LOCK_TIMEOUT, poll_s: float = DEFAULT_POLL
) -> Iterator[None]:
    """Synchronously hold an exclusive OS lock on ``path`` for a short critical section.

    For read-modify-write cycles of small shared files (the token file holds every alias, so
    two processes saving different aliases at once would otherwise drop one of the saves).
    Blocks the calling thread; keep the section short.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise TokenError(f"cannot open the lock file {path}: {exc}", code="token_lock_error") from exc
    try:
        deadline = time.monotonic() + timeout_s
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise TokenError(
                    f"another process has held {path} for over {timeout_s:g} s; try again",
                    code="token_lock_timeout",
                )
            time.sleep(poll_s)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
