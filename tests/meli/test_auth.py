"""OAuth: PKCE, per-country authorization URL, code exchange, and the refresh-token rotation
under concurrency (one refresh, persisted before use)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mltakedown.meli import (
    AuthenticationError,
    FileTokenStore,
    OAuthApp,
    RetryPolicy,
    StaticToken,
    TokenError,
    TokenManager,
    TokenSet,
    code_challenge,
    generate_pkce,
)

from .conftest import Harness, json_response, mock_http, stored_tokens, unauthorized

APP = OAuthApp(
    client_id="app-1", client_secret="s3cret", redirect_uri="https://example.test/cb", site_id="MLM"
)
OLD = TokenSet(
    access_token="APP_USR-OLD",
    refresh_token="TG-OLD",
    expires_at=datetime.now(UTC) + timedelta(hours=6),
    user_id=1001,
    scope="offline_access read write",
)


class RecordingStore(FileTokenStore):
    """A file store that logs every save into a shared event list."""

    def __init__(self, path: Path, events: list[str]) -> None:
        super().__init__(path)
        self.events = events

    def save(self, alias: str, tokens: TokenSet) -> None:
        super().save(alias, tokens)
        self.events.append(f"save:{tokens.access_token}:{tokens.refresh_token}")


def test_pkce_rfc7636_vector() -> None:
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    pair = generate_pkce()
    assert 43 <= len(pair.verifier) <= 128
    assert pair.challenge == code_challenge(pair.verifier)
    assert pair.verifier not in repr(pair)


@pytest.mark.parametrize(
    ("site", "host"),
    [
        ("MLM", "auth.mercadolibre.com.mx"),
        ("MLB", "auth.mercadolivre.com.br"),
        ("MLA", "auth.mercadolibre.com.ar"),
        ("MLC", "auth.mercadolibre.cl"),
        ("MCO", "auth.mercadolibre.com.co"),
    ],
)
def test_authorization_url_per_country(site: str, host: str) -> None:
    app = OAuthApp(client_id="app-1", client_secret="x", redirect_uri="https://example.test/cb", site_id=site)
    url = urlsplit(app.authorization_url("st4te", "chal"))
    assert url.scheme == "https" and url.netloc == host and url.path == "/authorization"
    query = parse_qs(url.query)
    assert query == {
        "response_type": ["code"],
        "client_id": ["app-1"],
        "redirect_uri": ["https://example.test/cb"],
        "state": ["st4te"],
        "code_challenge": ["chal"],
        "code_challenge_method": ["S256"],
    }


def test_unknown_site_has_no_authorization_host() -> None:
    with pytest.raises(ValueError):
        OAuthApp("a", "b", "c", site_id="XXX").authorization_url("s", "c")


async def test_exchange_code_posts_form_and_honours_expires_in() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(
            {
                "access_token": "APP_USR-NEW",
                "token_type": "bearer",
                "expires_in": 10800,
                "scope": "offline_access read write",
                "user_id": 1001,
                "refresh_token": "TG-NEW",
            }
        )

    before = datetime.now(UTC)
    async with mock_http(handler) as http:
        tokens = await APP.exchange_code("TG-CODE", "verifier-123", http=http)
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/oauth/token"
    assert request.url.query == b""  # secrets go in the body, never the query string
    form = parse_qs(request.content.decode())
    assert form == {
        "grant_type": ["authorization_code"],
        "client_id": ["app-1"],
        "client_secret": ["s3cret"],
        "code": ["TG-CODE"],
        "redirect_uri": ["https://example.test/cb"],
        "code_verifier": ["verifier-123"],
    }
    assert tokens.user_id == 1001 and tokens.refresh_token == "TG-NEW"
    assert tokens.expires_at is not None
    assert timedelta(seconds=10790) < tokens.expires_at - before < timedelta(seconds=10810)


def test_tokenset_repr_hides_secrets() -> None:
    text = repr(OLD) + str(OLD)
    assert "APP_USR-OLD" not in text and "TG-OLD" not in text
    assert "1001" in text
    assert "APP_USR" not in repr(StaticToken("APP_USR-X"))


async def test_two_concurrent_401s_refresh_once_and_persist_before_use(
    tmp_path: Path, harness: Harness
) -> None:
    events: list[str] = []
    store = RecordingStore(tmp_path / "tokens.json", events)
    store.save("acme", OLD)
    events.clear()
    both_arrived = asyncio.Event()
    old_token_hits = 0
    refresh_calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal old_token_hits, refresh_calls
        if request.url.path == "/oauth/token":
            refresh_calls += 1
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["refresh_token"]
            assert form["refresh_token"] == ["TG-OLD"]
            await asyncio.sleep(0)
            return json_response(
                {
                    "access_token": "APP_USR-NEW",
                    "refresh_token": "TG-NEW",
                    "expires_in": 21600,
                    "user_id": 1001,
                }
            )
        auth = request.headers["authorization"]
        events.append(f"request:{auth}")
        if auth == "Bearer APP_USR-OLD":
            old_token_hits += 1
            if old_token_hits == 2:
                both_arrived.set()
            await asyncio.wait_for(both_arrived.wait(), timeout=5)  # both callers hold the old token
            return unauthorized()
        return json_response({"id": 1001, "nickname": "ACME_CN", "site_id": "MLM"})

    manager = TokenManager(store, "acme", APP)
    async with harness.client(handler, tokens=manager) as api:
        first, second = await asyncio.gather(api.me(), api.me())
    assert first.id == second.id == 1001
    assert refresh_calls == 1
    assert manager.refresh_count == 1
    saved = events.index("save:APP_USR-NEW:TG-NEW")
    first_new_use = events.index("request:Bearer APP_USR-NEW")
    assert saved < first_new_use
    assert events.count("request:Bearer APP_USR-OLD") == 2
    assert events.count("request:Bearer APP_USR-NEW") == 2
    reloaded = store.load("acme")
    assert reloaded is not None and reloaded.refresh_token == "TG-NEW"


async def test_waiting_caller_uses_token_refreshed_by_another_manager(tmp_path: Path) -> None:
    """Two managers of one alias (e.g. two clients): the second re-reads the store in the lock."""
    store = stored_tokens(tmp_path / "t.json", OLD)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return json_response({"access_token": "APP_USR-NEW", "refresh_token": "TG-NEW", "expires_in": 21600})

    async with mock_http(handler) as http:
        one = TokenManager(store, "acme", APP, http)
        two = TokenManager(store, "acme", APP, http)
        assert await one.access_token() == await two.access_token() == "APP_USR-OLD"
        tokens = await asyncio.gather(one.refresh("APP_USR-OLD"), two.refresh("APP_USR-OLD"))
    assert list(tokens) == ["APP_USR-NEW", "APP_USR-NEW"]
    assert calls == 1


async def test_refresh_then_still_401_fails_clearly(tmp_path: Path, harness: Harness) -> None:
    store = stored_tokens(tmp_path / "t.json", OLD)
    me_calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal me_calls
        if request.url.path == "/oauth/token":
            return json_response(
                {"access_token": "APP_USR-NEW", "refresh_token": "TG-NEW", "expires_in": 60 * 60}
            )
        me_calls += 1
        return json_response({"message": "invalid_token", "error": "not_found", "status": 401}, 401)

    manager = TokenManager(store, "acme", APP)
    async with harness.client(handler, tokens=manager) as api:
        with pytest.raises(AuthenticationError) as caught:
            await api.me()
    assert me_calls == 2
    assert manager.refresh_count == 1
    assert "still refused after refreshing" in str(caught.value)


async def test_invalid_grant_raises_token_error(tmp_path: Path, harness: Harness) -> None:
    store = stored_tokens(tmp_path / "t.json", OLD)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return json_response(
                {"message": "Error validating grant", "error": "invalid_grant", "status": 400, "cause": []},
                400,
            )
        return unauthorized()

    async with harness.client(handler, tokens=TokenManager(store, "acme", APP)) as api:
        with pytest.raises(TokenError) as caught:
            await api.me()
    assert caught.value.code == "invalid_grant"
    assert caught.value.alias == "acme"
    assert "Re-authorise" in str(caught.value)
    assert "TG-OLD" not in str(caught.value)


async def test_static_token_401_fails_without_refresh(harness: Harness) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(
            {"code": "unauthorized", "message": "invalid access token"}, 401, request_id="r401"
        )

    async with harness.client(handler, tokens="APP_USR-STATIC") as api:
        with pytest.raises(AuthenticationError) as caught:
            await api.me()
    assert len(seen) == 1
    assert seen[0].headers["authorization"] == "Bearer APP_USR-STATIC"
    assert "cannot be refreshed" in str(caught.value) and "r401" in str(caught.value)


async def test_expired_token_is_refreshed_before_use(tmp_path: Path, harness: Harness) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.save(
        "acme",
        TokenSet("APP_USR-OLD", "TG-OLD", expires_at=datetime.now(UTC) - timedelta(minutes=1)),
    )
    auths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return json_response(
                {"access_token": "APP_USR-NEW", "refresh_token": "TG-NEW", "expires_in": 21600}
            )
        auths.append(request.headers["authorization"])
        return json_response({"id": 1})

    async with harness.client(handler, tokens=TokenManager(store, "acme", APP)) as api:
        await api.me()
    assert auths == ["Bearer APP_USR-NEW"]


async def test_no_token_anywhere_is_a_token_error(harness: Harness, tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never reached
        raise AssertionError("no request expected")

    async with harness.client(handler, tokens=None) as api:
        with pytest.raises(TokenError):
            await api.me()
    empty = TokenManager(FileTokenStore(tmp_path / "none.json"), "ghost", APP)
    async with harness.client(handler, tokens=empty) as api:
        with pytest.raises(TokenError) as caught:
            await api.me()
    assert caught.value.code == "no_token"


async def test_lost_refresh_answer_is_reported(tmp_path: Path, harness: Harness) -> None:
    store = stored_tokens(tmp_path / "t.json", OLD)
    token_calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal token_calls
        if request.url.path == "/oauth/token":
            token_calls += 1
            raise httpx.ReadError("dropped", request=request)
        return json_response({"code": "unauthorized", "message": "x"}, 401)

    fast = dataclasses.replace(APP, retry=RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.01))
    async with harness.client(handler, tokens=TokenManager(store, "acme", fast)) as api:
        with pytest.raises(TokenError) as caught:
            await api.me()
    assert "may be spent" in str(caught.value)
    assert token_calls == 3  # the token call is retried; every answer was lost
    stored = store.load("acme")
    assert stored is not None and stored.refresh_token == "TG-OLD"  # nothing invented
