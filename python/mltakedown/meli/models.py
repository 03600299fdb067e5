"""Typed views of the API's JSON (pydantic, ``extra="allow"`` so new fields are kept).

Only the fields the engine reads are declared; everything else the API sends stays available
through ``model_extra`` / ``model_dump()``, which is what the snapshots store as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from mltakedown.meli.errors import APIError

__all__ = [
    "AdGroup",
    "Advertiser",
    "ApiModel",
    "Attribute",
    "Item",
    "ItemResult",
    "ItemShipping",
    "Order",
    "OrderItem",
    "OrderItemRef",
    "Question",
    "Shipment",
    "User",
    "Variation",
]

_SELLER_SKU = "SELLER_SKU"

_T = TypeVar("_T")


def _null_is_empty(value: Any) -> Any:
    return [] if value is None else value


ListOf = Annotated[list[_T], BeforeValidator(_null_is_empty)]
"""A list field where the API's ``null`` means empty (``"sub_status": null``, ``"tags": null``…):
without it one null list made the whole item unreadable, and its row failed."""


class ApiModel(BaseModel):
    """Base of every response model: unknown fields are kept, not rejected."""

    # Ids arrive as numbers on some endpoints and as strings on others; accept both for str fields.
    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)


class Attribute(ApiModel):
    """One entry of ``attributes[]`` (item or variation)."""

    id: str | None = None
    """Attribute id, e.g. ``SELLER_SKU``, ``BRAND``."""
    name: str | None = None
    """Display name."""
    value_id: str | None = None
    """Id of the chosen value, when the attribute has a value list."""
    value_name: str | None = None
    """The value as text."""


def _attribute_value(attributes: list[Attribute], attribute_id: str) -> str | None:
    for attribute in attributes:
        if attribute.id == attribute_id and attribute.value_name:
            return attribute.value_name
    return None


class Variation(ApiModel):
    """One variation of a classic multi-variation item."""

    id: int
    """Variation id (a large integer)."""
    available_quantity: int | None = None
    """Stock of this variation."""
    attribute_combinations: ListOf[Attribute] = Field(default_factory=list)
    """What distinguishes the variation (colour, size, ...)."""
    attributes: ListOf[Attribute] = Field(default_factory=list)
    """Variation attributes (fully present only with ``include_attributes=all``)."""
    seller_custom_field: str | None = None
    """The seller's internal free field (not the SKU)."""
    inventory_id: str | None = None
    """FULL inventory id of this variation."""
    user_product_id: str | None = None
    """User product of this variation."""

    @property
    def seller_sku(self) -> str | None:
        """The variation's ``SELLER_SKU`` attribute value, if any."""
        return _attribute_value(self.attributes, _SELLER_SKU)


class ItemShipping(ApiModel):
    """The item's ``shipping`` object."""

    mode: str | None = None
    """``me2``, ``me1``, ``custom`` or ``not_specified``."""
    logistic_type: str | None = None
    """``fulfillment`` means FULL; also ``cross_docking``, ``self_service``, ..."""
    free_shipping: bool | None = None
    """Whether shipping is free for the buyer."""
    tags: ListOf[str] = Field(default_factory=list)
    """Shipping tags (``self_service_in`` = Flex next to FULL)."""


class Item(ApiModel):
    """A listing (``GET /items/{id}``)."""

    id: str
    """Item id, e.g. ``MLM1234567890``."""
    site_id: str | None = None
    """Site, e.g. ``MLM``."""
    seller_id: int | None = None
    """Owner's user id."""
    title: str | None = None
    """Listing title."""
    status: str | None = None
    """``active``, ``paused``, ``closed``, ``under_review``, ``inactive``, ..."""
    sub_status: ListOf[str] = Field(default_factory=list)
    """E.g. ``paused_by_seller``, ``out_of_stock``, ``deleted``, ``forbidden``."""
    tags: ListOf[str] = Field(default_factory=list)
    """Item tags (``moderation_penalty``, ...)."""
    price: float | None = None
    """Current price."""
    currency_id: str | None = None
    """Currency of ``price``."""
    available_quantity: int | None = None
    """Stock (exact only with the owner's token)."""
    listing_type_id: str | None = None
    """``gold_pro``, ``gold_special``, ..., ``free``."""
    permalink: str | None = None
    """Public URL of the listing."""
    catalog_listing: bool | None = None
    """True for catalog (buy box) listings."""
    catalog_product_id: str | None = None
    """Catalog product the listing belongs to."""
    item_relations: ListOf[dict[str, Any]] = Field(default_factory=list)
    """Links between a catalog listing and its traditional parent."""
    variations: ListOf[Variation] = Field(default_factory=list)
    """Variations of a classic multi-variation listing."""
    attributes: ListOf[Attribute] = Field(default_factory=list)
    """Item attributes."""
    seller_custom_field: str | None = None
    """The seller's internal free field (not the SKU)."""
    shipping: ItemShipping | None = None
    """Shipping settings (FULL detection)."""
    inventory_id: str | None = None
    """FULL inventory id."""
    user_product_id: str | None = None
    """User product id (``MLMU...``)."""
    stop_time: datetime | None = None
    """When the listing stops or stopped."""
    last_updated: datetime | None = None
    """Last modification time."""

    @property
    def seller_sku(self) -> str | None:
        """The item's ``SELLER_SKU`` attribute value, if any."""
        return _attribute_value(self.attributes, _SELLER_SKU)

    @property
    def is_full(self) -> bool:
        """True when the item is fulfilled by Mercado Libre (FULL)."""
        return self.shipping is not None and self.shipping.logistic_type == "fulfillment"


