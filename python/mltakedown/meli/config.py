"""Client configuration, read from the environment (``ClientConfig.from_env``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from mltakedown.meli.constants import DEFAULT_API_URL, DEFAULT_RATE, DEFAULT_TIMEOUT

__all__ = ["ClientConfig"]


@dataclass(frozen=True)
class ClientConfig:
    """Where the API is, how fast to call it, and (optionally) the credentials to use.

    Secrets are excluded from ``repr`` so a config can be logged safely.
    """

    api_url: str = DEFAULT_API_URL
    """Base URL of the API (the sandbox's URL in tests and demos)."""
    access_token: str | None = field(default=None, repr=False)
    """A ready access token for scripted use: no refresh, a 401 fails at once."""
    rate: float = DEFAULT_RATE
    """Client-side limit in requests per second, shared by every call of the application."""
    client_id: str | None = None
    """The application's client id (also the key of the shared rate limiter)."""
    client_secret: str | None = field(default=None, repr=False)
    """The application's secret, needed for code exchange and refresh."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds per HTTP attempt (connect, read, write and pool each)."""

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate must be > 0 requests/s, got {self.rate!r}")
        if not self.api_url.startswith(("http://", "https://")):
            raise ValueError(f"api_url must be an http(s) URL, got {self.api_url!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientConfig:
        """Read ``MLTAKEDOWN_API_URL``, ``MLTAKEDOWN_ACCESS_TOKEN``, ``MLTAKEDOWN_RATE``,
        ``MLTAKEDOWN_CLIENT_ID`` and ``MLTAKEDOWN_CLIENT_SECRET`` (empty values count as unset)."""
        source = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = source.get(name, "").strip()
            return value or None

        rate_text = get("MLTAKEDOWN_RATE")
        try:
            rate = float(rate_text) if rate_text else DEFAULT_RATE
        except ValueError as exc:
            raise ValueError(f"MLTAKEDOWN_RATE must be a number, got {rate_text!r}") from exc
        return cls(
            api_url=(get("MLTAKEDOWN_API_URL") or DEFAULT_API_URL).rstrip("/"),
            access_token=get("MLTAKEDOWN_ACCESS_TOKEN"),
            rate=rate,
            client_id=get("MLTAKEDOWN_CLIENT_ID"),
            client_secret=get("MLTAKEDOWN_CLIENT_SECRET"),
        )
