"""The token file holds every alias: two writers saving different aliases at once must both land.

Excel's Python refreshing account A while the CLI refreshes (or logs in) account B is the case:
a lost save of a rotated refresh token loses the account (the old refresh token is spent).
"""

from __future__ import annotations

import multiprocessing
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mltakedown.meli import FileTokenStore, TokenSet
from mltakedown.meli.filelock import hold_file_lock


def tokens(name: str) -> TokenSet:
    return TokenSet(access_token=f"APP_USR-{name}", refresh_token=f"TG-{name}", user_id=1)


class SlowReader(FileTokenStore):
    """Signals after reading the file and then dawdles, widening the read-modify-write window."""

    def __init__(self, path: Path, has_read: threading.Event) -> None:
        super().__init__(path)
        self.has_read = has_read

    def _read(self) -> dict[str, dict[str, Any]]:
        data = super()._read()
        if not self.has_read.is_set():
            self.has_read.set()
            time.sleep(0.3)
        return data


def test_concurrent_saves_of_two_aliases_both_survive(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    FileTokenStore(path).save("a", tokens("A0"))
    a_has_read = threading.Event()
    errors: list[BaseException] = []

    def save_a() -> None:
        try:
            SlowReader(path, a_has_read).save("a", tokens("A1"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def save_b() -> None:
        try:
            assert a_has_read.wait(5)
            FileTokenStore(path).save("b", tokens("B1"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save_a), threading.Thread(target=save_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    store = FileTokenStore(path)
    assert store.aliases() == ["a", "b"]
    a, b = store.load("a"), store.load("b")
    assert a is not None and a.refresh_token == "TG-A1"
    assert b is not None and b.refresh_token == "TG-B1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _save_many(path: str, alias: str, count: int) -> None:
    store = FileTokenStore(Path(path))
    for i in range(count):
        store.save(alias, tokens(f"{alias}{i}"))


def test_two_processes_saving_in_a_loop_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_save_many, args=(str(path), alias, 60)) for alias in ("x", "y")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    store = FileTokenStore(path)
    x, y = store.load("x"), store.load("y")
    assert x is not None and x.refresh_token == "TG-x59"
    assert y is not None and y.refresh_token == "TG-y59"


def test_a_held_store_lock_times_out_clearly(tmp_path: Path) -> None:
    from mltakedown.meli import TokenError

    lock = tmp_path / "tokens.json.lock"
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with hold_file_lock(lock):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(5)
        with pytest.raises(TokenError) as caught, hold_file_lock(lock, timeout_s=0.1, poll_s=0.01):
            pass  # pragma: no cover - never entered
        assert caught.value.code == "token_lock_timeout"
    finally:
        release.set()
        thread.join(5)
    with hold_file_lock(lock, timeout_s=1):
        pass  # released by the holder: free again
