"""OAuth token sets and where they are kept: the OS keyring, else a 0600 JSON file.

Tokens never go into the workbook, logs or ``repr``. :func:`default_token_store` picks the
keyring when a real backend is available (the ``fail`` and ``null`` backends, and a chainer
with nothing behind it, do not count) and otherwise a JSON file in the user config directory
(``MLTAKEDOWN_CONFIG_DIR`` overrides it), written atomically with mode 0600.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import platformdirs

from mltakedown.fileio import write_atomic
from mltakedown.meli.errors import TokenError
from mltakedown.meli.filelock import hold_file_lock

__all__ = [
    "FileTokenStore",
    "KeyringTokenStore",
    "TokenSet",
    "TokenStore",
    "config_dir",
    "default_token_store",
    "keyring_usable",
]

KEYRING_SERVICE = "mltakedown"
_ALIAS_INDEX = "__aliases__"
TOKEN_FILE_NAME = "tokens.json"
STORE_LOCK_TIMEOUT = 15.0
"""Seconds to wait for another process's save (milliseconds of work); the wait blocks the thread."""


@dataclass(frozen=True)
class TokenSet:
    """The tokens of one account. ``repr`` hides the secrets."""

    access_token: str = field(repr=False)
    """``APP_USR-...``; sent as ``Authorization: Bearer``."""
    refresh_token: str | None = field(repr=False)
    """``TG-...``; single-use, rotated on every refresh."""
    expires_at: datetime | None = None
    """When the access token expires (UTC)."""
    user_id: int | None = None
    """The seller the tokens belong to."""
    scope: str | None = None
    """``offline_access read write``."""

    def __repr__(self) -> str:
        return (
            f"TokenSet(access_token='***', refresh_token={'***' if self.refresh_token else None!r}, "
            f"expires_at={self.expires_at!r}, user_id={self.user_id!r}, scope={self.scope!r})"
        )

    def expired(self, *, skew_seconds: float = 0.0, now: datetime | None = None) -> bool:
        """True when the access token is (or within ``skew_seconds`` will be) expired."""
        if self.expires_at is None:
            return False
        current = now or datetime.now(UTC)
        return current + timedelta(seconds=skew_seconds) >= self.expires_at

    @classmethod
    def from_oauth(cls, payload: dict[str, Any], *, now: datetime | None = None) -> TokenSet:
        """Build from a ``POST /oauth/token`` answer (``expires_in`` is honoured, not assumed)."""
        access = payload.get("access_token")
        if not isinstance(access, str) or not access:
            raise TokenError("token endpoint answer has no access_token", code="invalid_token_response")
        expires_in = payload.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            expires_at = (now or datetime.now(UTC)) + timedelta(seconds=float(expires_in))
        refresh = payload.get("refresh_token")
        user_id = payload.get("user_id")
        scope = payload.get("scope")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_at=expires_at,
            user_id=int(user_id) if isinstance(user_id, int | str) and str(user_id).isdigit() else None,
            scope=scope if isinstance(scope, str) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for a store."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "user_id": self.user_id,
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        """Inverse of :meth:`to_dict`."""
        expires = data.get("expires_at")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
            user_id=data.get("user_id"),
            scope=data.get("scope"),
        )


@runtime_checkable
class TokenStore(Protocol):
    """Where token sets live, one per account alias."""

    def load(self, alias: str) -> TokenSet | None:
        """The stored tokens of ``alias``, or None."""
        ...

    def save(self, alias: str, tokens: TokenSet) -> None:
        """Store (replace) the tokens of ``alias``; must be durable when it returns."""
        ...

    def delete(self, alias: str) -> None:
        """Forget ``alias`` (no error if absent)."""
        ...

    def aliases(self) -> list[str]:
        """Every stored alias, sorted."""
        ...


def config_dir() -> Path:
    """``MLTAKEDOWN_CONFIG_DIR`` if set, else platformdirs' user config dir for mltakedown."""
    override = os.environ.get("MLTAKEDOWN_CONFIG_DIR", "").strip()
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("mltakedown", appauthor=False))


