"""The one exception tree of the API client, and the parser of every error body ML sends.

::

    MeliError                      anything raised by mltakedown.meli
    ├── APIError                   the API answered with an error status (or an unusable body)
    │   ├── BadRequestError        400 (validation_error with causes, invalid_grant, ...)
    │   ├── AuthenticationError    401 (bad or expired access token)
    │   ├── PermissionDeniedError  403 (not the owner, PolicyAgent functional permission)
    │   ├── NotFoundError          404
    │   ├── ConflictError          409 (optimistic locking; retried before it is raised)
    │   ├── RateLimitError         429 (retried before it is raised)
    │   ├── ServerError            5xx (retried before it is raised)
    │   └── InvalidResponseError   2xx whose body is not the JSON we expect
    ├── APIConnectionError         no HTTP answer: connect failure, dropped connection, ...
    │   └── APITimeoutError        ... or a timeout
    ├── TokenError                 no token, refresh failed (invalid_grant), store unusable
    └── SearchLimitError           offset paging cannot reach every result: scan instead

ML's error bodies are not uniform (ml-api.md §6, §12). :func:`parse_error_body` accepts the
standard envelope ``{"message","error","status","cause":[...]}``, validation causes with
``cause_id``/``code``/``references``, ``{"code":"unauthorized","message":...}``, the PolicyAgent
403 ``{"code":"PA_...","blocked_by":"PolicyAgent",...}``, the advertisers 404 that uses
``description``, HTML from a proxy and empty bodies. Every error keeps the HTTP status, the
API's ``error`` code, the cause codes, the message, ``method`` + ``path`` and the response's
``x-request-id``; ``str(err)`` shows all of them so a spreadsheet cell is self-explanatory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ErrorCause",
    "InvalidResponseError",
    "MeliError",
    "NotFoundError",
    "ParsedErrorBody",
    "PermissionDeniedError",
    "RateLimitError",
    "SearchLimitError",
    "ServerError",
    "TokenError",
    "api_error_from_response",
    "make_api_error",
    "parse_error_body",
    "parse_error_data",
]

_SNIPPET_CHARS = 160


class MeliError(Exception):
    """Root of every exception raised by :mod:`mltakedown.meli`.

    ``code`` is a short machine-readable code (the API's ``error`` for API errors), suitable
    for a result sheet; ``request_id`` is the response's ``x-request-id`` when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.method = method
        self.path = path
        self.request_id = request_id

    def _where(self) -> str:
        parts: list[str] = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return f" ({'; '.join(parts)})" if parts else ""

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}{self._where()}"


@dataclass(frozen=True)
class ErrorCause:
    """One entry of an error body's ``cause`` list (validation causes of item writes)."""

    code: str | None = None
    """Machine code such as ``item.status.not_modifiable``."""
    message: str | None = None
    """Human text of the cause."""
    cause_id: int | None = None
    """Numeric id (323 = activate without stock, 340 = status not modifiable, ...)."""
    type: str | None = None
    """``error`` or ``warning``."""
    department: str | None = None
    """Owning department, usually ``items``."""
    references: tuple[str, ...] = ()
    """Fields the cause refers to, e.g. ``item.available_quantity``."""


@dataclass(frozen=True)
class ParsedErrorBody:
    """What :func:`parse_error_body` extracted from one error response body."""

    error: str
    """The API's machine code (``error``, else ``code``), or ``http_<status>`` when absent."""
    message: str
    """The human message (``message``, else ``description``), or a body snippet."""
    causes: tuple[ErrorCause, ...] = ()
    """Parsed ``cause`` entries."""
    blocked_by: str | None = None
    """``PolicyAgent`` for functional-permission 403s."""
    body: Any = None
    """The decoded JSON body (or ``None`` when the body was not JSON)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Other top-level keys of a JSON object body."""


