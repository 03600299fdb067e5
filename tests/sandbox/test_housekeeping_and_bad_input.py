"""Sandbox housekeeping and bad input: abandoned scan cursors do not pile up, odd parameters get 400s."""

from __future__ import annotations

from mltakedown.sandbox.seed import SELLER_A

from .conftest import Sandbox

SEARCH = f"/users/{SELLER_A}/items/search"


async def test_expired_scrolls_of_abandoned_scans_are_dropped(sb: Sandbox) -> None:
    for _ in range(5):  # five scans started and abandoned after their first page
        assert (await sb.get(SEARCH, search_type="scan", limit=5)).status_code == 200
    assert len(sb.world.scrolls) == 5
    sb.world.clock.advance(301)
    fresh = (await sb.get(SEARCH, search_type="scan", limit=5)).json()
    assert list(sb.world.scrolls) == [fresh["scroll_id"]]
    follow = await sb.get(SEARCH, search_type="scan", limit=5, scroll_id=fresh["scroll_id"])
    assert follow.status_code == 200 and len(follow.json()["results"]) == 5


async def test_authorization_page_with_a_bad_user_id_is_a_400_not_a_crash(sb: Sandbox) -> None:
    response = await sb.client.get(
        "/authorization",
        params={"client_id": "sandbox-app", "redirect_uri": "http://127.0.0.1/cb", "user_id": "abc"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
