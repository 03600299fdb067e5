"""Odd but successful answers do not turn into false failures.

* a ``null`` where a list is expected (``"sub_status": null``) must not make the whole item
  unreadable (its row would fail, or a multiget entry would be lost);
* a write answered 2xx with a body we cannot use was nevertheless applied: it must not be
  reported as a final failure (the journal would never reconcile it) — the item is read back.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mltakedown.meli import InvalidResponseError, NotFoundError
from mltakedown.meli.models import Item

from .conftest import Harness, json_response, unauthorized


def test_null_lists_are_read_as_empty() -> None:
    item = Item.model_validate(
        {
            "id": "MLM1",
            "status": "paused",
            "sub_status": None,
            "tags": None,
            "variations": None,
            "attributes": None,
            "item_relations": None,
            "shipping": {"logistic_type": "fulfillment", "tags": None},
        }
    )
    assert item.sub_status == [] and item.tags == [] and item.variations == []
    assert item.attributes == [] and item.item_relations == []
    assert item.shipping is not None and item.shipping.tags == [] and item.is_full


async def test_multiget_entry_with_null_sub_status_is_an_item(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"id": "MLM1", "status": "active", "sub_status": None, "tags": None, "seller_id": 1}
        return json_response([{"code": 200, "body": body}])

    async with harness.client(handler) as api:
        (result,) = await api.get_items(["MLM1"])
    assert result.item is not None and result.item.sub_status == []


async def test_a_write_answered_200_with_an_unusable_body_is_read_back(harness: Harness) -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.method == "PUT":
            return httpx.Response(200, content=b"<html>OK</html>", headers={"content-type": "text/html"})
        return json_response({"id": "MLM1", "status": "paused", "sub_status": ["paused_by_seller"]})

    async with harness.client(handler) as api:
        item = await api.set_item_status("MLM1", "paused")
    assert item.status == "paused"
    assert seen == [("PUT", "/items/MLM1"), ("GET", "/items/MLM1")]


async def test_a_write_answered_200_with_a_wrong_shape_is_read_back(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return json_response(["not", "an", "item"])
        return json_response({"id": "MLM1", "status": "closed"})

    async with harness.client(handler) as api:
        item = await api.set_item_status("MLM1", "closed")
    assert item.status == "closed"


async def test_a_failed_read_back_reports_the_read_error(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(200, content=b"")
        return json_response({"message": "Item with id MLM1 not found", "error": "not_found"}, 404)

    async with harness.client(handler) as api:
        with pytest.raises(NotFoundError):
            await api.set_item_status("MLM1", "paused")


async def test_reads_with_unusable_bodies_still_fail(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>portal</html>", headers={"content-type": "text/html"})

    async with harness.client(handler) as api:
        with pytest.raises(InvalidResponseError):
            await api.get_item("MLM1")


async def test_a_401_for_an_account_without_its_app_says_to_log_in_again(
    harness: Harness, tmp_path: Path
) -> None:
    """A login whose application is unknown (accounts file lost) cannot refresh: the message must
    not claim the token was "given directly"."""
    from mltakedown.meli import AuthenticationError, FileTokenStore, TokenManager, TokenSet

    store = FileTokenStore(tmp_path / "tokens.json")
    store.save("acme", TokenSet("APP_USR-OLD", "TG-OLD"))

    def handler(request: httpx.Request) -> httpx.Response:
        return unauthorized()

    async with harness.client(handler, tokens=TokenManager(store, "acme", None)) as api:
        with pytest.raises(AuthenticationError) as caught:
            await api.me()
    assert "given directly" not in str(caught.value)
    assert "log the account in again" in str(caught.value)
