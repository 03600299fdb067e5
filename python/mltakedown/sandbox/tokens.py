"""OAuth state: access tokens, single-use rotating refresh tokens, authorization codes, PKCE."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from .clock import DAY, Clock
from .errors import ApiError, bad_request, envelope, invalid_grant

SCOPE = "offline_access read write"
REFRESH_TTL_S = 180 * DAY  # "about 6 months"
CODE_TTL_S = 600.0  # authorization codes are short-lived (10 minutes per community notes)

DEFAULT_CLIENT_ID = "sandbox-app"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback"


@dataclass
class AccessToken:
    """A bearer token and whom it speaks for."""

    token: str
    user_id: int
    client_id: str
    expires_at: float


@dataclass
class RefreshToken:
    """A refresh token; ``used`` once it has been exchanged (single use)."""

    token: str
    user_id: int
    client_id: str
    expires_at: float
    used: bool = False


@dataclass
class AuthorizationCode:
    """A code handed out by the authorization page, optionally bound to a PKCE challenge."""

    code: str
    user_id: int
    client_id: str
    redirect_uri: str | None
    challenge: str | None
    challenge_method: str
    expires_at: float
    used: bool = False


@dataclass
class TokenRegistry:
    """Every token the sandbox knows about."""

    clock: Clock
    ttl_s: int
    apps: dict[str, str] = field(default_factory=lambda: {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)

    def seed(self, access_token: str, refresh_token: str, user_id: int, client_id: str) -> None:
        """Install a fixed token pair (the ones printed by ``mltakedown sandbox``)."""
        now = self.clock.now()
        self.access[access_token] = AccessToken(access_token, user_id, client_id, now + self.ttl_s)
        self.refresh[refresh_token] = RefreshToken(refresh_token, user_id, client_id, now + REFRESH_TTL_S)

    def lookup(self, token: str) -> AccessToken | None:
        """The token record, expired or not (``None`` when unknown)."""
        return self.access.get(token)

    def is_expired(self, token: AccessToken) -> bool:
        """Whether the access token is past its lifetime."""
        return self.clock.now() >= token.expires_at

    def issue(self, user_id: int, client_id: str) -> dict[str, Any]:
        """Mint a new access/refresh pair and return the ``/oauth/token`` response body."""
        now = self.clock.now()
        access = f"APP_USR-{uuid.uuid4().hex[:16]}-{user_id}"
        refresh = f"TG-{uuid.uuid4().hex}-{user_id}"
        self.access[access] = AccessToken(access, user_id, client_id, now + self.ttl_s)
        self.refresh[refresh] = RefreshToken(refresh, user_id, client_id, now + REFRESH_TTL_S)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.ttl_s,
            "scope": SCOPE,
            "user_id": user_id,
            "refresh_token": refresh,
        }

    def issue_code(
        self,
        user_id: int,
        code_challenge: str | None = None,
        code_challenge_method: str = "S256",
        redirect_uri: str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> str:
        """Mint an authorization code as if the seller had approved the app."""
        code = f"TG-{uuid.uuid4().hex}-{user_id}"
        self.codes[code] = AuthorizationCode(
            code,
            user_id,
            client_id,
            redirect_uri,
            code_challenge,
            code_challenge_method,
            self.clock.now() + CODE_TTL_S,
        )
        return code

    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        """Serve ``POST /oauth/token`` (authorization_code or refresh_token grant)."""
        client_id = form.get("client_id", "")
        if not client_id or self.apps.get(client_id) != form.get("client_secret"):
            raise ApiError(400, envelope(400, "invalid_client", "invalid client_id or client_secret"))
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._grant_code(form, client_id)
        if grant_type == "refresh_token":
            return self._grant_refresh(form, client_id)
        raise bad_request(f"unsupported grant_type: {grant_type!r}", "unsupported_grant_type")

    def _grant_code(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        record = self.codes.get(form.get("code", ""))
        if record is None or record.used or record.client_id != client_id:
            raise invalid_grant()
        if self.clock.now() >= record.expires_at:
            raise invalid_grant()
        if record.redirect_uri is not None and form.get("redirect_uri") != record.redirect_uri:
            raise invalid_grant()
        if record.challenge is not None and not _pkce_ok(
            record.challenge, record.challenge_method, form.get("code_verifier")
        ):
            raise invalid_grant()
        record.used = True
        return self.issue(record.user_id, client_id)

    def _grant_refresh(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        record = self.refresh.get(form.get("refresh_token", ""))
        # Single use: a refresh token that was already exchanged is dead, even for its own app.
        if record is None or record.used or record.client_id != client_id:
            raise invalid_grant()
        if self.clock.now() >= record.expires_at:
            raise invalid_grant()
        record.used = True
        return self.issue(record.user_id, client_id)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _pkce_ok(challenge: str, method: str, verifier: str | None) -> bool:
    if not verifier:
        return False
    if method.upper() == "PLAIN":
        return verifier == challenge
    return pkce_challenge(verifier) == challenge
