"""Fixtures: a fresh sandbox per test, driven with raw httpx over ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mltakedown.sandbox import SandboxOptions, World, create_app
from mltakedown.sandbox.seed import TOKEN_A


class Sandbox:
    """An app, its world and a client, with small helpers that default to seller A's token."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def world(self) -> World:
        world: World = self.app.state.world
        return world

    @staticmethod
    def auth(token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def get(self, path: str, token: str | None = TOKEN_A, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth(token))

    async def put(self, path: str, body: Any, token: str | None = TOKEN_A) -> httpx.Response:
        return await self.client.put(path, json=body, headers=self.auth(token))

    async def post(self, path: str, body: Any, token: str | None = TOKEN_A) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.auth(token))

    async def item(self, item_id: str) -> dict[str, Any]:
        response = await self.get(f"/items/{item_id}", include_attributes="all")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def open_sandbox(**options: Any) -> AsyncIterator[Sandbox]:
    """A sandbox with the given :class:`SandboxOptions` fields."""
    app = create_app(SandboxOptions(**options))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.sandbox.test") as client:
        yield Sandbox(app, client)


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with open_sandbox() as sandbox:
        yield sandbox
