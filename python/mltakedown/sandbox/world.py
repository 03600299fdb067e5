"""The sandbox's mutable state: users, items, orders, ads, questions, tokens, counters.

Pure Python, no HTTP: the routes in :mod:`.app` call these methods, and tests may call them too
(e.g. ``world.clock.advance(...)`` to expire a token, ``world.issue_authorization_code(...)``).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import seed
from .clock import Clock
from .errors import forbidden, item_not_found, not_found, unauthorized
from .options import SandboxOptions
from .tokens import DEFAULT_CLIENT_ID, AccessToken, TokenRegistry

JSON = dict[str, Any]

SCROLL_TTL_S = 300.0  # a scan scroll_id lives 5 minutes


@dataclass
class WriteRecord:
    """One write request as received (whatever its outcome)."""

    method: str
    path: str
    item: str | None
    body: Any
    status: int
    at: float


@dataclass
class Scroll:
    """Server-side state of a ``search_type=scan`` cursor."""

    ids: list[str]
    position: int
    expires_at: float
    seller_id: int


@dataclass
class Caller:
    """The authenticated identity of a request."""

    user_id: int
    client_id: str


@dataclass
class World:
    """Everything the emulated API knows; one per app."""

    options: SandboxOptions = field(default_factory=SandboxOptions)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.options.seed)
        self.tokens = TokenRegistry(self.clock, self.options.token_ttl_s)
        self.tokens.seed(seed.TOKEN_A, seed.REFRESH_A, seed.SELLER_A, DEFAULT_CLIENT_ID)
        self.tokens.seed(seed.TOKEN_B, seed.REFRESH_B, seed.SELLER_B, DEFAULT_CLIENT_ID)
        data = seed.build(self.clock.now(), self.options.extra_items)
        self.users: dict[int, JSON] = data.users
        self.items: dict[str, JSON] = data.items
        self.orders: list[JSON] = data.orders
        self.shipments: dict[int, JSON] = data.shipments
        self.questions: list[JSON] = data.questions
        self.advertisers: dict[int, list[JSON]] = data.advertisers
        self.ad_groups: dict[str, JSON] = data.ad_groups
        self.scrolls: dict[str, Scroll] = {}
        self.last_write_at: dict[str, float] = {}
        self.request_counts: Counter[str] = Counter()
        self.writes: list[WriteRecord] = []
        self.catalog_version = 0  # bumped when SKUs may change (variations removed, relist)
        self._sku_index: tuple[int, dict[tuple[bool, str], list[str]]] | None = None
        self._next_relist = 900000
        self._next_variation = 190000000000

    # --- auth ------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Caller:
        """Resolve an ``Authorization: Bearer`` header, or raise the 401 the real API gives."""
        style = self.options.auth_error_style
        token = ""
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        record: AccessToken | None = self.tokens.lookup(token) if token else None
        if record is None:
            raise unauthorized(legacy=style == "legacy")
        if self.tokens.is_expired(record):
            raise unauthorized(legacy=style != "modern")
        return Caller(record.user_id, record.client_id)

    def client_of(self, authorization: str | None) -> str | None:
        """The application (client_id) a request's token belongs to, for rate limiting."""
        if authorization and authorization.lower().startswith("bearer "):
            record = self.tokens.lookup(authorization[7:].strip())
            if record is not None:
                return record.client_id
        return None

    def issue_authorization_code(
        self,
        seller_id: int,
        code_challenge: str | None = None,
        code_challenge_method: str = "S256",
        redirect_uri: str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> str:
        """Mint an authorization code as if ``seller_id`` had approved the app."""
        return self.tokens.issue_code(
            seller_id, code_challenge, code_challenge_method, redirect_uri, client_id
        )

    def issue_tokens(self, seller_id: int, client_id: str = DEFAULT_CLIENT_ID) -> JSON:
        """Mint a fresh token pair directly (the ``/oauth/token`` response body)."""
        return self.tokens.issue(seller_id, client_id)

    # --- lookups ---------------------------------------------------------------------------

    def user(self, user_id: int) -> JSON:
        """A user, or 404."""
        found = self.users.get(user_id)
        if found is None:
            raise not_found(f"User {user_id} not found")
        return found

    def item(self, item_id: str) -> JSON:
        """The internal item record, or 404."""
        found = self.items.get(item_id)
        if found is None:
            raise item_not_found(item_id)
        return found

    def owned_item(self, caller: Caller, item_id: str) -> JSON:
        """An item the caller owns: 404 when unknown, 403 when someone else's."""
        found = self.item(item_id)
        if found["seller_id"] != caller.user_id:
            raise forbidden()
        return found

    def require_self(self, caller: Caller, user_id: int) -> None:
        """403 unless the token speaks for ``user_id``."""
        if caller.user_id != user_id:
            raise forbidden()

    def new_relist_id(self, site: str) -> str:
        """A fresh item id for a relisted item (same site, never used before)."""
        while True:
            self._next_relist += 1
            candidate = f"{site}{seed_base(site) + self._next_relist}"
            if candidate not in self.items:
                return candidate

    def new_variation_id(self) -> int:
        """A fresh variation id."""
        self._next_variation += 1
        return self._next_variation

    def sku_index(self) -> dict[tuple[bool, str], list[str]]:
        """``(is_seller_sku_attribute, value)`` → item ids, in catalogue order (cached per version).

        Keeps per-SKU searches cheap on large generated catalogues (``extra_items``).
        """
        if self._sku_index is None or self._sku_index[0] != self.catalog_version:
            index: dict[tuple[bool, str], list[str]] = {}
            for iid, item in self.items.items():
                for key in sorted(set(sku_keys(item))):
                    index.setdefault(key, []).append(iid)
            self._sku_index = (self.catalog_version, index)
        return self._sku_index[1]

    def new_scroll(self, ids: list[str], position: int, seller_id: int) -> str:
        """Register a scan cursor; the id changes on every call.

        Cursors of abandoned scans are dropped once expired, so a long-running sandbox does not
        keep every scan's id list forever.
        """
        now = self.clock.now()
        for stale in [k for k, v in self.scrolls.items() if now >= v.expires_at]:
            del self.scrolls[stale]
        scroll_id = uuid.uuid4().hex + uuid.uuid4().hex
        self.scrolls[scroll_id] = Scroll(ids, position, now + SCROLL_TTL_S, seller_id)
        return scroll_id

    def record_write(self, method: str, path: str, item: str | None, body: Any, status: int) -> None:
        """Append to :attr:`writes`."""
        self.writes.append(WriteRecord(method, path, item, body, status, self.clock.now()))

    def writes_for(self, item_id: str, *, ok_only: bool = False) -> list[WriteRecord]:
        """The writes that targeted one item."""
        return [w for w in self.writes if w.item == item_id and (not ok_only or w.status < 400)]


def sku_keys(item: JSON) -> list[tuple[bool, str]]:
    """Every SKU of an item: ``(True, v)`` for SELLER_SKU attributes, ``(False, v)`` for
    seller_custom_field values, on the item and on each variation."""
    keys: list[tuple[bool, str]] = []
    for holder in (item, *item["variations"]):
        keys += [
            (True, str(a["value_name"])) for a in holder.get("attributes") or [] if a["id"] == "SELLER_SKU"
        ]
        if holder.get("seller_custom_field"):
            keys.append((False, str(holder["seller_custom_field"])))
    return keys


def seed_base(site: str) -> int:
    """The numeric base of a site's seeded item ids."""
    return int(seed.item_id(site, 0)[3:])
