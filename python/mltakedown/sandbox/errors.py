"""Error bodies of the Mercado Libre API, exactly as clients see them (ml-api.md §6).

Every failing handler raises :class:`ApiError`; the app turns it into a JSON response.
The envelope is ``{"message", "error", "status", "cause"}`` except where the real API differs
(the 2023 401 body, the PolicyAgent-style 403, the ads 404 with ``description``).
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """An HTTP error response: status, JSON body and extra headers."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def envelope(status: int, error: str, message: str, cause: list[Any] | None = None) -> JSON:
    """The canonical error body."""
    return {"message": message, "error": error, "status": status, "cause": cause or []}


def item_cause(cause_id: int, code: str, message: str, references: list[str] | None = None) -> JSON:
    """One validation cause of the items department."""
    cause: JSON = {"department": "items", "cause_id": cause_id, "type": "error", "code": code}
    if references is not None:
        cause["references"] = references
    cause["message"] = message
    return cause


def bad_request(message: str, error: str = "bad_request", cause: list[Any] | None = None) -> ApiError:
    """A 400 with the canonical envelope."""
    return ApiError(400, envelope(400, error, message, cause))


def validation_error(message: str, cause: list[Any] | None = None) -> ApiError:
    """A 400 ``validation_error`` (item writes)."""
    return ApiError(400, envelope(400, "validation_error", message, cause))


def item_not_found(item_id: str) -> ApiError:
    """404 for an unknown item; the same body appears inside multiget entries."""
    return ApiError(404, item_not_found_body(item_id))


def item_not_found_body(item_id: str) -> JSON:
    """The body of a missing item."""
    return envelope(404, "not_found", f"Item with id {item_id} not found")


def not_found(message: str) -> ApiError:
    """A generic 404."""
    return ApiError(404, envelope(404, "not_found", message))


def forbidden() -> ApiError:
    """403 when the token is not the owner's."""
    return ApiError(403, envelope(403, "forbidden", "The caller is not authorized to access this resource"))


def unauthorized(legacy: bool) -> ApiError:
    """401 for a bad or expired token, in one of its two real shapes."""
    if legacy:
        return ApiError(401, envelope(401, "not_found", "invalid_token"))
    return ApiError(401, {"code": "unauthorized", "message": "invalid access token"})


def invalid_grant() -> ApiError:
    """400 for a used, expired or unknown authorization code / refresh token."""
    return ApiError(
        400,
        envelope(
            400,
            "invalid_grant",
            "Error validating grant. Your authorization code or refresh token may be expired "
            "or it was already used",
        ),
    )


def conflict() -> ApiError:
    """409 optimistic locking (rapid successive writes to one item)."""
    return ApiError(409, envelope(409, "conflict", "item optimistic locking error: conflict"))


def cannot_update(item_id: str, status: str, has_bids: bool, cause: list[Any] | None = None) -> ApiError:
    """400 "Cannot update item X [status:…, has_bids:…]" (closed / platform-controlled items)."""
    message = f"Cannot update item {item_id} [status:{status}, has_bids:{str(has_bids).lower()}]"
    return validation_error(message, cause)


STATUS_NOT_MODIFIABLE = item_cause(340, "item.status.not_modifiable", "status is not modifiable.")
ACTIVATE_WITHOUT_STOCK = item_cause(
    323,
    "item.status.invalid",
    "Is not possible to activate an item without stock.",
    ["item.status", "item.available_quantity"],
)


def field_not_updatable(field: str = "available_quantity", why: str = "") -> ApiError:
    """400 ``field_not_updatable`` (stock on a platform-controlled or FULL item)."""
    message = f"{field} is not modifiable." + (f" {why}" if why else "")
    return validation_error(
        "Validation error", [item_cause(0, "field_not_updatable", message, [f"item.{field}"])]
    )


RATE_LIMIT_BODIES: tuple[JSON, JSON] = (
    {"message": "Too Many Requests", "error": "too_many_requests", "status": 429, "cause": []},
    {"message": "local rate limited", "error": "local_rate_limited", "status": 429, "cause": []},
)

SERVER_ERROR_BODIES: dict[int, JSON] = {
    500: envelope(500, "internal_server_error", "Internal server error"),
    502: envelope(502, "bad_gateway", "Bad Gateway"),
    503: envelope(503, "service_not_available", "Service unavailable"),
    504: envelope(504, "gateway_timeout", "Gateway Timeout"),
}
