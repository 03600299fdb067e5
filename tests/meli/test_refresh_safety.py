"""A refresh is never abandoned half way, and a passing hiccup of the token endpoint does not
cost the account its tokens.

ML's refresh token is single-use: once the server has answered a refresh, the old refresh token
is dead and the only valid one is in that answer. So a caller cancelled while the refresh is in
flight must not take the refresh down with it, and a 429/5xx/connection failure of the token
endpoint is retried (a retry after a spent token merely meets ``invalid_grant``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltakedown.meli import (
    ClientConfig,
    FileTokenStore,
    MeliClient,
    OAuthApp,
    RateLimiter,
    RetryPolicy,
    TokenError,
    TokenManager,
    TokenSet,
)
from mltakedown.sandbox import SandboxOptions, create_app
from mltakedown.sandbox.seed import CLIENT_ID, CLIENT_SECRET, REFRESH_A, SELLER_A, TOKEN_A

from .conftest import API_URL, Harness, json_response, mock_http, stored_tokens, unauthorized

FAST = RetryPolicy(initial_delay=0.001, conflict_initial_delay=0.001, max_delay=0.01, max_retry_after=0.01)
APP = OAuthApp(
    client_id="app-1",
    client_secret="s3cret",
    redirect_uri="https://example.test/cb",
    site_id="MLM",
    retry=FAST,
)
OLD = TokenSet(
    access_token="APP_USR-OLD",
    refresh_token="TG-OLD",
    expires_at=datetime.now(UTC) + timedelta(hours=6),
    user_id=1001,
)
NEW_ANSWER = {"access_token": "APP_USR-NEW", "refresh_token": "TG-NEW", "expires_in": 21600, "user_id": 1001}


async def _eventually(condition: object, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition never became true")
        await asyncio.sleep(0.01)


def _sandbox_client(app: ASGIApp, store: FileTokenStore, retry: RetryPolicy) -> MeliClient:
    """A client of the sandbox ``app`` whose token manager refreshes ``store``'s "acme" tokens;
    ``retry`` serves both the API calls and the token endpoint."""
    oauth = OAuthApp(CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1/callback", retry=retry)
    return MeliClient(
        ClientConfig(api_url="http://sandbox.test", client_id=CLIENT_ID),
        tokens=TokenManager(store, "acme", oauth),
        transport=httpx.ASGITransport(app=app),
        rate=RateLimiter(float("inf")),
        retry=retry,
    )


async def test_a_caller_cancelled_mid_refresh_does_not_lose_the_rotated_token(tmp_path: Path) -> None:
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    server_rotated = asyncio.Event()
    answer_may_go = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        assert parse_qs(request.content.decode())["refresh_token"] == ["TG-OLD"]
        server_rotated.set()  # from here on TG-OLD is spent on the server
        await answer_may_go.wait()
        return json_response(NEW_ANSWER)

    async with mock_http(handler) as http:
        manager = TokenManager(store, "acme", APP, http)
        caller = asyncio.create_task(manager.refresh("APP_USR-OLD"))
        await asyncio.wait_for(server_rotated.wait(), 5)
        caller.cancel()  # e.g. a sibling multiget failed and the TaskGroup cancels this one
        with pytest.raises(asyncio.CancelledError):
            await caller
        answer_may_go.set()
        await _eventually(lambda: (store.load("acme") or OLD).refresh_token == "TG-NEW")
        # The locks were released once the refresh finished: the next caller gets the new token.
        assert await asyncio.wait_for(manager.refresh("APP_USR-OLD"), 5) == "APP_USR-NEW"
    assert manager.refresh_count == 1


async def test_cancelled_client_call_mid_refresh_keeps_the_account_usable_in_the_sandbox(
    tmp_path: Path,
) -> None:
    """Against the sandbox: the server spends the refresh token and its answer is slow to come
    back; the caller is cancelled meanwhile. The refresh still lands in the store, and a new
    client works with it (without the fix the account needs logging in again)."""
    sandbox = create_app(SandboxOptions())
    world = sandbox.state.world
    answer_may_go = asyncio.Event()

    async def slow_token_answers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path") != "/oauth/token":
            await sandbox(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await sandbox(scope, receive, hold)  # processed: the old refresh token is spent now
        await answer_may_go.wait()
        for message in held:
            await send(message)

    store = stored_tokens(
        tmp_path / "tokens.json",
        TokenSet(TOKEN_A, REFRESH_A, datetime.now(UTC) - timedelta(minutes=5), SELLER_A),
    )
    async with _sandbox_client(slow_token_answers, store, FAST) as api:
        call = asyncio.create_task(api.me())  # the stored token is expired: refresh first
        await _eventually(lambda: world.tokens.refresh[REFRESH_A].used)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        answer_may_go.set()
        await _eventually(lambda: (store.load("acme") or OLD).refresh_token != REFRESH_A)
    async with _sandbox_client(slow_token_answers, store, FAST) as api:
        me = await api.me()
    assert me.id == SELLER_A


class PoolThatDropsOnClose(httpx.AsyncBaseTransport):
    """Like a real connection pool: closing it aborts the requests still in flight."""

    def __init__(self, handler: Any) -> None:
        self.inner = httpx.MockTransport(handler)
        self.closed = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = asyncio.ensure_future(self.inner.handle_async_request(request))
        closing = asyncio.ensure_future(self.closed.wait())
        done, _ = await asyncio.wait({answer, closing}, return_when=asyncio.FIRST_COMPLETED)
        if answer in done:
            closing.cancel()
            return answer.result()
        answer.cancel()
        raise httpx.ReadError("connection closed: the client was shut down", request=request)

    async def aclose(self) -> None:
        self.closed.set()


async def test_closing_the_client_waits_for_a_refresh_its_cancelled_caller_left_behind(
    tmp_path: Path,
) -> None:
    """The usual shape of a cancellation: the TaskGroup fails, ``async with MeliClient`` exits and
    closes the HTTP client the refresh is using. The refresh must be saved before that."""
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    server_rotated = asyncio.Event()
    answer_may_go = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            server_rotated.set()
            await answer_may_go.wait()
            return json_response(NEW_ANSWER)
        return unauthorized()

    async def release_later() -> None:
        await asyncio.sleep(0.05)
        answer_may_go.set()

    manager = TokenManager(store, "acme", APP)
    client = MeliClient(
        ClientConfig(api_url=API_URL),
        tokens=manager,
        transport=PoolThatDropsOnClose(handler),
        rate=RateLimiter(float("inf")),
        retry=FAST,
    )
    async with client as api:
        call = asyncio.create_task(api.me())
        await asyncio.wait_for(server_rotated.wait(), 5)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        releaser = asyncio.create_task(release_later())
    await releaser
    await manager.settle()
    saved = store.load("acme")
    assert saved is not None and saved.refresh_token == "TG-NEW"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_a_busy_token_endpoint_is_retried(tmp_path: Path, status: int) -> None:
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return json_response(
                {"error": "local_rate_limited", "status": status}, status, headers={"retry-after": "1"}
            )
        return json_response(NEW_ANSWER)

    async with mock_http(handler) as http:
        manager = TokenManager(store, "acme", APP, http)
        assert await manager.refresh("APP_USR-OLD") == "APP_USR-NEW"
    assert calls == 2
    saved = store.load("acme")
    assert saved is not None and saved.refresh_token == "TG-NEW"


async def test_token_endpoint_unreachable_then_back_is_retried(tmp_path: Path) -> None:
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        return json_response(NEW_ANSWER)

    async with mock_http(handler) as http:
        assert await TokenManager(store, "acme", APP, http).refresh("APP_USR-OLD") == "APP_USR-NEW"
    assert calls == 2


async def test_lost_answer_then_invalid_grant_says_the_token_may_be_spent(tmp_path: Path) -> None:
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadTimeout("no answer", request=request)
        return json_response(
            {"message": "Error validating grant", "error": "invalid_grant", "status": 400}, 400
        )

    async with mock_http(handler) as http:
        with pytest.raises(TokenError) as caught:
            await TokenManager(store, "acme", APP, http).refresh("APP_USR-OLD")
    assert calls == 2
    assert caught.value.code == "invalid_grant" and caught.value.alias == "acme"
    assert "may have spent" in str(caught.value) and "Re-authorise" in str(caught.value)


async def test_invalid_grant_is_not_retried(tmp_path: Path) -> None:
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return json_response({"error": "invalid_grant", "status": 400}, 400)

    async with mock_http(handler) as http:
        with pytest.raises(TokenError):
            await TokenManager(store, "acme", APP, http).refresh("APP_USR-OLD")
    assert calls == 1


async def test_refresh_through_an_injected_5xx_in_the_sandbox(tmp_path: Path, harness: Harness) -> None:
    """Every request of this sandbox fails once in a while; the refresh gets through anyway."""
    app = create_app(SandboxOptions(fail_rate=0.5, seed=7))
    store = stored_tokens(
        tmp_path / "tokens.json",
        TokenSet(TOKEN_A, REFRESH_A, datetime.now(UTC) - timedelta(minutes=5), SELLER_A),
    )
    patient = RetryPolicy(max_retries=8, initial_delay=0.001, max_delay=0.01, max_retry_after=0.01)
    async with _sandbox_client(app, store, patient) as api:
        for _ in range(5):
            assert (await api.me()).id == SELLER_A
    saved = store.load("acme")
    assert saved is not None and saved.refresh_token != REFRESH_A


async def test_an_answer_echoing_the_refresh_token_does_not_leak_it(tmp_path: Path) -> None:
    import traceback

    store = stored_tokens(tmp_path / "tokens.json", OLD)

    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(
            {
                "error": "invalid_grant",
                "message": "refresh token TG-OLD is not valid for s3cret",
                "status": 400,
            },
            400,
        )

    async with mock_http(handler) as http:
        with pytest.raises(TokenError) as caught:
            await TokenManager(store, "acme", APP, http).refresh("APP_USR-OLD")
    shown = (
        "".join(traceback.format_exception(caught.value)) + repr(caught.value) + repr(caught.value.__cause__)
    )
    assert "TG-OLD" not in shown and "s3cret" not in shown
    assert caught.value.code == "invalid_grant" and "***" in str(caught.value)


async def test_token_calls_are_reported_to_the_call_hook_without_secrets(
    tmp_path: Path, harness: Harness
) -> None:
    """The Log sheet shows every call: a refresh (and its retry) included, never the form."""
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    token_calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal token_calls
        if request.url.path == "/oauth/token":
            token_calls += 1
            if token_calls == 1:
                return json_response({"error": "service_not_available"}, 503, request_id="tok-1")
            return json_response(NEW_ANSWER, request_id="tok-2")
        if request.headers["authorization"] == "Bearer APP_USR-OLD":
            return unauthorized()
        return json_response({"id": 1001})

    async with harness.client(handler, tokens=TokenManager(store, "acme", APP)) as api:
        await api.me()
    rows = [(c.method, c.path, c.status, c.request_id, c.attempt, c.error) for c in harness.calls]
    assert rows == [
        ("GET", "/users/me", 401, "req-1", 1, "unauthorized"),
        ("POST", "/oauth/token", 503, "tok-1", 1, "service_not_available"),
        ("POST", "/oauth/token", 200, "tok-2", 2, None),
        ("GET", "/users/me", 200, "req-1", 2, None),
    ]
    assert all("TG-" not in repr(c) and "s3cret" not in repr(c) for c in harness.calls)


async def test_401_in_the_middle_of_a_retry_storm_refreshes_once_for_everyone(
    tmp_path: Path, harness: Harness
) -> None:
    """Ten concurrent calls: each first meets a 429 (global pause), then a 503, then a 401 for the
    old token. One refresh serves them all, and every call ends well."""
    store = stored_tokens(tmp_path / "tokens.json", OLD)
    attempts: dict[str, int] = {}
    token_calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal token_calls
        if request.url.path == "/oauth/token":
            token_calls += 1
            return json_response(NEW_ANSWER)
        item_id = request.url.path.rsplit("/", 1)[-1]
        attempts[item_id] = attempts.get(item_id, 0) + 1
        if request.headers["authorization"] == "Bearer APP_USR-OLD":
            step = attempts[item_id]
            if step == 1:
                return json_response({"error": "too_many_requests"}, 429, headers={"retry-after": "2"})
            if step == 2:
                return json_response({"error": "service_not_available"}, 503)
            return unauthorized()
        return json_response({"id": item_id, "status": "active"})

    manager = TokenManager(store, "acme", APP)
    async with harness.client(handler, tokens=manager) as api:
        items = await asyncio.gather(*(api.get_item(f"MLM{n}") for n in range(10)))
    assert [i.id for i in items] == [f"MLM{n}" for n in range(10)]
    assert token_calls == 1 and manager.refresh_count == 1
    saved = store.load("acme")
    assert saved is not None and saved.refresh_token == "TG-NEW"
