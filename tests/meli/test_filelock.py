"""The OS file lock behind cross-process token refreshes: exclusion, timeout, cancellation,
lock file names and where ``TokenManager`` puts them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mltakedown.meli import FileTokenStore, OAuthApp, TokenError, TokenManager, TokenSet
from mltakedown.meli.filelock import FileLock, lock_file_name


async def test_a_second_holder_waits_until_the_first_releases(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "a.lock"  # the folder is created on first use
    first, second = FileLock(path), FileLock(path, poll_s=0.005)
    await first.acquire()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    tick_task = asyncio.create_task(ticker())
    waiter = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.1)
    assert not waiter.done()  # flock excludes even a second open in the same process
    assert ticks > 5  # the wait happens in a thread: the event loop kept running
    first.release()
    await asyncio.wait_for(waiter, 5)
    assert second.held and not first.held
    second.release()
    tick_task.cancel()


async def test_waiting_too_long_is_a_clear_token_error(tmp_path: Path) -> None:
    path = tmp_path / "a.lock"
    async with FileLock(path):
        with pytest.raises(TokenError) as caught:
            await FileLock(path, timeout_s=0.05, poll_s=0.01).acquire()
    assert caught.value.code == "token_lock_timeout"
    assert str(path) in str(caught.value)


async def test_a_cancelled_waiter_never_keeps_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "a.lock"
    holder, cancelled = FileLock(path), FileLock(path, poll_s=0.005)
    await holder.acquire()
    waiter = asyncio.create_task(cancelled.acquire())
    await asyncio.sleep(0.05)
    waiter.cancel()
    holder.release()  # the abandoned thread may still be polling: it must give up, not take it
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.sleep(0.05)
    async with FileLock(path, timeout_s=1.0) as third:
        assert third.held and not cancelled.held


async def test_the_lock_is_not_reentrant_on_one_instance(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "a.lock")
    async with lock:
        with pytest.raises(RuntimeError):
            await lock.acquire()
    lock.release()  # releasing twice is harmless


def test_lock_file_names_are_safe_and_distinct() -> None:
    names = [lock_file_name(a) for a in ["acme", "ACME", "a/b", "a_b", "", "ñandú:1"]]
    assert len(set(names)) == len(names)
    assert all(n.startswith("refresh-") and n.endswith(".lock") for n in names)
    assert all(c.isalnum() or c in "._-" for n in names for c in n)
    assert lock_file_name("acme") == lock_file_name("acme")


class MemoryStore:
    """A token store that is not a file (like the keyring)."""

    def __init__(self) -> None:
        self.saved: dict[str, TokenSet] = {}

    def load(self, alias: str) -> TokenSet | None:
        return self.saved.get(alias)

    def save(self, alias: str, tokens: TokenSet) -> None:
        self.saved[alias] = tokens

    def delete(self, alias: str) -> None:
        self.saved.pop(alias, None)

    def aliases(self) -> list[str]:
        return sorted(self.saved)


def test_lock_files_live_beside_the_token_file_or_in_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = OAuthApp("app", "secret", "https://example.test/cb")
    beside = TokenManager(FileTokenStore(tmp_path / "store" / "tokens.json"), "acme", app)
    assert beside.lock_path() == tmp_path / "store" / lock_file_name("acme")
    monkeypatch.setenv("MLTAKEDOWN_CONFIG_DIR", str(tmp_path / "config"))
    keyring_like = TokenManager(MemoryStore(), "acme", app)
    assert keyring_like.lock_path() == tmp_path / "config" / lock_file_name("acme")
    chosen = TokenManager(MemoryStore(), "acme", app, lock_dir=tmp_path / "x")
    assert chosen.lock_path().parent == tmp_path / "x"
