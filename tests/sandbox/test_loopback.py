"""The sandbox served by uvicorn on 127.0.0.1 in a thread, driven over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from mltakedown.sandbox import SandboxOptions, create_app, serve_in_thread
from mltakedown.sandbox.seed import TOKEN_A, TRICKY

pytestmark = pytest.mark.slow


def test_round_trip_over_loopback() -> None:
    app = create_app(SandboxOptions())
    headers = {"Authorization": f"Bearer {TOKEN_A}"}
    with (
        serve_in_thread(app) as base_url,
        httpx.Client(base_url=base_url, headers=headers, timeout=10) as client,
    ):
        assert base_url.startswith("http://127.0.0.1:")
        me = client.get("/users/me")
        assert me.status_code == 200 and me.json()["id"] == 1001 and me.headers["x-request-id"]
        paused = client.put(f"/items/{TRICKY['active_mlm']}", json={"status": "paused"})
        assert paused.json()["status"] == "paused"
        again = client.get("/items", params={"ids": TRICKY["active_mlm"], "attributes": "status"})
        assert again.json() == [{"code": 200, "body": {"status": "paused"}}]
        token = client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": "sandbox-app",
                "client_secret": "sandbox-secret",
                "refresh_token": "TG-SANDBOX-SELLER-A",
            },
        )
        assert token.status_code == 200
    assert app.state.world.request_counts["PUT /items/{id}"] == 1


def test_dropped_connection_over_loopback() -> None:
    app = create_app(SandboxOptions(drop_rate=1.0))
    with (
        serve_in_thread(app) as base_url,
        httpx.Client(base_url=base_url, timeout=10) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.get("/users/me", headers={"Authorization": f"Bearer {TOKEN_A}"})
