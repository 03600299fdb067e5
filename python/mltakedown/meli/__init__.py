"""Mercado Libre API client: auth, transport, rate limit, retries, typed models and errors.

The public surface (ARCHITECTURE.md §1) is listed in ``__all__``; everything else is an
implementation detail. Typical use::

    async with MeliClient(ClientConfig.from_env(), tokens=manager, on_call=log) as api:
        me = await api.me()
        results = await api.get_items(ids)
"""

from mltakedown.meli.auth import (
    AUTH_HOSTS,
    OAuthApp,
    PKCEPair,
    StaticToken,
    TokenManager,
    TokenProvider,
    code_challenge,
    generate_pkce,
)
from mltakedown.meli.calls import CallRecord, OnCall
from mltakedown.meli.client import MeliClient
from mltakedown.meli.config import ClientConfig
from mltakedown.meli.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorCause,
    InvalidResponseError,
    MeliError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SearchLimitError,
    ServerError,
    TokenError,
)
from mltakedown.meli.models import (
    AdGroup,
    Advertiser,
    Attribute,
    Item,
    ItemResult,
    ItemShipping,
    Order,
    OrderItem,
    OrderItemRef,
    Question,
    Shipment,
    User,
    Variation,
)
from mltakedown.meli.ratelimit import RateLimiter, shared_limiter
from mltakedown.meli.retry import RetryPolicy
from mltakedown.meli.tokens import (
    FileTokenStore,
    KeyringTokenStore,
    TokenSet,
    TokenStore,
    config_dir,
    default_token_store,
    keyring_usable,
)

__all__ = [
    "AUTH_HOSTS",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AdGroup",
    "Advertiser",
    "Attribute",
    "AuthenticationError",
    "BadRequestError",
    "CallRecord",
    "ClientConfig",
    "ConflictError",
    "ErrorCause",
    "FileTokenStore",
    "InvalidResponseError",
    "Item",
    "ItemResult",
    "ItemShipping",
    "KeyringTokenStore",
    "MeliClient",
    "MeliError",
    "NotFoundError",
    "OAuthApp",
    "OnCall",
    "Order",
    "OrderItem",
    "OrderItemRef",
    "PKCEPair",
    "PermissionDeniedError",
    "Question",
    "RateLimitError",
    "RateLimiter",
    "RetryPolicy",
    "SearchLimitError",
    "ServerError",
    "Shipment",
    "StaticToken",
    "TokenError",
    "TokenManager",
    "TokenProvider",
    "TokenSet",
    "TokenStore",
    "User",
    "Variation",
    "code_challenge",
    "config_dir",
    "default_token_store",
    "generate_pkce",
    "keyring_usable",
    "shared_limiter",
]