class APIError(MeliError):
    """The API answered with an error status (or a body the client cannot use).

    Attributes follow ARCHITECTURE.md §1: ``status_code``, ``error`` (the API's code),
    ``causes``, ``message``, ``request_id``, ``method`` and ``path``.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error: str,
        causes: Sequence[ErrorCause] = (),
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        blocked_by: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=error, method=method, path=path, request_id=request_id)
        self.status_code = status_code
        self.error = error
        self.causes = tuple(causes)
        self.blocked_by = blocked_by
        self.body = body
        self.retry_after = retry_after

    @property
    def cause_codes(self) -> list[str]:
        """The ``code`` of every cause, in order (``item.status.not_modifiable``, ...)."""
        return [c.code for c in self.causes if c.code]

    def __str__(self) -> str:
        causes = f" [causes: {', '.join(self.cause_codes)}]" if self.cause_codes else ""
        return f"HTTP {self.status_code} [{self.error}] {self.message}{causes}{self._where()}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, error={self.error!r}, "
            f"message={self.message!r}, cause_codes={self.cause_codes!r}, "
            f"method={self.method!r}, path={self.path!r}, request_id={self.request_id!r})"
        )


class BadRequestError(APIError):
    """HTTP 400: validation errors (see ``causes``), ``invalid_grant`` on the token endpoint."""


class AuthenticationError(APIError):
    """HTTP 401: the access token is missing, invalid or expired (after one refresh, if any)."""


class PermissionDeniedError(APIError):
    """HTTP 403: the caller does not own the resource, or a functional permission is missing
    (``blocked_by == "PolicyAgent"``)."""


class NotFoundError(APIError):
    """HTTP 404: no such item, order, shipment, advertiser, ..."""


class ConflictError(APIError):
    """HTTP 409: optimistic-locking conflict; raised only once the retries are used up."""


class RateLimitError(APIError):
    """HTTP 429: too many requests; raised only once the retries are used up."""


class ServerError(APIError):
    """HTTP 5xx; raised only once the retries are used up."""


class InvalidResponseError(APIError):
    """A successful status whose body is not JSON or does not have the expected shape."""


class APIConnectionError(MeliError):
    """No HTTP answer was received (connect failure, dropped connection, protocol error).

    ``request_sent`` says whether the request may have reached the server: when it is true
    for a write, the write's effect is unknown and the caller must read the item back to
    reconcile instead of writing again.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "connection_error",
        method: str | None = None,
        path: str | None = None,
        request_sent: bool = False,
    ) -> None:
        super().__init__(message, code=code, method=method, path=path)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout."""


class TokenError(MeliError):
    """No usable access token: none configured, the refresh was refused (``invalid_grant``),
    a refresh answer was lost, or the token store failed. Re-authorise the account."""

    def __init__(self, message: str, *, code: str = "token_error", alias: str | None = None) -> None:
        super().__init__(message, code=code)
        self.alias = alias


class SearchLimitError(MeliError):
    """Offset paging cannot reach all ``total`` results (ML stops at offset 1000);
    call :meth:`MeliClient.scan_item_ids` instead."""

    def __init__(
        self, message: str, *, total: int, method: str | None = None, path: str | None = None
    ) -> None:
        super().__init__(message, code="search_offset_cap", method=method, path=path)
        self.total = total


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def _error_class(status_code: int) -> type[APIError]:
    if status_code >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status_code, APIError)


def _as_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _parse_cause(raw: Any) -> ErrorCause:
    if isinstance(raw, Mapping):
        refs = raw.get("references")
        references = tuple(str(r) for r in refs) if isinstance(refs, list) else ()
        return ErrorCause(
            code=_as_str(raw.get("code")) or _as_str(raw.get("error")),
            message=_as_str(raw.get("message")),
            cause_id=_as_int(raw.get("cause_id")),
            type=_as_str(raw.get("type")),
            department=_as_str(raw.get("department")),
            references=references,
        )
    # Some endpoints put bare strings in ``cause`` (e.g. seller.unable_to_list causes).
    return ErrorCause(code=_as_str(raw), message=_as_str(raw))


def _parse_causes(raw: Any) -> tuple[ErrorCause, ...]:
    if raw is None:
        return ()
    if isinstance(raw, list):
        return tuple(_parse_cause(c) for c in raw if c not in (None, ""))
    return (_parse_cause(raw),)


def _snippet(text: str) -> str:
    text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text[:_SNIPPET_CHARS] + ("…" if len(text) > _SNIPPET_CHARS else "")


def parse_error_body(status_code: int, content: bytes, content_type: str = "") -> ParsedErrorBody:
    """Extract code, message and causes from any error body variant ML is known to send."""
    fallback_code = f"http_{status_code}"
    reason = httpx.codes.get_reason_phrase(status_code) or "HTTP error"
    if not content.strip():
        return ParsedErrorBody(error=fallback_code, message=f"{reason} (empty body)")
    try:
        data: Any = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", errors="replace")
        kind = content_type.split(";")[0].strip() or "unknown type"
        return ParsedErrorBody(
            error=fallback_code, message=f"{reason} (non-JSON {kind} body: {_snippet(text)})"
        )
    return parse_error_data(status_code, data)


def parse_error_data(status_code: int, data: Any) -> ParsedErrorBody:
    """Like :func:`parse_error_body` for an already decoded JSON value (multiget entries)."""
    fallback_code = f"http_{status_code}"
    reason = httpx.codes.get_reason_phrase(status_code) or "HTTP error"
    if data is None:
        return ParsedErrorBody(error=fallback_code, message=f"{reason} (empty body)")
    if not isinstance(data, Mapping):
        return ParsedErrorBody(
            error=fallback_code, message=f"{reason} ({_snippet(json.dumps(data))})", body=data
        )
    # ``error`` is the canonical machine code; token errors and the PolicyAgent gateway use ``code``.
    error = _as_str(data.get("error")) or _as_str(data.get("code")) or fallback_code
    # ``description`` is what the advertisers endpoint uses instead of ``message``.
    message = (
        _as_str(data.get("message"))
        or _as_str(data.get("description"))
        or _as_str(data.get("error_description"))
        or reason
    )
    known = {"error", "code", "message", "description", "status", "cause", "blocked_by"}
    return ParsedErrorBody(
        error=error,
        message=message,
        causes=_parse_causes(data.get("cause")),
        blocked_by=_as_str(data.get("blocked_by")),
        body=data,
        extra={k: v for k, v in data.items() if k not in known},
    )


def make_api_error(
    status_code: int,
    parsed: ParsedErrorBody,
    *,
    method: str | None,
    path: str | None,
    request_id: str | None,
    retry_after: float | None = None,
) -> APIError:
    """Build the :class:`APIError` subclass that matches ``status_code``."""
    cls = _error_class(status_code)
    return cls(
        parsed.message,
        status_code=status_code,
        error=parsed.error,
        causes=parsed.causes,
        method=method,
        path=path,
        request_id=request_id,
        blocked_by=parsed.blocked_by,
        body=parsed.body,
        retry_after=retry_after,
    )


def api_error_from_response(response: httpx.Response, *, retry_after: float | None = None) -> APIError:
    """Map an error response to its typed exception (the single status dispatch)."""
    parsed = parse_error_body(
        response.status_code, response.content, response.headers.get("content-type", "")
    )
    return make_api_error(
        response.status_code,
        parsed,
        method=response.request.method,
        path=response.request.url.path,
        request_id=response.headers.get("x-request-id"),
        retry_after=retry_after,
    )
