"""Every error-body variant of ml-api.md becomes a typed error with code, causes and request id;
every httpx exception is mapped at the transport boundary."""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx
import pytest

from mltakedown.meli import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from mltakedown.meli.errors import parse_error_body
from mltakedown.meli.transport import TRANSPORT_ERROR_TABLE, classify_transport_error, map_transport_errors

from .conftest import Harness

JSON = "application/json"

ERROR_VARIANTS: list[tuple[str, int, Any, str, type[APIError], str, str, list[str]]] = [
    # id, status, body, content type, class, error code, message fragment, cause codes
    (
        "standard-404",
        404,
        {"message": "Item with id MLM1 not found", "error": "not_found", "status": 404, "cause": []},
        JSON,
        NotFoundError,
        "not_found",
        "Item with id MLM1 not found",
        [],
    ),
    (
        "validation-no-stock",
        400,
        {
            "message": "Validation error",
            "error": "validation_error",
            "status": 400,
            "cause": [
                {
                    "department": "items",
                    "cause_id": 323,
                    "type": "error",
                    "code": "item.status.invalid",
                    "references": ["item.status", "item.available_quantity"],
                    "message": "Is not possible to activate an item without stock.",
                }
            ],
        },
        JSON,
        BadRequestError,
        "validation_error",
        "Validation error",
        ["item.status.invalid"],
    ),
    (
        "validation-not-modifiable",
        400,
        {
            "message": "Cannot update item MLB1 [status:under_review, has_bids:false]",
            "error": "validation_error",
            "status": 400,
            "cause": [
                {
                    "department": "items",
                    "cause_id": 340,
                    "type": "error",
                    "code": "item.status.not_modifiable",
                    "message": "status is not modifiable.",
                },
                {"type": "warning", "code": "item.price.ignored", "message": "price ignored"},
            ],
        },
        JSON,
        BadRequestError,
        "validation_error",
        "under_review",
        ["item.status.not_modifiable", "item.price.ignored"],
    ),
    (
        "unauthorized-2023",
        401,
        {"code": "unauthorized", "message": "invalid access token"},
        JSON,
        AuthenticationError,
        "unauthorized",
        "invalid access token",
        [],
    ),
    (
        "invalid-token-older",
        401,
        {"message": "invalid_token", "error": "not_found", "status": 401, "cause": []},
        JSON,
        AuthenticationError,
        "not_found",
        "invalid_token",
        [],
    ),
    (
        "forbidden-owner",
        403,
        {
            "message": "The caller is not authorized to access this resource",
            "error": "forbidden",
            "status": 403,
            "cause": [],
        },
        JSON,
        PermissionDeniedError,
        "forbidden",
        "not authorized",
        [],
    ),
    (
        "policy-agent",
        403,
        {
            "code": "PA_UNAUTHORIZED_RESULT_FROM_POLICIES",
            "blocked_by": "PolicyAgent",
            "message": "At least one policy returned UNAUTHORIZED.",
            "status": 403,
        },
        JSON,
        PermissionDeniedError,
        "PA_UNAUTHORIZED_RESULT_FROM_POLICIES",
        "At least one policy",
        [],
    ),
    (
        "advertisers-404",
        404,
        {"status": 404, "error": "not_found", "description": "No permissions found for user_id 1001"},
        JSON,
        NotFoundError,
        "not_found",
        "No permissions found",
        [],
    ),
    (
        "invalid-grant",
        400,
        {
            "message": "Error validating grant. Your authorization code or refresh token may be expired "
            "or it was already used",
            "error": "invalid_grant",
            "status": 400,
            "cause": [],
        },
        JSON,
        BadRequestError,
        "invalid_grant",
        "Error validating grant",
        [],
    ),
    (
        "conflict",
        409,
        {
            "message": "item optimistic locking error: conflict",
            "error": "conflict",
            "status": 409,
            "cause": [],
        },
        JSON,
        ConflictError,
        "conflict",
        "optimistic locking",
        [],
    ),
    (
        "local-rate-limited",
        429,
        {"error": "local_rate_limited", "status": 429},
        JSON,
        RateLimitError,
        "local_rate_limited",
        "Too Many Requests",
        [],
    ),
    (
        "too-many-requests",
        429,
        {"message": "Too Many Requests", "error": "too_many_requests", "status": 429, "cause": []},
        JSON,
        RateLimitError,
        "too_many_requests",
        "Too Many Requests",
        [],
    ),
    (
        "500",
        500,
        {"message": "Internal server error", "error": "internal_server_error", "status": 500, "cause": []},
        JSON,
        ServerError,
        "internal_server_error",
        "Internal server error",
        [],
    ),
    (
        "502-html",
        502,
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        "text/html",
        ServerError,
        "http_502",
        "502 Bad Gateway",
        [],
    ),
    (
        "503",
        503,
        {"message": "service unavailable", "error": "service_not_available", "status": 503},
        JSON,
        ServerError,
        "service_not_available",
        "service unavailable",
        [],
    ),
    ("504-empty", 504, None, "", ServerError, "http_504", "empty body", []),
    ("404-empty", 404, None, "", NotFoundError, "http_404", "empty body", []),
    (
        "400-string-causes",
        403,
        {
            "message": "seller.unable_to_list",
            "error": "forbidden",
            "status": 403,
            "cause": ["address_pending", "phone_pending"],
        },
        JSON,
        PermissionDeniedError,
        "forbidden",
        "seller.unable_to_list",
        ["address_pending", "phone_pending"],
    ),
    ("json-array-body", 400, ["odd"], JSON, BadRequestError, "http_400", "odd", []),
]


