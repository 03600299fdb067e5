"""Bearer tokens, 401 bodies, expiry on the world clock, OAuth grants, PKCE, refresh rotation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from mltakedown.sandbox import seed
from mltakedown.sandbox.tokens import pkce_challenge

from .conftest import Sandbox, open_sandbox

INVALID_GRANT = {
    "message": "Error validating grant. Your authorization code or refresh token may be expired or it was already used",
    "error": "invalid_grant",
    "status": 400,
    "cause": [],
}
LEGACY_401 = {"message": "invalid_token", "error": "not_found", "status": 401, "cause": []}
MODERN_401 = {"code": "unauthorized", "message": "invalid access token"}


def _form(**fields: str) -> dict[str, str]:
    return {"client_id": seed.CLIENT_ID, "client_secret": seed.CLIENT_SECRET, **fields}


async def test_users_me_per_token(sb: Sandbox) -> None:
    a = (await sb.get("/users/me")).json()
    b = (await sb.get("/users/me", token=seed.TOKEN_B)).json()
    assert (a["id"], a["nickname"], a["site_id"]) == (1001, "ACME_CN", "MLM")
    assert b["id"] == 2002


async def test_missing_and_unknown_token_get_modern_401(sb: Sandbox) -> None:
    for token in (None, "APP_USR-nope"):
        response = await sb.get("/users/me", token=token)
        assert response.status_code == 401
        assert response.json() == MODERN_401


async def test_expired_token_gets_legacy_401_and_expiry_follows_world_clock(sb: Sandbox) -> None:
    sb.world.clock.advance(21600 - 5)
    assert (await sb.get("/users/me")).status_code == 200
    sb.world.clock.advance(10)
    response = await sb.get("/users/me")
    assert response.status_code == 401
    assert response.json() == LEGACY_401


async def test_auth_error_style_option() -> None:
    async with open_sandbox(auth_error_style="legacy", token_ttl_s=60) as sb:
        assert (await sb.get("/users/me", token="junk")).json() == LEGACY_401
    async with open_sandbox(auth_error_style="modern", token_ttl_s=60) as sb:
        sb.world.clock.advance(61)
        assert (await sb.get("/users/me")).json() == MODERN_401


async def test_refresh_rotates_and_reuse_is_invalid_grant(sb: Sandbox) -> None:
    first = await sb.client.post(
        "/oauth/token", data=_form(grant_type="refresh_token", refresh_token=seed.REFRESH_A)
    )
    assert first.status_code == 200
    tokens = first.json()
    assert tokens["user_id"] == 1001
    assert tokens["scope"] == "offline_access read write"
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 21600
    assert tokens["access_token"].startswith("APP_USR-") and tokens["refresh_token"].startswith("TG-")
    assert tokens["refresh_token"] != seed.REFRESH_A
    assert (await sb.get("/users/me", token=tokens["access_token"])).json()["id"] == 1001

    reused = await sb.client.post(
        "/oauth/token", data=_form(grant_type="refresh_token", refresh_token=seed.REFRESH_A)
    )
    assert reused.status_code == 400
    assert reused.json() == INVALID_GRANT

    second = await sb.client.post(
        "/oauth/token", data=_form(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    )
    assert second.status_code == 200


async def test_refreshed_token_lifetime_follows_option() -> None:
    async with open_sandbox(token_ttl_s=10800) as sb:
        response = await sb.client.post(
            "/oauth/token", data=_form(grant_type="refresh_token", refresh_token=seed.REFRESH_B)
        )
        body = response.json()
        assert body["expires_in"] == 10800 and body["user_id"] == 2002
        sb.world.clock.advance(10801)
        assert (await sb.get("/users/me", token=body["access_token"])).status_code == 401


async def test_bad_client_and_grant_type(sb: Sandbox) -> None:
    bad_secret = await sb.client.post(
        "/oauth/token",
        data={
            "client_id": seed.CLIENT_ID,
            "client_secret": "wrong",
            "grant_type": "refresh_token",
            "refresh_token": seed.REFRESH_A,
        },
    )
    assert bad_secret.status_code == 400 and bad_secret.json()["error"] == "invalid_client"
    odd = await sb.client.post("/oauth/token", data=_form(grant_type="password"))
    assert odd.json()["error"] == "unsupported_grant_type"
    # The refresh token was not spent by the refused call.
    ok = await sb.client.post(
        "/oauth/token", data=_form(grant_type="refresh_token", refresh_token=seed.REFRESH_A)
    )
    assert ok.status_code == 200


async def test_authorization_code_with_pkce(sb: Sandbox) -> None:
    verifier = "a" * 20 + "-verifier-" + "b" * 30
    code = sb.world.issue_authorization_code(
        2002, pkce_challenge(verifier), redirect_uri="http://127.0.0.1/cb"
    )

    async def exchange(code_verifier: str) -> httpx.Response:
        form = _form(
            grant_type="authorization_code",
            code=code,
            redirect_uri="http://127.0.0.1/cb",
            code_verifier=code_verifier,
        )
        return await sb.client.post("/oauth/token", data=form)

    wrong = await exchange("not-it")
    assert wrong.status_code == 400 and wrong.json() == INVALID_GRANT
    good = await exchange(verifier)
    assert good.status_code == 200 and good.json()["user_id"] == 2002
    again = await exchange(verifier)
    assert again.json() == INVALID_GRANT


async def test_authorization_code_expires(sb: Sandbox) -> None:
    code = sb.world.issue_authorization_code(1001)
    sb.world.clock.advance(601)
    response = await sb.client.post("/oauth/token", data=_form(grant_type="authorization_code", code=code))
    assert response.json() == INVALID_GRANT


async def test_authorization_page_redirects_with_code_and_state(sb: Sandbox) -> None:
    verifier = "v" * 50
    response = await sb.client.get(
        "/authorization",
        params={
            "response_type": "code",
            "client_id": seed.CLIENT_ID,
            "redirect_uri": "http://127.0.0.1:9/cb",
            "state": "xyz",
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302
    target = urlparse(response.headers["location"])
    query = parse_qs(target.query)
    assert (target.netloc, target.path, query["state"]) == ("127.0.0.1:9", "/cb", ["xyz"])
    token = await sb.client.post(
        "/oauth/token",
        data=_form(
            grant_type="authorization_code",
            code=query["code"][0],
            redirect_uri="http://127.0.0.1:9/cb",
            code_verifier=verifier,
        ),
    )
    assert token.status_code == 200 and token.json()["user_id"] == 1001
