"""Options of the sandbox: rate limit, faults, clocks and seeding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthErrorStyle = Literal["mixed", "legacy", "modern"]


@dataclass(frozen=True)
class SandboxOptions:
    """How the emulated API behaves.

    ``rate_per_second`` is the per-application token bucket (``None`` = unlimited);
    ``fail_rate`` the share of requests answered with a 500/502/503/504 before being processed;
    ``ghost_write_rate`` the share of writes that *are* applied but answered with a 504 (the
    "did it happen?" case a journal must reconcile); ``drop_rate`` the share of connections closed
    without a complete response; ``latency_ms`` a fixed delay per request.
    ``conflict_window_s``: a second write to the same item inside this window gets the 409
    optimistic-locking error (0 = off). ``token_ttl_s`` is the access-token lifetime.
    ``auth_error_style`` picks the 401 body: ``legacy`` (``invalid_token``), ``modern``
    (``{"code":"unauthorized"}``) or ``mixed`` (legacy for expired tokens, modern for unknown ones).
    ``seed`` drives every random choice so a run can be repeated exactly.
    """

    rate_per_second: float | None = None
    fail_rate: float = 0.0
    latency_ms: int = 0
    drop_rate: float = 0.0
    ghost_write_rate: float = 0.0
    conflict_window_s: float = 0.0
    token_ttl_s: int = 21600
    seed: int = 20260101
    extra_items: int = 0
    auth_error_style: AuthErrorStyle = "mixed"
