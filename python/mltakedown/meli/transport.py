"""The HTTP boundary: the one place where httpx exceptions become :mod:`~mltakedown.meli.errors`.

:func:`map_transport_errors` translates every httpx exception into an
:class:`~mltakedown.meli.errors.APIConnectionError` (or :class:`APITimeoutError`) carrying a
short code and ``request_sent``: whether the request may have reached the server, which
decides whether a write may be retried (see :mod:`mltakedown.meli.retry`). A unit test walks
every exception class httpx exports and checks each has a row in the table below.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from mltakedown.meli.config import ClientConfig
from mltakedown.meli.constants import USER_AGENT
from mltakedown.meli.errors import APIConnectionError, APITimeoutError

__all__ = ["HttpTransport", "classify_transport_error", "map_transport_errors"]

# (httpx class, our class, code, request may have been sent). Ordered most specific first:
# the first ``isinstance`` match wins.
TRANSPORT_ERROR_TABLE: tuple[tuple[type[Exception], type[APIConnectionError], str, bool], ...] = (
    # Nothing left the machine: safe to retry any request.
    (httpx.ConnectTimeout, APITimeoutError, "connect_timeout", False),
    (httpx.PoolTimeout, APITimeoutError, "pool_timeout", False),
    (httpx.ConnectError, APIConnectionError, "connect_error", False),
    (httpx.ProxyError, APIConnectionError, "proxy_error", False),
    # The request was (maybe partly) sent and no answer came: the outcome is unknown.
    (httpx.ReadTimeout, APITimeoutError, "read_timeout", True),
    (httpx.WriteTimeout, APITimeoutError, "write_timeout", True),
    (httpx.TimeoutException, APITimeoutError, "timeout", True),
    (httpx.ReadError, APIConnectionError, "connection_dropped", True),
    (httpx.WriteError, APIConnectionError, "connection_dropped", True),
    (httpx.CloseError, APIConnectionError, "connection_dropped", True),
    (httpx.RemoteProtocolError, APIConnectionError, "connection_dropped", True),
    (httpx.NetworkError, APIConnectionError, "network_error", True),
    # Local mistakes: the request is malformed and would fail again (never retried).
    (httpx.UnsupportedProtocol, APIConnectionError, "invalid_request", False),
    (httpx.LocalProtocolError, APIConnectionError, "invalid_request", False),
    (httpx.InvalidURL, APIConnectionError, "invalid_request", False),
    (httpx.CookieConflict, APIConnectionError, "invalid_request", False),
    (httpx.StreamError, APIConnectionError, "invalid_request", False),
    # An answer came but could not be used.
    (httpx.DecodingError, APIConnectionError, "decoding_error", True),
    (httpx.TooManyRedirects, APIConnectionError, "too_many_redirects", True),
    # Catch-alls for classes httpx may add later.
    (httpx.ProtocolError, APIConnectionError, "protocol_error", True),
    (httpx.TransportError, APIConnectionError, "transport_error", True),
    (httpx.RequestError, APIConnectionError, "request_error", True),
    (httpx.HTTPError, APIConnectionError, "http_error", True),
)


def classify_transport_error(
    exc: BaseException,
) -> tuple[type[APIConnectionError], str, bool] | None:
    """The (class, code, request_sent) row for an httpx exception, or None if not httpx's."""
    for exc_type, mapped, code, sent in TRANSPORT_ERROR_TABLE:
        if isinstance(exc, exc_type):
            return mapped, code, sent
    return None


@contextmanager
def map_transport_errors(method: str, path: str) -> Iterator[None]:
    """Re-raise any httpx exception raised inside the block as an ``APIConnectionError``."""
    try:
        yield
    except (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError) as exc:
        row = classify_transport_error(exc)
        if row is None:  # pragma: no cover - the except clause only catches classified types
            raise
        mapped, code, sent = row
        detail = str(exc) or type(exc).__name__
        raise mapped(
            f"{type(exc).__name__}: {detail}", code=code, method=method, path=path, request_sent=sent
        ) from exc


class HttpTransport:
    """Owns the ``httpx.AsyncClient`` (base URL, timeouts, headers) and sends one attempt."""

    def __init__(self, config: ClientConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.http = httpx.AsyncClient(
            base_url=config.api_url,
            transport=transport,
            timeout=config.timeout,
            headers={"accept": "application/json", "user-agent": USER_AGENT},
        )

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send one request and read the whole response; transport failures are mapped."""
        with map_transport_errors(request.method, request.url.path):
            return await self.http.send(request)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()