def _content(body: Any) -> bytes:
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "body", "ctype", "cls", "code", "fragment", "causes"),
    [pytest.param(*v[1:], id=v[0]) for v in ERROR_VARIANTS],
)
async def test_error_variant_maps_to_typed_error(
    harness: Harness,
    status: int,
    body: Any,
    ctype: str,
    cls: type[APIError],
    code: str,
    fragment: str,
    causes: list[str],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"x-request-id": "rid-42"}
        if ctype:
            headers["content-type"] = ctype
        return httpx.Response(status, content=_content(body), headers=headers)

    async with harness.client(handler, retry=RetryPolicy(max_retries=0)) as api:
        with pytest.raises(cls) as caught:
            await api.get_item("MLM1")
    err = caught.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.error == code == err.code
    assert fragment in err.message
    assert err.cause_codes == causes
    assert err.request_id == "rid-42"
    assert (err.method, err.path) == ("GET", "/items/MLM1")
    text = str(err)
    assert "rid-42" in text and code in text and "GET /items/MLM1" in text
    assert "rid-42" in repr(err)


def test_policy_agent_keeps_blocked_by() -> None:
    parsed = parse_error_body(403, b'{"code":"PA_X","blocked_by":"PolicyAgent","message":"m","status":403}')
    assert parsed.blocked_by == "PolicyAgent"
    assert parsed.error == "PA_X"


def test_validation_cause_fields_are_parsed() -> None:
    body = ERROR_VARIANTS[1][2]
    parsed = parse_error_body(400, json.dumps(body).encode(), JSON)
    (cause,) = parsed.causes
    assert cause.cause_id == 323
    assert cause.department == "items"
    assert cause.type == "error"
    assert cause.references == ("item.status", "item.available_quantity")


async def test_success_with_html_body_is_invalid_response(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>proxy</html>", headers={"x-request-id": "r9"})

    async with harness.client(handler) as api:
        with pytest.raises(InvalidResponseError) as caught:
            await api.me()
    assert caught.value.request_id == "r9"


def _instantiate(exc_type: type[Exception]) -> Exception:
    request = httpx.Request("GET", "https://api.test/x")
    if issubclass(exc_type, httpx.HTTPStatusError):
        return exc_type("boom", request=request, response=httpx.Response(500, request=request))
    params = inspect.signature(exc_type.__init__).parameters
    if "request" in params:
        return exc_type("boom", request=request)  # type: ignore[call-arg]
    if "message" in params or len(params) > 1:
        try:
            return exc_type("boom")
        except TypeError:
            pass
    return exc_type()


HTTPX_EXCEPTIONS = sorted(
    (
        obj
        for name in httpx.__all__
        if isinstance(obj := getattr(httpx, name), type) and issubclass(obj, Exception)
    ),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("exc_type", HTTPX_EXCEPTIONS, ids=lambda cls: cls.__name__)
def test_every_httpx_exception_is_mapped(exc_type: type[Exception]) -> None:
    exc = _instantiate(exc_type)
    assert classify_transport_error(exc) is not None
    with pytest.raises(APIConnectionError) as caught, map_transport_errors("GET", "/x"):
        raise exc
    assert caught.value.__cause__ is exc
    assert (caught.value.method, caught.value.path) == ("GET", "/x")
    if isinstance(exc, httpx.TimeoutException):
        assert isinstance(caught.value, APITimeoutError)


def test_table_rows_use_httpx_classes_only() -> None:
    for exc_type, mapped, code, _sent in TRANSPORT_ERROR_TABLE:
        assert exc_type.__module__.startswith("httpx")
        assert issubclass(mapped, APIConnectionError)
        assert code


@pytest.mark.parametrize(
    ("exc_type", "sent"),
    [
        (httpx.ConnectError, False),
        (httpx.ConnectTimeout, False),
        (httpx.PoolTimeout, False),
        (httpx.ReadTimeout, True),
        (httpx.ReadError, True),
        (httpx.RemoteProtocolError, True),
        (httpx.WriteError, True),
    ],
)
def test_request_sent_flag(exc_type: type[Exception], sent: bool) -> None:
    with pytest.raises(APIConnectionError) as caught, map_transport_errors("PUT", "/items/X"):
        raise _instantiate(exc_type)
    assert caught.value.request_sent is sent
