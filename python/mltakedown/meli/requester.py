"""One logical API call: rate limit, bearer token, send, retry, refresh-once-on-401, hook.

Every attempt (first try, retries, the retry after a token refresh) passes through the shared
:class:`~mltakedown.meli.ratelimit.RateLimiter` and is reported to ``on_call``. A 429 pauses
the limiter for everyone (``Retry-After`` or the backoff), while 5xx and 409 back off only the
call that saw them.

A write whose attempt may have been applied (a 500/502/504 answer, or a transport failure after
sending) and whose retry is then refused with a 4xx (typically "Cannot update item
[status:closed]" because the first close did go through) raises the *first*, ambiguous failure,
with the refusal in its message: the write's effect is unknown, so the engine must read the item
back rather than record a final failure for a listing that did come down.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from mltakedown.meli.auth import StaticToken, TokenProvider
from mltakedown.meli.calls import CallRecord, OnCall
from mltakedown.meli.errors import (
    APIConnectionError,
    APIError,
    InvalidResponseError,
    MeliError,
    TokenError,
    api_error_from_response,
)
from mltakedown.meli.ratelimit import RateLimiter
from mltakedown.meli.retry import (
    RetryPolicy,
    may_have_been_applied,
    parse_retry_after,
    should_retry_status,
    should_retry_transport,
)
from mltakedown.meli.transport import HttpTransport

__all__ = ["Requester"]

logger = logging.getLogger("mltakedown.meli")

Sleep = Callable[[float], Awaitable[None]]
QueryParams = Mapping[str, str | int]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Requester:
    """Runs API calls with the client's policies; :class:`MeliClient` builds on it."""

    def __init__(
        self,
        transport: HttpTransport,
        tokens: TokenProvider | None,
        limiter: RateLimiter,
        retry: RetryPolicy,
        on_call: OnCall | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.transport = transport
        self.tokens = tokens
        self.limiter = limiter
        self.retry = retry
        self.on_call = on_call
        self._sleep = sleep

    async def _token(self) -> str:
        if self.tokens is None:
            raise TokenError(
                "no access token: set MLTAKEDOWN_ACCESS_TOKEN or log an account in", code="no_token"
            )
        return await self.tokens.access_token()

    def _report(self, record: CallRecord) -> None:
        if self.on_call is None:
            return
        try:
            self.on_call(record)
        except Exception:
            # A broken log hook must not turn a completed write into a failure.
            logger.exception("on_call hook failed for %s %s", record.method, record.path)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send a call until it succeeds or fails for good; return the 2xx response.

        ``idempotent`` (default: every method but POST) allows retrying transport failures
        that happened after the request was sent.
        """
        if idempotent is None:
            idempotent = method.upper() != "POST"
        is_write = method.upper() in WRITE_METHODS
        attempt = 0
        retries = 0
        refreshed = False
        # The first failure after which this write may already have been applied.
        ambiguous: MeliError | None = None
        while True:
            attempt += 1
            await self.limiter.acquire()
            token = await self._token()
            request = self.transport.http.build_request(
                method,
                path,
                params=params,
                json=json,
                headers={**(headers or {}), "authorization": f"Bearer {token}"},
            )
            at = datetime.now(UTC)
            started = time.perf_counter()
            # Every attempt is reported once, however it ends: (status, request id, error code).
            record = functools.partial(self._record, request, at, started, attempt)
            try:
                response = await self.transport.send(request)
            except APIConnectionError as exc:
                self._report(record(None, None, exc.code))
                if is_write and exc.request_sent and ambiguous is None:
                    ambiguous = exc
                if retries < self.retry.max_retries and should_retry_transport(exc, idempotent=idempotent):
                    retries += 1
                    logger.warning("%s %s: %s, retry %d", method, request.url.path, exc.code, retries)
                    await self._sleep(self.retry.backoff(retries))
                    continue
                raise
            request_id = response.headers.get("x-request-id")
            if response.is_success:
                self._report(record(response.status_code, request_id, None))
                return response

            retry_after = parse_retry_after(response.headers.get("retry-after"))
            error = api_error_from_response(response, retry_after=retry_after)
            self._report(record(response.status_code, request_id, error.error))
            if is_write and ambiguous is None and may_have_been_applied(response.status_code):
                ambiguous = error
            if response.status_code == 401:
                if self.tokens is not None and self.tokens.can_refresh and not refreshed:
                    refreshed = True
                    await self.tokens.refresh(token)
                    continue
                error.message += self._why_still_refused(refreshed)
                raise error
            retryable = should_retry_status(response.status_code, idempotent=idempotent)
            if retryable and retries < self.retry.max_retries:
                retries += 1
                delay = self.retry.delay(retries, status_code=response.status_code, retry_after=retry_after)
                logger.warning(
                    "%s %s: HTTP %d, retry %d in %.2fs",
                    method,
                    request.url.path,
                    response.status_code,
                    retries,
                    delay,
                )
                if response.status_code == 429:
                    # The budget is per application: slow every caller, not just this one.
                    self.limiter.pause_for(delay)
                else:
                    await self._sleep(delay)
                continue
            if response.status_code == 429:
                # Giving up on this call does not end the storm: still hold every other caller
                # back, or they run into the same wall one after another.
                self.limiter.pause_for(
                    self.retry.delay(retries + 1, status_code=429, retry_after=retry_after)
                )
            if ambiguous is not None and ambiguous is not error and not retryable:
                raise _still_ambiguous(ambiguous, error) from error
            raise error

    def _why_still_refused(self, refreshed: bool) -> str:
        """What to add to a final 401's message: why no (further) refresh could help."""
        if refreshed:
            return " (still refused after refreshing the token)"
        if self.tokens is None or isinstance(self.tokens, StaticToken):
            return " (the access token cannot be refreshed: it was given directly)"
        return (
            " (the access token cannot be refreshed: the application it was issued to is not known "
            "for this account; log the account in again)"
        )

    @staticmethod
    def _record(
        request: httpx.Request,
        at: datetime,
        started: float,
        attempt: int,
        status: int | None,
        request_id: str | None,
        error: str | None,
    ) -> CallRecord:
        return CallRecord(
            at=at,
            method=request.method,
            path=request.url.path,
            status=status,
            request_id=request_id,
            duration_ms=round((time.perf_counter() - started) * 1000.0, 3),
            attempt=attempt,
            error=error,
            query=request.url.query.decode("ascii", errors="replace"),
        )

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> tuple[Any, httpx.Response]:
        """Like :meth:`request`, returning the decoded JSON body and the response."""
        response = await self.request(
            method, path, params=params, json=json, headers=headers, idempotent=idempotent
        )
        return decode_json(response), response


def _still_ambiguous(ambiguous: MeliError, refusal: APIError) -> MeliError:
    """The earlier maybe-applied failure, noting the refusal its retry met.

    A refusal after a lost answer usually *confirms* the first attempt (closing a closed item is
    refused), so the call must not look like a final, clean failure.
    """
    logger.warning(
        "%s %s: retry refused (%s) after an attempt that may have been applied",
        refusal.method,
        refusal.path,
        refusal.error,
    )
    ambiguous.message = (
        f"{ambiguous.message}; that attempt may have been applied: its retry was refused with "
        f"HTTP {refusal.status_code} [{refusal.error}] {refusal.message}"
    )
    return ambiguous


def decode_json(response: httpx.Response) -> Any:
    """The JSON body of a 2xx response; a body that is not JSON is an ``InvalidResponseError``."""
    try:
        return response.json()
    except ValueError as exc:
        raise invalid_response(response, "the answer is not JSON") from exc


def invalid_response(response: httpx.Response, detail: str) -> APIError:
    """An :class:`InvalidResponseError` describing ``response``."""
    return InvalidResponseError(
        detail,
        status_code=response.status_code,
        error="invalid_response",
        method=response.request.method,
        path=response.request.url.path,
        request_id=response.headers.get("x-request-id"),
    )