class User(ApiModel):
    """The authenticated account (``GET /users/me``)."""

    id: int
    """User (seller) id."""
    nickname: str | None = None
    """Public nickname."""
    site_id: str | None = None
    """Home site."""
    country_id: str | None = None
    """Country code, e.g. ``MX``."""
    tags: ListOf[str] = Field(default_factory=list)
    """Account tags (``user_product_seller``, ``test_user``, ...)."""


class OrderItemRef(ApiModel):
    """``order_items[].item``."""

    id: str | None = None
    """Item id."""
    title: str | None = None
    """Title at purchase time."""
    variation_id: int | None = None
    """Variation bought, if any."""
    seller_sku: str | None = None
    """SKU at purchase time."""
    seller_custom_field: str | None = None
    """Custom field at purchase time."""


class OrderItem(ApiModel):
    """One line of an order."""

    item: OrderItemRef = Field(default_factory=OrderItemRef)
    """The item bought."""
    quantity: int | None = None
    """Units bought."""
    unit_price: float | None = None
    """Price per unit."""


class Order(ApiModel):
    """An order from ``/orders/search``."""

    id: int
    """Order id."""
    status: str | None = None
    """``paid``, ``confirmed``, ``cancelled``, ..."""
    status_detail: Any = None
    """Free-form status detail."""
    date_created: datetime | None = None
    """When the order was created."""
    order_items: ListOf[OrderItem] = Field(default_factory=list)
    """Lines of the order."""
    shipping: dict[str, Any] = Field(default_factory=dict)
    """``{"id": shipment_id}``."""
    pack_id: int | None = None
    """Cart/pack id grouping orders of one shipment."""
    tags: ListOf[str] = Field(default_factory=list)
    """Order tags."""

    @property
    def shipment_id(self) -> int | None:
        """The id to pass to :meth:`MeliClient.get_shipment`, if the order has a shipment."""
        value = self.shipping.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return None


class Shipment(ApiModel):
    """A shipment (``GET /shipments/{id}`` with ``x-format-new: true``)."""

    id: int
    """Shipment id."""
    status: str | None = None
    """``pending``, ``handling``, ``ready_to_ship``, ``shipped``, ``delivered``, ..."""
    substatus: str | None = None
    """``ready_to_print``, ``printed``, ..."""
    order_id: int | None = None
    """The order the shipment belongs to."""

    @property
    def is_unshipped(self) -> bool:
        """True while the parcel has not left: ``pending``, ``handling``, ``ready_to_ship``."""
        return self.status in {"pending", "handling", "ready_to_ship"}


class Question(ApiModel):
    """A buyer question."""

    id: int
    """Question id."""
    item_id: str | None = None
    """Item asked about."""
    seller_id: int | None = None
    """Seller asked."""
    status: str | None = None
    """``UNANSWERED``, ``ANSWERED``, ..."""
    text: str | None = None
    """The question text."""
    date_created: datetime | None = None
    """When it was asked."""


class Advertiser(ApiModel):
    """A Product Ads advertiser of the account on one site."""

    advertiser_id: int
    """Advertiser id used in the ad-group paths."""
    site_id: str | None = None
    """Site of the advertiser."""
    advertiser_name: str | None = None
    """Name shown in Mercado Ads."""
    account_name: str | None = None
    """Account name."""


class AdGroup(ApiModel):
    """A Product Ads ad group (2026 model: ads grouped by item, catalog product or family)."""

    id: str
    """Ad-group id."""
    status: str | None = None
    """``active`` or ``paused``."""
    campaign_id: int | None = None
    """Campaign the group belongs to."""
    item_ids: ListOf[str] = Field(default_factory=list)
    """Items in the group."""
    grouping_type: str | None = None
    """``ITEM``, ``CATALOG`` or ``FAMILY``."""


@dataclass(frozen=True)
class ItemResult:
    """One entry of a multiget, in the caller's input order."""

    id: str
    """The requested item id."""
    code: int
    """Per-item HTTP status inside the multiget (200, 404, 403, ...)."""
    item: Item | None
    """The item when ``code`` is 200."""
    error: APIError | None
    """The typed error otherwise (``NotFoundError`` for 404 entries)."""

    @property
    def ok(self) -> bool:
        """True when the item was returned."""
        return self.item is not None