class FileTokenStore:
    """All aliases in one JSON file with mode 0600, replaced atomically on every save.

    Readers need no lock (a save renames a complete file into place), but a save or delete is a
    read-modify-write of the whole file, so it runs under an OS lock on a sibling ``.lock`` file:
    otherwise Excel's Python refreshing one account while the CLI refreshes (or logs in) another
    could write back a copy without the other's rotated refresh token, whose old one is spent.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (config_dir() / TOKEN_FILE_NAME)

    @property
    def lock_path(self) -> Path:
        """The file whose OS lock serialises writers of :attr:`path`."""
        return self.path.with_name(f"{self.path.name}.lock")

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenError(f"cannot read token file {self.path}: {exc}", code="token_store_error") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TokenError(f"token file {self.path} is not valid JSON", code="token_store_error") from exc
        if not isinstance(data, dict):
            raise TokenError(f"token file {self.path} has an unexpected shape", code="token_store_error")
        return data

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True), mode=0o600)
        except OSError as exc:
            raise TokenError(f"cannot write token file {self.path}: {exc}", code="token_store_error") from exc

    def load(self, alias: str) -> TokenSet | None:
        """The stored tokens of ``alias``, or None."""
        entry = self._read().get(alias)
        return TokenSet.from_dict(entry) if entry else None

    def save(self, alias: str, tokens: TokenSet) -> None:
        """Replace the tokens of ``alias`` (fsync'd before returning)."""
        with hold_file_lock(self.lock_path, timeout_s=STORE_LOCK_TIMEOUT):
            data = self._read()
            data[alias] = tokens.to_dict()
            self._write(data)

    def delete(self, alias: str) -> None:
        """Forget ``alias``."""
        with hold_file_lock(self.lock_path, timeout_s=STORE_LOCK_TIMEOUT):
            data = self._read()
            if data.pop(alias, None) is not None:
                self._write(data)

    def aliases(self) -> list[str]:
        """Every stored alias, sorted."""
        return sorted(self._read())


def keyring_usable() -> bool:
    """True when the active keyring backend can really store secrets."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null
    except Exception:  # keyring missing or broken at import time
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


class KeyringTokenStore:
    """One keyring entry per alias (JSON), plus an index entry because keyrings cannot list."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self.service = service

    def __repr__(self) -> str:
        return f"KeyringTokenStore({self.service!r})"

    def _get(self, key: str) -> str | None:
        import keyring

        try:
            value: str | None = keyring.get_password(self.service, key)
        except Exception as exc:
            raise TokenError(f"keyring read failed: {type(exc).__name__}", code="token_store_error") from exc
        return value

    def _set(self, key: str, value: str) -> None:
        import keyring

        try:
            keyring.set_password(self.service, key, value)
        except Exception as exc:
            raise TokenError(f"keyring write failed: {type(exc).__name__}", code="token_store_error") from exc

    def _delete(self, key: str) -> None:
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(self.service, key)
        except PasswordDeleteError:
            return
        except Exception as exc:
            raise TokenError(
                f"keyring delete failed: {type(exc).__name__}", code="token_store_error"
            ) from exc

    def load(self, alias: str) -> TokenSet | None:
        """The stored tokens of ``alias``, or None."""
        raw = self._get(alias)
        if raw is None:
            return None
        try:
            return TokenSet.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError(f"keyring entry for {alias!r} is corrupt", code="token_store_error") from exc

    def save(self, alias: str, tokens: TokenSet) -> None:
        """Replace the tokens of ``alias``."""
        if alias == _ALIAS_INDEX:
            raise ValueError(f"{_ALIAS_INDEX!r} is reserved")
        self._set(alias, json.dumps(tokens.to_dict()))
        names = set(self.aliases())
        if alias not in names:
            self._set(_ALIAS_INDEX, json.dumps(sorted(names | {alias})))

    def delete(self, alias: str) -> None:
        """Forget ``alias``."""
        self._delete(alias)
        names = set(self.aliases())
        if alias in names:
            self._set(_ALIAS_INDEX, json.dumps(sorted(names - {alias})))

    def aliases(self) -> list[str]:
        """Every stored alias, sorted."""
        raw = self._get(_ALIAS_INDEX)
        if not raw:
            return []
        try:
            names = json.loads(raw)
        except ValueError:
            return []
        return sorted(str(n) for n in names) if isinstance(names, list) else []


def default_token_store() -> TokenStore:
    """The keyring when a usable backend exists, else the 0600 JSON file."""
    if keyring_usable():
        return KeyringTokenStore()
    return FileTokenStore()
