"""Login and accounts, against the sandbox over loopback HTTP (real OAuth code flow with PKCE)."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mltakedown.accounts import AccountBook, LoginStart, finish_login, parse_redirect, start_login
from mltakedown.cli import account_cmd
from mltakedown.cli import app as cli_app
from mltakedown.meli.auth import OAuthApp
from mltakedown.meli.errors import TokenError
from mltakedown.meli.tokens import FileTokenStore
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox import seed as S

REDIRECT = "https://localhost/mltakedown"


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    with serve_in_thread(create_app(SandboxOptions())) as url:
        yield url


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLTAKEDOWN_CONFIG_DIR", str(tmp_path))
    # Force the file store: the test machine's keyring is not ours to write.
    monkeypatch.setattr("mltakedown.accounts.default_token_store", lambda: FileTokenStore())
    return tmp_path


def _app(url: str) -> OAuthApp:
    return OAuthApp(
        client_id=S.CLIENT_ID,
        client_secret=S.CLIENT_SECRET,
        redirect_uri=REDIRECT,
        site_id="MLM",
        api_url=url,
        auth_host=url,
    )


def _approve(url: str) -> str:
    """Play the seller: open the authorization URL and return where the browser is sent."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302
    return response.headers["location"]


def test_login_stores_tokens_and_account_privately(sandbox_url: str, config_dir: Path) -> None:
    app = _app(sandbox_url)
    start = start_login(app)
    assert "code_challenge=" in start.url and "code_challenge_method=S256" in start.url
    redirect = _approve(start.url)
    account = asyncio.run(finish_login(alias="acme", app=app, start=start, pasted=redirect))

    assert account.user_id == S.SELLER_A
    assert AccountBook().get("acme") == account
    stored = FileTokenStore().load("acme")
    assert stored is not None and stored.refresh_token
    for name in ("accounts.json",):
        mode = stat.S_IMODE((config_dir / name).stat().st_mode)
        assert mode == 0o600, f"{name} is readable by others ({oct(mode)})"


def test_pasted_redirect_from_another_login_is_refused(sandbox_url: str, config_dir: Path) -> None:
    app = _app(sandbox_url)
    first, second = start_login(app), start_login(app)
    redirect = _approve(first.url)
    with pytest.raises(TokenError, match="state differs"):
        asyncio.run(finish_login(alias="acme", app=app, start=second, pasted=redirect))
    assert AccountBook().get("acme") is None


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("TG-abc", "TG-abc"),
        ("  TG-abc \n", "TG-abc"),
        (f"{REDIRECT}?code=TG-xyz&state=s1", "TG-xyz"),
        ("code=TG-xyz&state=s1", "TG-xyz"),
        ("?code=TG-xyz&state=s1", "TG-xyz"),
    ],
)
def test_parse_redirect_accepts_code_or_url(pasted: str, expected: str) -> None:
    assert parse_redirect(pasted, "s1") == expected


@pytest.mark.parametrize("pasted", ["", f"{REDIRECT}?state=s1", f"{REDIRECT}?error=access_denied"])
def test_parse_redirect_refuses_nonsense(pasted: str) -> None:
    with pytest.raises(TokenError):
        parse_redirect(pasted, "s1")


@pytest.mark.parametrize(
    "pasted",
    [
        f"{REDIRECT}?code=TG-forged",  # no state: cannot be tied to this login
        "code=TG-forged",
        f"{REDIRECT}?code=TG-forged&state=other",
        "code=TG-forged&state=other",
    ],
)
def test_parse_redirect_refuses_a_code_not_tied_to_this_login(pasted: str) -> None:
    with pytest.raises(TokenError) as caught:
        parse_redirect(pasted, "s1")
    assert caught.value.code == "bad_state"


def test_damaged_accounts_file_entries_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text('{"acme": {"alias": "acme", "site_id": "MLM"}, "odd": 5}', encoding="utf-8")
    book = AccountBook(path)
    with pytest.raises(TokenError, match="incomplete entry 'acme'"):
        book.get("acme")
    with pytest.raises(TokenError, match="damaged entry 'odd'"):
        book.get("odd")


def test_accounts_written_by_a_newer_version_still_load(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    entry = {
        "alias": "acme",
        "site_id": "MLM",
        "client_id": "app",
        "client_secret": "sekrit-value",
        "redirect_uri": REDIRECT,
        "api_url": "https://api.mercadolibre.com",
        "user_id": 1001,
        "nickname": "ACME",
        "added_by_a_later_version": True,
    }
    path.write_text(json.dumps({"acme": entry}), encoding="utf-8")
    account = AccountBook(path).get("acme")
    assert account is not None and account.user_id == 1001
    assert account.client_secret == "sekrit-value" and "sekrit-value" not in repr(account)


def test_cli_login_then_list_then_remove(
    sandbox_url: str, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[LoginStart] = []

    def capture(app: OAuthApp) -> LoginStart:
        start = start_login(app)
        started.append(start)
        return start

    monkeypatch.setattr(account_cmd, "start_login", capture)
    # The user opens the printed URL in a browser and pastes back where it lands.
    monkeypatch.setattr(account_cmd.typer, "prompt", lambda *_a, **_k: _approve(started[0].url))
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        [
            "login",
            "acme",
            "--site",
            "MLM",
            "--client-id",
            S.CLIENT_ID,
            "--client-secret",
            S.CLIENT_SECRET,
            "--api-url",
            sandbox_url,
            "--auth-url",
            sandbox_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Logged in" in result.output and str(S.SELLER_A) in result.output
    assert S.CLIENT_SECRET not in result.output

    listed = runner.invoke(cli_app, ["accounts"])
    assert listed.exit_code == 0 and "acme" in listed.output and str(S.SELLER_A) in listed.output

    removed = runner.invoke(cli_app, ["accounts", "remove", "acme"])
    assert removed.exit_code == 0
    assert AccountBook().get("acme") is None and FileTokenStore().load("acme") is None
    again = runner.invoke(cli_app, ["accounts", "remove", "acme"])
    assert again.exit_code == 1
