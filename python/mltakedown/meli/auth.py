"""OAuth 2.0 for Mercado Libre: authorization URL with PKCE, code exchange, refresh, and the
token providers the client asks for a bearer token.

The refresh token is single-use and rotates on every refresh (ml-api.md §1), so
:class:`TokenManager`:

* serialises refreshes per account alias with an ``asyncio.Lock`` (tasks of this process) and
  an OS file lock per alias in the config directory (other processes: Excel's ``RunPython``
  and the CLI may refresh the same account at the same moment; see :mod:`.filelock`);
* re-reads the store *inside* both locks: a caller that waited while another refreshed (in
  this process or another) finds a new access token there and uses it instead of spending
  the (now dead) old refresh token;
* saves the rotated token set *before* handing out the new access token, so a crash can never
  leave the only valid refresh token in memory;
* runs the locked refresh as its own task, shielded from the caller's cancellation: a caller
  cancelled mid-refresh (a sibling failed in a ``TaskGroup``, a timeout) must not abandon a
  refresh the server may already have answered, or the rotated refresh token is lost and the
  account has to be logged in again.

The token endpoint is retried on answers that prove nothing was spent (429, 503, connection not
opened) and on ambiguous ones too (500/502/504, a lost answer): if the first attempt did spend
the refresh token, its retry meets ``invalid_grant``, which is where giving up would have left
the account anyway, and if it did not, the run goes on instead of failing every remaining row.

:class:`StaticToken` wraps a token given directly (``MLTAKEDOWN_ACCESS_TOKEN``): it cannot
refresh, so a 401 fails at once with :class:`~mltakedown.meli.errors.AuthenticationError`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

import httpx

from mltakedown.meli.calls import CallRecord, OnCall
from mltakedown.meli.constants import DEFAULT_API_URL, TOKEN_EXPIRY_SKEW, TOKEN_MAX_RETRIES
from mltakedown.meli.errors import (
    APIConnectionError,
    APIError,
    TokenError,
    api_error_from_response,
    parse_error_body,
)
from mltakedown.meli.filelock import DEFAULT_LOCK_TIMEOUT, FileLock, lock_file_name
from mltakedown.meli.retry import RetryPolicy, parse_retry_after, should_retry_transport
from mltakedown.meli.tokens import FileTokenStore, TokenSet, TokenStore, config_dir
from mltakedown.meli.transport import map_transport_errors

__all__ = [
    "AUTH_HOSTS",
    "OAuthApp",
    "PKCEPair",
    "StaticToken",
    "TokenManager",
    "TokenProvider",
    "code_challenge",
    "generate_pkce",
]

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"

AUTH_HOSTS: dict[str, str] = {
    "MLA": "auth.mercadolibre.com.ar",
    "MLB": "auth.mercadolivre.com.br",
    "MLM": "auth.mercadolibre.com.mx",
    "MLC": "auth.mercadolibre.cl",
    "MCO": "auth.mercadolibre.com.co",
    "MLU": "auth.mercadolibre.com.uy",
    "MPE": "auth.mercadolibre.com.pe",
    "MEC": "auth.mercadolibre.com.ec",
    "MLV": "auth.mercadolibre.com.ve",
    "MCR": "auth.mercadolibre.co.cr",
    "MPA": "auth.mercadolibre.com.pa",
    "MRD": "auth.mercadolibre.com.do",
    "MBO": "auth.mercadolibre.com.bo",
    "MPY": "auth.mercadolibre.com.py",
    "MGT": "auth.mercadolibre.com.gt",
    "MHN": "auth.mercadolibre.com.hn",
    "MNI": "auth.mercadolibre.com.ni",
    "MSV": "auth.mercadolibre.com.sv",
}
"""Per-country authorization host (the token endpoint is always on the API host)."""


@dataclass(frozen=True)
class PKCEPair:
    """A PKCE code verifier and its S256 challenge."""

    verifier: str = field(repr=False)
    """Kept by the app and sent with the code exchange."""
    challenge: str
    """Sent in the authorization URL."""


def code_challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier``: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_pkce() -> PKCEPair:
    """A fresh verifier (86 unreserved characters, within RFC 7636's 43..128) and challenge."""
    verifier = secrets.token_urlsafe(64)
    return PKCEPair(verifier=verifier, challenge=code_challenge(verifier))


@dataclass(frozen=True)
class OAuthApp:
    """A registered Mercado Libre application."""

    client_id: str
    """The application id."""
    client_secret: str = field(repr=False)
    """The application secret."""
    redirect_uri: str
    """Must equal the redirect URI registered for the app."""
    site_id: str = "MLM"
    """Chooses the country's authorization host."""
    api_url: str = DEFAULT_API_URL
    """Token endpoint host, used when no HTTP client is passed in."""
    auth_host: str | None = None
    """Override of the authorization host (e.g. an emulator)."""
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_retries=TOKEN_MAX_RETRIES), repr=False, compare=False
    )
    """How often and how patiently a failed token call is tried again."""

    def authorization_url(self, state: str, code_challenge: str) -> str:
        """The URL the seller opens to grant access (authorization code + PKCE S256)."""
        host = self.auth_host or AUTH_HOSTS.get(self.site_id.upper())
        if host is None:
            raise ValueError(f"no authorization host known for site {self.site_id!r}")
        base = host if host.startswith(("http://", "https://")) else f"https://{host}"
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{base.rstrip('/')}/authorization?{query}"

    async def exchange_code(
        self,
        code: str,
        verifier: str,
        *,
        http: httpx.AsyncClient | None = None,
        on_call: OnCall | None = None,
    ) -> TokenSet:
        """Trade an authorization code (+ PKCE verifier) for a token set."""
        return await self._token_call(
            {
                "grant_type": "authorization_code",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
            http,
            on_call,
        )

    async def refresh(
        self, refresh_token: str, *, http: httpx.AsyncClient | None = None, on_call: OnCall | None = None
    ) -> TokenSet:
        """Spend ``refresh_token`` for a new token set (with a new refresh token).

        ``on_call`` sees every attempt (never the form: it holds the secrets)."""
        return await self._token_call(
            {
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "refresh_token": refresh_token,
            },
            http,
            on_call,
        )

    async def _token_call(
        self, form: dict[str, str], http: httpx.AsyncClient | None, on_call: OnCall | None
    ) -> TokenSet:
        if http is None:
            async with httpx.AsyncClient(base_url=self.api_url) as own:
                return await self._post_token(own, form, on_call)
        return await self._post_token(http, form, on_call)

    async def _post_token(
        self, http: httpx.AsyncClient, form: dict[str, str], on_call: OnCall | None
    ) -> TokenSet:
        grant = form["grant_type"]
        retries = 0
        lost_before = False  # an earlier attempt may have spent the code / refresh token
        while True:
            at, started = datetime.now(UTC), time.perf_counter()
            try:
                with map_transport_errors("POST", TOKEN_PATH):
                    # Parameters go in the form body, as ML recommends (never in the query string).
                    response = await http.post(TOKEN_PATH, data=form, headers={"accept": "application/json"})
            except APIConnectionError as exc:
                _report(on_call, at, started, retries + 1, None, None, exc.code)
                lost_before = lost_before or exc.request_sent
                if retries < self.retry.max_retries and should_retry_transport(exc, idempotent=True):
                    retries += 1
                    logger.warning("%s: %s, retry %d", grant, exc.code, retries)
                    await asyncio.sleep(self.retry.backoff(retries))
                    continue
                lost = (
                    " The answer was lost after sending; the old refresh token may be spent."
                    if lost_before
                    else ""
                )
                raise TokenError(
                    _redact(f"{grant} request failed: {exc.message}.{lost}", form),
                    code="token_endpoint_unreachable",
                ) from exc
            error_code = None
            if response.is_error:
                error_code = parse_error_body(
                    response.status_code, response.content, response.headers.get("content-type", "")
                ).error
            _report(
                on_call,
                at,
                started,
                retries + 1,
                response.status_code,
                response.headers.get("x-request-id"),
                error_code,
            )
            busy = response.status_code == 429 or response.status_code >= 500
            if busy and retries < self.retry.max_retries:
                retries += 1
                lost_before = lost_before or response.status_code not in (429, 503)
                delay = self.retry.delay(
                    retries,
                    status_code=response.status_code,
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                )
                logger.warning("%s: HTTP %d, retry %d in %.2fs", grant, response.status_code, retries, delay)
                await asyncio.sleep(delay)
                continue
            if response.is_error:
                raise _token_refused(grant, api_error_from_response(response), form, lost_before=lost_before)
            break
        try:
            payload: Any = response.json()
        except ValueError as exc:
            raise TokenError(f"{grant} answer is not JSON", code="invalid_token_response") from exc
        if not isinstance(payload, dict):
            raise TokenError(f"{grant} answer is not a JSON object", code="invalid_token_response")
        return TokenSet.from_oauth(payload)


def _report(
    on_call: OnCall | None,
    at: datetime,
    started: float,
    attempt: int,
    status: int | None,
    request_id: str | None,
    error: str | None,
) -> None:
    """Hand one token-endpoint attempt to the call hook (the Log sheet): no form, no secrets."""
    if on_call is None:
        return
    record = CallRecord(
        at=at,
        method="POST",
        path=TOKEN_PATH,
        status=status,
        request_id=request_id,
        duration_ms=round((time.perf_counter() - started) * 1000.0, 3),
        attempt=attempt,
        error=error,
    )
    try:
        on_call(record)
    except Exception:
        logger.exception("on_call hook failed for POST %s", TOKEN_PATH)


_SECRET_FORM_FIELDS = ("client_secret", "refresh_token", "code", "code_verifier")


def _redact(text: str, form: dict[str, str]) -> str:
    """``text`` with every secret we sent replaced by ``***`` (in case an answer echoes one)."""
    for name in _SECRET_FORM_FIELDS:
        value = form.get(name)
        if value:
            text = text.replace(value, "***")
    return text


def _token_refused(grant: str, api_error: APIError, form: dict[str, str], *, lost_before: bool) -> TokenError:
    """The :class:`TokenError` for a refused token call (its ``code`` is the API's ``invalid_*``).

    The API error stays attached as ``__cause__`` (status, code, request id), scrubbed of any
    secret the answer may echo, since tracebacks end up in the workbook's Log sheet.
    """
    api_error.message = _redact(api_error.message, form)
    api_error.args = (api_error.message,)
    api_error.body = None
    transient = api_error.status_code == 429 or api_error.status_code >= 500
    advice = "Try again later." if transient else "Re-authorise the account."
    lost = (
        " An earlier attempt got no usable answer and may have spent the token."
        if lost_before and not transient
        else ""
    )
    error = TokenError(
        f"{grant} refused: {api_error}.{lost} {advice}",
        code=api_error.error if api_error.error.startswith("invalid_") else "token_refused",
    )
    error.__cause__ = api_error
    return error


@runtime_checkable
class TokenProvider(Protocol):
    """What the client needs from a source of bearer tokens."""

    @property
    def can_refresh(self) -> bool:
        """Whether :meth:`refresh` can produce a new token."""
        ...

    async def access_token(self) -> str:
        """A currently valid access token."""
        ...

    async def refresh(self, stale: str | None) -> str:
        """A token newer than ``stale`` (the one the API just refused)."""
        ...


class StaticToken:
    """A fixed access token (``MLTAKEDOWN_ACCESS_TOKEN``); it cannot be refreshed."""

    can_refresh = False

    def __init__(self, token: str) -> None:
        if not token:
            raise TokenError("empty access token", code="no_token")
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken('***')"

    async def access_token(self) -> str:
        """The configured token."""
        return self._token

    async def refresh(self, stale: str | None) -> str:
        """Always fails: a static token has no refresh token."""
        raise TokenError(
            "the access token given directly (MLTAKEDOWN_ACCESS_TOKEN) was rejected and cannot be "
            "refreshed; provide a new token or log the account in",
            code="static_token_rejected",
        )


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _alias_lock(alias: str) -> asyncio.Lock:
    """One lock per alias per event loop (asyncio locks cannot cross loops)."""
    loop = asyncio.get_running_loop()
    per_loop = _locks.setdefault(loop, {})
    lock = per_loop.get(alias)
    if lock is None:
        lock = per_loop[alias] = asyncio.Lock()
    return lock


class TokenManager:
    """Hands out the access token of one account alias and refreshes it safely.

    ``http`` is the client used for the token endpoint; ``MeliClient`` fills it with its own
    client when left empty, so the sandbox and tests reach the same host.

    ``lock_dir`` holds the per-alias refresh lock files shared by every process; by default the
    folder of a :class:`FileTokenStore`'s file, else the config directory (``config_dir()``,
    read when a refresh happens so ``MLTAKEDOWN_CONFIG_DIR`` is honoured).
    """

    def __init__(
        self,
        store: TokenStore,
        alias: str,
        app: OAuthApp | None,
        http: httpx.AsyncClient | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        lock_dir: Path | None = None,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.store = store
        self.alias = alias
        self.app = app
        self.http = http
        self._now = now
        self._lock_dir = lock_dir
        self._lock_timeout_s = lock_timeout_s
        self._current: TokenSet | None = None
        self.on_call: OnCall | None = None
        """Sees every token-endpoint attempt (``MeliClient`` passes its own hook)."""
        self._inflight: set[asyncio.Future[str]] = set()  # strong refs: the loop keeps only weak ones
        self.refresh_count = 0
        """How many refresh calls this manager made (for tests and diagnostics)."""

    def __repr__(self) -> str:
        return f"TokenManager(alias={self.alias!r}, store={self.store!r})"

    @property
    def can_refresh(self) -> bool:
        """True when an OAuth app is configured."""
        return self.app is not None

    def use_http(self, http: httpx.AsyncClient) -> None:
        """Use ``http`` for the token endpoint unless a client was given explicitly."""
        if self.http is None:
            self.http = http

    def use_on_call(self, on_call: OnCall | None) -> None:
        """Report token-endpoint attempts to ``on_call`` unless a hook was given explicitly."""
        if self.on_call is None:
            self.on_call = on_call

    def lock_path(self) -> Path:
        """The file whose OS lock serialises this alias's refreshes across processes."""
        folder = self._lock_dir
        if folder is None:
            folder = self.store.path.parent if isinstance(self.store, FileTokenStore) else config_dir()
        return folder / lock_file_name(self.alias)

    def _load(self) -> TokenSet:
        tokens = self.store.load(self.alias)
        if tokens is None:
            raise TokenError(
                f"no tokens stored for account {self.alias!r}; log the account in first",
                code="no_token",
                alias=self.alias,
            )
        return tokens

    async def access_token(self) -> str:
        """The current access token, refreshed first when it is about to expire."""
        tokens = self._current or self._load()
        self._current = tokens
        if self.can_refresh and tokens.expired(skew_seconds=TOKEN_EXPIRY_SKEW, now=self._now()):
            return await self.refresh(tokens.access_token)
        return tokens.access_token

    async def refresh(self, stale: str | None) -> str:
        """Return an access token newer than ``stale``, refreshing at most once per rotation."""
        if self.app is None:
            raise TokenError(
                f"access token of {self.alias!r} was rejected and no OAuth app is configured to refresh it",
                code="no_refresh",
                alias=self.alias,
            )
        # The refresh runs as its own task, shielded: if this caller is cancelled while the
        # token call is in flight, the task still saves the rotated tokens (the server may have
        # spent the old refresh token already) and then releases the locks.
        task = asyncio.ensure_future(self._refresh_serialised(self.app, stale))
        self._inflight.add(task)
        task.add_done_callback(self._settled)
        return await asyncio.shield(task)

    async def settle(self) -> None:
        """Wait for refreshes still running for callers that went away.

        :class:`MeliClient` calls this before closing the HTTP client the refresh may be using:
        closing it under a refresh in flight would lose the rotated tokens after all.
        """
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    def _settled(self, task: asyncio.Future[str]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Retrieved here so a refresh whose caller went away is not reported as "never
            # retrieved"; a caller still waiting gets the same exception from the shield.
            logger.debug("refresh of %r failed: %s", self.alias, task.exception())

    async def _refresh_serialised(self, app: OAuthApp, stale: str | None) -> str:
        # In-process tasks queue on the asyncio lock; other processes on the file lock.
        async with _alias_lock(self.alias), FileLock(self.lock_path(), timeout_s=self._lock_timeout_s):
            return await self._refresh_locked(app, stale)

    async def _refresh_locked(self, app: OAuthApp, stale: str | None) -> str:
        """Re-read the store, refresh unless someone else just did, save: under both locks."""
        # Re-read inside the lock: whoever held it before us may have refreshed already.
        stored = self._load()
        fresh_enough = not stored.expired(skew_seconds=TOKEN_EXPIRY_SKEW, now=self._now())
        if stored.access_token != stale and fresh_enough:
            self._current = stored
            return stored.access_token
        if not stored.refresh_token:
            raise TokenError(
                f"account {self.alias!r} has no refresh token; log it in again",
                code="no_refresh",
                alias=self.alias,
            )
        try:
            new = await app.refresh(stored.refresh_token, http=self.http, on_call=self.on_call)
        except TokenError as exc:
            exc.alias = self.alias
            raise
        self.refresh_count += 1
        if new.refresh_token is None:
            # Keep the old one rather than lose the grant; ML normally always rotates.
            new = TokenSet(
                access_token=new.access_token,
                refresh_token=stored.refresh_token,
                expires_at=new.expires_at,
                user_id=new.user_id or stored.user_id,
                scope=new.scope or stored.scope,
            )
        # Persist BEFORE use: the old refresh token is dead from now on.
        self.store.save(self.alias, new)
        self._current = new
        logger.info("refreshed the access token of account %r", self.alias)
        return new.access_token
