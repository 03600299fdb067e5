"""Multiget answers are filed under the right id, or under none: never another listing's data
under an id the engine will write to."""

from __future__ import annotations

from typing import Any

import httpx

from mltakedown.meli import InvalidResponseError, NotFoundError

from .conftest import Harness, json_response


def item_json(item_id: str, status: str = "active") -> dict[str, Any]:
    return {"id": item_id, "site_id": "MLM", "seller_id": 1001, "status": status, "title": item_id}


def not_found(item_id: str) -> dict[str, Any]:
    return {"message": f"Item with id {item_id} not found", "error": "not_found", "status": 404, "cause": []}


async def test_a_short_answer_does_not_shift_error_entries_onto_other_ids(harness: Harness) -> None:
    """[A, B, C] asked; the answer omits B's entry. C's id-less 404 must not land on B."""

    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(
            [
                {"code": 200, "body": item_json("MLM1")},
                {"code": 404, "body": not_found("MLM3")},
            ]
        )

    async with harness.client(handler) as api:
        one, two, three = await api.get_items(["MLM1", "MLM2", "MLM3"])
    assert one.item is not None and one.item.id == "MLM1"
    assert two.item is None and not isinstance(two.error, NotFoundError)
    assert isinstance(two.error, InvalidResponseError) and two.error.code == "missing_from_multiget"
    assert three.item is None and isinstance(three.error, InvalidResponseError)


async def test_an_item_body_naming_another_id_is_not_filed_under_the_requested_one(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(
            [
                {"code": 200, "body": item_json("MLM1")},
                {"code": 200, "body": item_json("MLM999", status="paused")},  # not what we asked
            ]
        )

    async with harness.client(handler) as api:
        one, two = await api.get_items(["MLM1", "MLM2"])
    assert one.item is not None and one.item.id == "MLM1"
    assert two.id == "MLM2"
    assert two.item is None, "another listing's data filed under MLM2"
    assert isinstance(two.error, InvalidResponseError)
    assert two.error.code == "mismatched_multiget_entry" and "MLM999" in two.error.message


async def test_root_id_and_body_id_that_disagree_are_refused(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response([{"id": "MLM1", "status_code": 200, "body": item_json("MLM2")}])

    async with harness.client(handler) as api:
        (one,) = await api.get_items(["MLM1"])
    assert one.item is None and isinstance(one.error, InvalidResponseError)
    assert one.error.code == "mismatched_multiget_entry"


async def test_full_answers_still_place_id_less_errors_by_position(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(
            [
                {"code": 404, "body": {"message": "not found", "error": "not_found", "status": 404}},
                {"code": 200, "body": item_json("MLM2")},
            ]
        )

    async with harness.client(handler) as api:
        results = await api.get_items(["MLM1", "MLM2", "MLM1"])
    assert [r.id for r in results] == ["MLM1", "MLM2", "MLM1"]
    assert isinstance(results[0].error, NotFoundError) and results[0] is results[2]
    assert results[1].item is not None and results[1].item.id == "MLM2"
