"""Token stores: 0600 JSON file round trip, keyring use and fallback."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from mltakedown.meli import (
    FileTokenStore,
    KeyringTokenStore,
    TokenError,
    TokenSet,
    config_dir,
    default_token_store,
    keyring_usable,
)

TOKENS = TokenSet(
    access_token="APP_USR-1",
    refresh_token="TG-1",
    expires_at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
    user_id=1001,
    scope="offline_access read write",
)


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.data:
            raise PasswordDeleteError(username)
        del self.data[(service, username)]


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    original = keyring.get_keyring()
    yield
    keyring.set_keyring(original)


def test_config_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLTAKEDOWN_CONFIG_DIR", str(tmp_path / "cfg"))
    assert config_dir() == tmp_path / "cfg"
    assert FileTokenStore().path == tmp_path / "cfg" / "tokens.json"


def test_file_store_round_trip_and_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLTAKEDOWN_CONFIG_DIR", str(tmp_path / "cfg"))
    store = FileTokenStore()
    assert store.load("acme") is None
    assert store.aliases() == []
    store.save("acme", TOKENS)
    store.save("beta", TokenSet("APP_USR-2", None))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load("acme") == TOKENS
    assert store.aliases() == ["acme", "beta"]
    store.delete("acme")
    store.delete("missing")
    assert store.aliases() == ["beta"]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert list(store.path.parent.glob(".tokens-*")) == []  # no temp files left behind


def test_file_store_corrupt_file_is_a_token_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(TokenError):
        FileTokenStore(path).load("acme")


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), chainer.ChainerBackend()],  # type: ignore[no-untyped-call]
)
def test_unusable_keyrings_fall_back_to_file(
    backend: KeyringBackend, restore_keyring: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLTAKEDOWN_CONFIG_DIR", str(tmp_path))
    if isinstance(backend, chainer.ChainerBackend):
        monkeypatch.setattr(chainer.ChainerBackend, "backends", property(lambda self: []))
    keyring.set_keyring(backend)
    assert keyring_usable() is False
    store = default_token_store()
    assert isinstance(store, FileTokenStore)
    store.save("acme", TOKENS)
    assert store.load("acme") == TOKENS


def test_usable_keyring_is_preferred(restore_keyring: None) -> None:
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    assert keyring_usable() is True
    store = default_token_store()
    assert isinstance(store, KeyringTokenStore)
    store.save("acme", TOKENS)
    store.save("beta", TOKENS)
    assert store.load("acme") == TOKENS
    assert store.aliases() == ["acme", "beta"]
    store.delete("acme")
    assert store.load("acme") is None
    assert store.aliases() == ["beta"]
    assert all("APP_USR-1" not in key for _, key in memory.data)


def test_keyring_failure_is_a_token_error(restore_keyring: None) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    with pytest.raises(TokenError):
        KeyringTokenStore().save("acme", TOKENS)
