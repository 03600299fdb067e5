"""Two processes (think Excel's RunPython and the CLI) refresh the same account at the same
moment: the file lock lets exactly one refresh reach the token endpoint, and both end up with
the new, working token.

The sandbox runs over loopback in this process (``serve_in_thread``) so both subprocesses talk
to one world; the token store is a ``FileTokenStore`` in a temporary ``MLTAKEDOWN_CONFIG_DIR``.
The sandbox's latency keeps the first refresh on the wire long enough that, without the lock,
the second process would certainly read the old refresh token and spend it again.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import queue
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from mltakedown.meli import (
    ClientConfig,
    FileTokenStore,
    MeliClient,
    OAuthApp,
    RateLimiter,
    TokenManager,
    TokenSet,
)
from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox.seed import CLIENT_ID, CLIENT_SECRET, REFRESH_A, SELLER_A, TOKEN_A

ALIAS = "acme"
TOKEN_ROUTE = "POST /oauth/token"


async def _use_account(url: str) -> dict[str, Any]:
    """What one process does: a call that needs a fresh token, then report what happened."""
    manager = TokenManager(
        FileTokenStore(), ALIAS, OAuthApp(CLIENT_ID, CLIENT_SECRET, "https://example.test/cb")
    )
    async with MeliClient(
        ClientConfig(api_url=url, client_id=CLIENT_ID), tokens=manager, rate=RateLimiter(math.inf)
    ) as api:
        me = await api.me()
        token = await manager.access_token()
    return {"user_id": me.id, "refreshes": manager.refresh_count, "token": token, "pid": os.getpid()}


def refresh_worker(url: str, config_dir: str, start: Any, results: Any) -> None:
    """Subprocess entry point: wait for the other one, then use the (expired) account."""
    os.environ["MLTAKEDOWN_CONFIG_DIR"] = config_dir
    start.wait(timeout=30)
    try:
        results.put(asyncio.run(_use_account(url)))
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put({"error": f"{type(exc).__name__}: {exc}"})


@pytest.fixture
def loopback() -> Iterator[tuple[Starlette, str]]:
    app = create_app(SandboxOptions(latency_ms=300))
    with serve_in_thread(app) as url:
        yield app, url


@pytest.mark.slow
def test_two_processes_refresh_once_and_both_get_a_working_token(
    loopback: tuple[Starlette, str], tmp_path: Path
) -> None:
    app, url = loopback
    FileTokenStore(tmp_path / "tokens.json").save(
        ALIAS,
        TokenSet(TOKEN_A, REFRESH_A, expires_at=datetime.now(UTC) - timedelta(minutes=1), user_id=SELLER_A),
    )
    # spawn, not fork: this process runs the sandbox's server thread.
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=refresh_worker, args=(url, str(tmp_path), start, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    outcomes: list[dict[str, Any]] = []
    try:
        for _ in workers:
            outcomes.append(results.get(timeout=60))
    except queue.Empty:
        pytest.fail(f"a worker did not report; got {outcomes}")
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert all("error" not in o for o in outcomes), outcomes
    assert app.state.world.request_counts[TOKEN_ROUTE] == 1
    assert sorted(o["refreshes"] for o in outcomes) == [0, 1]  # one refreshed, one re-read the store
    stored = FileTokenStore(tmp_path / "tokens.json").load(ALIAS)
    assert stored is not None and stored.refresh_token not in (None, REFRESH_A)
    assert [o["token"] for o in outcomes] == [stored.access_token] * 2 and stored.access_token != TOKEN_A
    assert [o["user_id"] for o in outcomes] == [SELLER_A, SELLER_A]  # /users/me answered both
    assert all(w.exitcode == 0 for w in workers)
