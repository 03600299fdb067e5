"""Seller accounts known to this computer: alias → application, site, seller, API URL.

The tokens themselves live in the token store (keyring, or a 0600 file; see
:mod:`mltakedown.meli.tokens`). This module keeps what is needed to *use* them again: which
application they were issued to (its secret is needed to refresh), which API (the real one, or a
sandbox), and which seller they belong to (so a workbook naming another seller is refused before
anything is sent). It is a 0600 JSON file in the user config directory — never the workbook.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from mltakedown.fileio import write_atomic
from mltakedown.meli.auth import OAuthApp, generate_pkce
from mltakedown.meli.client import MeliClient
from mltakedown.meli.config import ClientConfig
from mltakedown.meli.errors import TokenError
from mltakedown.meli.models import User
from mltakedown.meli.tokens import TokenStore, config_dir, default_token_store

ACCOUNTS_FILE = "accounts.json"


@dataclass(frozen=True)
class Account:
    """One logged-in seller account."""

    alias: str
    """The name the workbook's Settings use (``ACCOUNT_ALIAS``)."""
    site_id: str
    """The site chosen at login (picks the country's authorization page)."""
    client_id: str
    """The application the tokens were issued to."""
    client_secret: str = field(repr=False)
    """The application's secret, needed to refresh the tokens."""
    redirect_uri: str
    """The redirect URI registered for the application."""
    api_url: str
    """Where the API is (``https://api.mercadolibre.com`` or a sandbox URL)."""
    user_id: int
    """The seller ID the tokens belong to (from ``/users/me`` at login)."""
    nickname: str = ""
    """The seller's nickname, for display."""

    def oauth_app(self, auth_host: str | None = None) -> OAuthApp:
        """The OAuth application these tokens refresh against."""
        return OAuthApp(
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=self.redirect_uri,
            site_id=self.site_id,
            api_url=self.api_url,
            auth_host=auth_host,
        )


class AccountBook:
    """The accounts file: load, save (atomically, mode 0600), remove."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / ACCOUNTS_FILE

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise TokenError(
                f"cannot read the accounts file {self.path}: {exc}", code="accounts_file"
            ) from exc
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(data, indent=2, sort_keys=True), mode=0o600)

    def _account(self, alias: str, raw: Any) -> Account:
        """One entry as an :class:`Account`; a damaged entry is a clear error, not a TypeError."""
        names = {f.name for f in fields(Account)}
        if not isinstance(raw, dict):
            raise TokenError(
                f"the accounts file {self.path} has a damaged entry {alias!r}", code="accounts_file"
            )
        try:
            return Account(**{k: v for k, v in raw.items() if k in names})
        except TypeError as exc:
            raise TokenError(
                f"the accounts file {self.path} has an incomplete entry {alias!r}; log it in again",
                code="accounts_file",
            ) from exc

    def get(self, alias: str) -> Account | None:
        """The account called ``alias``, if any."""
        raw = self._read().get(alias)
        return self._account(alias, raw) if raw else None

    def all(self) -> list[Account]:
        """Every account, by alias."""
        return [self._account(alias, raw) for alias, raw in sorted(self._read().items())]

    def save(self, account: Account) -> None:
        """Add or replace ``account``."""
        data = self._read()
        data[account.alias] = asdict(account)
        self._write(data)

    def remove(self, alias: str) -> bool:
        """Forget ``alias``; ``False`` when it was not there."""
        data = self._read()
        if data.pop(alias, None) is None:
            return False
        self._write(data)
        return True


@dataclass(frozen=True)
class LoginStart:
    """The first half of a login: the URL the seller opens, and what the second half needs."""

    url: str
    state: str
    verifier: str = field(repr=False)


def start_login(app: OAuthApp) -> LoginStart:
    """A fresh PKCE pair and state, and the authorization URL for the app's country."""
    pkce = generate_pkce()
    state = secrets.token_urlsafe(16)
    return LoginStart(url=app.authorization_url(state, pkce.challenge), state=state, verifier=pkce.verifier)


def parse_redirect(pasted: str, expected_state: str) -> str:
    """The authorization code from what the user pasted: the whole redirect URL, or the code.

    A URL (or a bare ``code=…&state=…`` query) whose ``state`` differs from ours, or that has no
    ``state`` at all, is refused: we always send one and Mercado Libre sends it back, but it
    does not check it; the integrator must (ml-api.md §1), or a forged redirect carrying someone
    else's code could log in the wrong seller.
    """
    text = pasted.strip()
    if not text:
        raise TokenError("nothing was pasted: paste the address the browser was sent to", code="no_code")
    if "://" not in text and "?" not in text and "=" not in text:
        return text  # the code alone (ML's codes never contain "=")
    query = parse_qs(urlparse(text).query if ("://" in text or "?" in text) else text)
    if "error" in query:
        raise TokenError(
            f"Mercado Libre refused the authorisation: {query['error'][0]}", code="access_denied"
        )
    codes = query.get("code")
    if not codes:
        raise TokenError("the pasted address has no ?code= in it", code="no_code")
    states = query.get("state")
    if not states:
        raise TokenError(
            "the pasted address has no state= in it, so it cannot be tied to this login; "
            "paste the whole address the browser was sent to after allowing access",
            code="bad_state",
        )
    if states[0] != expected_state:
        raise TokenError(
            "the pasted address belongs to another login attempt (state differs)", code="bad_state"
        )
    return codes[0]


async def finish_login(
    *,
    alias: str,
    app: OAuthApp,
    start: LoginStart,
    pasted: str,
    store: TokenStore | None = None,
    accounts: AccountBook | None = None,
) -> Account:
    """Exchange the code, identify the seller with ``/users/me``, and store tokens and account."""
    code = parse_redirect(pasted, start.state)
    tokens = await app.exchange_code(code, start.verifier)
    store = store or default_token_store()
    # Persist at once: the refresh token in this answer is the only valid one.
    store.save(alias, tokens)
    config = ClientConfig(api_url=app.api_url, client_id=app.client_id)
    async with MeliClient(config, tokens=tokens.access_token) as api:
        me: User = await api.me()
    account = Account(
        alias=alias,
        site_id=app.site_id,
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=app.redirect_uri,
        api_url=app.api_url,
        user_id=int(me.id),
        nickname=me.nickname or "",
    )
    (accounts or AccountBook()).save(account)
    return account


def remove_account(
    alias: str, *, store: TokenStore | None = None, accounts: AccountBook | None = None
) -> bool:
    """Forget an account and delete its tokens; ``False`` when neither existed."""
    store = store or default_token_store()
    had_tokens = store.load(alias) is not None
    store.delete(alias)
    had_account = (accounts or AccountBook()).remove(alias)
    return had_tokens or had_account
