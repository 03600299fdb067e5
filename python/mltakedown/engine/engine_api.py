"""The API calls the write side makes (Execute, Reconcile, Restore), as a protocol.

:class:`~mltakedown.meli.client.MeliClient` satisfies it; tests pass the same client against the
sandbox. Kept apart so the write modules depend on the calls they make, not on the client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from mltakedown.meli.models import AdGroup, Advertiser, Item, User

ItemStatus = Literal["active", "paused", "closed"]
AdGroupStatus = Literal["active", "paused"]


class ItemResultLike(Protocol):
    """One multiget entry (``mltakedown.meli.models.ItemResult``)."""

    @property
    def id(self) -> str: ...

    @property
    def code(self) -> int: ...

    @property
    def item(self) -> Item | None: ...


class EngineApi(Protocol):
    """The calls Execute, Reconcile and Restore make (a subset of :class:`~mltakedown.meli.client.MeliClient`)."""

    async def me(self) -> User: ...

    async def get_items(self, ids: Sequence[str], /) -> Sequence[ItemResultLike]: ...

    async def set_item_status(self, item_id: str, status: ItemStatus, /) -> Item: ...

    async def delete_item(self, item_id: str, /) -> Item: ...

    async def set_variation_stock(
        self, item_id: str, quantities: Mapping[int, int], /, *, keep: Sequence[int]
    ) -> Item: ...

    async def relist_item(
        self,
        item_id: str,
        /,
        *,
        price: float,
        quantity: int,
        listing_type_id: str,
        variations: Sequence[Mapping[str, Any]] | None = None,
    ) -> Item: ...

    async def get_advertiser(self, site_id: str, /) -> Advertiser | None: ...

    async def search_ad_groups(
        self, site_id: str, advertiser_id: int | str, item_ids: Sequence[str], /
    ) -> list[AdGroup]: ...

    async def set_ad_group_status(
        self, site_id: str, ad_group_id: str, status: AdGroupStatus, /
    ) -> AdGroup: ...
