"""Every tunable number of the API client, in one place.

Retry and rate-limit behaviour, page sizes and API caps live here so that tests (and a reader
wondering "why 20?") have one module to look at. The values come from ml-api.md: multiget takes
at most 20 ids, seller search pages hold at most 100 results and offset paging stops at 1000,
ad-group search takes at most 50 item ids, and the application budget is about 5 requests/s.
"""

from __future__ import annotations

from typing import Final

DEFAULT_API_URL: Final = "https://api.mercadolibre.com"
"""The one API host for every site."""

DEFAULT_RATE: Final = 5.0
"""Requests per second per application (18,000/h in ``GET /applications/{id}``)."""

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds for connect, read, write and pool waits of one HTTP attempt."""

DEFAULT_MAX_RETRIES: Final = 4
"""Retries after the first attempt (so at most 5 attempts per call)."""

INITIAL_RETRY_DELAY: Final = 0.5
"""First backoff delay in seconds; doubled on every further attempt."""

CONFLICT_INITIAL_DELAY: Final = 2.0
"""First backoff for 409 optimistic-locking conflicts: ML says "wait a few seconds"."""

MAX_RETRY_DELAY: Final = 8.0
"""Upper bound of the exponential backoff (before jitter)."""

MAX_RETRY_AFTER: Final = 60.0
"""Cap on a server-sent ``Retry-After`` so a hostile or broken header cannot stall a run."""

TOKEN_MAX_RETRIES: Final = 2
"""Retries of a token call (refresh, code exchange) after a 429, a 5xx or a transport failure."""

TOKEN_EXPIRY_SKEW: Final = 60.0
"""Refresh an access token this many seconds before its ``expires_at``."""

MULTIGET_MAX_IDS: Final = 20
"""``GET /items?ids=`` accepts at most 20 ids."""

SEARCH_PAGE_LIMIT: Final = 100
"""Maximum ``limit`` of ``/users/{id}/items/search`` (offset and scan mode)."""

SEARCH_OFFSET_CAP: Final = 1000
"""Offset paging only reaches the first 1000 results; beyond that use ``search_type=scan``."""

SCAN_MAX_RESTARTS: Final = 2
"""How often a scan starts over when its scroll id is refused (expired after 5 minutes, or
spent by an attempt whose answer was lost)."""

ORDERS_PAGE_LIMIT: Final = 50
"""Page size of ``/orders/search`` (its documented default)."""

QUESTIONS_PAGE_LIMIT: Final = 50
"""Page size of the questions searches."""

AD_GROUP_MAX_ITEM_IDS: Final = 50
"""Item ids per ``filters[item_ids]`` call of the ad-group search."""

AD_GROUP_PAGE_LIMIT: Final = 50
"""Page size of the ad-group search."""

ADVERTISERS_API_VERSION: Final = "1"
"""``Api-Version`` header of ``GET /advertising/advertisers``."""

AD_GROUPS_API_VERSION: Final = "2"
"""``api-version`` header of the ad-group endpoints."""

USER_AGENT: Final = "mltakedown/0.1 (+httpx)"
"""Sent on every request so ML support can recognise our traffic."""
