"""API errors → execution codes: what a failed write shows in its row and in the journal.

:func:`classify` turns an exception from the client into a :class:`Failure`: the execution code
(``RATE_LIMITED``, ``AUTH_FAILED``, ``NETWORK``…) and the API's own words for the ``api_error``
column (HTTP status, error code, cause codes, message).
"""

from __future__ import annotations

from dataclasses import dataclass

from mltakedown.codes import Code
from mltakedown.meli.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    MeliError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TokenError,
)


@dataclass(frozen=True, slots=True)
class Failure:
    """A write that did not go through, as the row and the journal show it."""

    code: Code
    message: str
    http_status: int | None = None
    error: str = ""
    cause_codes: tuple[str, ...] = ()
    request_id: str | None = None

    @property
    def api_error(self) -> str:
        """The API's own words for the ``api_error`` column: status, error code, causes, message."""
        parts: list[str] = []
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.error:
            parts.append(self.error)
        if self.cause_codes:
            parts.append(", ".join(self.cause_codes))
        head = " ".join(parts)
        return f"{head}: {self.message}" if head else self.message


def classify(exc: BaseException) -> Failure:
    """Map an exception from the client to the execution code the row shows.

    429 after the client's retries → RATE_LIMITED; 401 or an unusable token → AUTH_FAILED;
    timeouts and connection failures → NETWORK; 409 → CONFLICT; 403 → FORBIDDEN; 400 →
    API_VALIDATION (with the cause); 5xx → SERVER_ERROR.
    """
    if isinstance(exc, APIError):
        code = _api_error_code(exc)
        return Failure(
            code=code,
            message=exc.message,
            http_status=exc.status_code,
            error=exc.error,
            cause_codes=tuple(exc.cause_codes),
            request_id=exc.request_id,
        )
    if isinstance(exc, TokenError):
        return Failure(Code.AUTH_FAILED, exc.message, error=exc.code)
    if isinstance(exc, APIConnectionError):
        sent = "the request may have reached the server" if exc.request_sent else "the request was not sent"
        return Failure(Code.NETWORK, f"{exc.message} ({sent})", error=exc.code)
    if isinstance(exc, MeliError):
        return Failure(Code.SERVER_ERROR, exc.message, error=exc.code, request_id=exc.request_id)
    if isinstance(exc, TimeoutError | OSError):
        return Failure(Code.NETWORK, str(exc) or type(exc).__name__, error=type(exc).__name__)
    raise TypeError(f"not an API failure: {exc!r}") from exc


_API_ERROR_CODES: tuple[tuple[type[APIError], Code], ...] = (
    (RateLimitError, Code.RATE_LIMITED),
    (AuthenticationError, Code.AUTH_FAILED),
    (ConflictError, Code.CONFLICT),
    (PermissionDeniedError, Code.FORBIDDEN),
    (NotFoundError, Code.NOT_FOUND),
    (BadRequestError, Code.API_VALIDATION),
    (ServerError, Code.SERVER_ERROR),
)
"""Error class → code, the first match wins."""


def _api_error_code(exc: APIError) -> Code:
    for kind, code in _API_ERROR_CODES:
        if isinstance(exc, kind):
            return code
    return Code.SERVER_ERROR if exc.status_code >= 500 else Code.API_VALIDATION
