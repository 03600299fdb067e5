"""The catalogue of result codes: stable identifiers, severity, whether they block the write.

Codes are never renumbered or reused. Offline codes (``C1xx``) come from Check and need no
network; live codes (``L2xx``) come from Pull, Plan and Restore; execution codes (``X3xx``) come
from Execute and carry the API's own error beside them. The texts (message and remedy in zh, es,
pt and en) live in ``templates/codes/<lang>.json`` so translators never touch code; a test fails
if any code lacks a text in any language.
"""

from __future__ import annotations

import json
import locale
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from mltakedown.book.ports import Result
from mltakedown.resources import templates_dir


class Code(StrEnum):
    """Every code the tool writes in a row's Code column."""

    # Offline (Check)
    CHECKED = "C100"
    IDENTIFIER_MISSING = "C101"
    IDENTIFIER_TOO_LONG = "C102"
    IDENTIFIER_CONTROL_CHARS = "C103"
    SKU_PRECISION_LOST = "C104"
    SKU_NUMERIC_CELL = "C105"
    ID_TYPE_CONFLICT = "C106"
    SITE_MISMATCH = "C107"
    CATALOGUE_PRODUCT = "C108"
    USER_PRODUCT_ID = "C109"
    ACTION_MISSING = "C110"
    ACTION_UNKNOWN = "C111"
    REASON_MISSING = "C112"
    CONFIRM_MISSING = "C113"
    DUPLICATE_ROW = "C114"
    CONFLICTING_ACTIONS = "C115"
    FORMULA_IN_INPUT = "C116"
    BLANK_ROW_ABOVE = "C117"
    IGNORED = "C118"
    PERMALINK = "C119"
    REASON_UNKNOWN = "C120"
    SKU_DATE_CELL = "C121"
    LINK_WITHOUT_ID = "C122"
    ID_TYPE_UNKNOWN = "C123"
    # Live (Pull, Plan, Restore)
    FOUND = "L200"
    NOT_FOUND = "L201"
    NOT_YOUR_ITEM = "L202"
    ACCOUNT_MISMATCH = "L203"
    SKU_AMBIGUOUS = "L204"
    SKU_NOT_FOUND = "L205"
    VARIATION_ONLY = "L206"
    PLATFORM_CONTROLLED = "L207"
    PENDING_ORDERS_BLOCK = "L208"
    PENDING_ORDERS_WARN = "L209"
    FULL_STOCK = "L210"
    AD_PAUSED_WITH_LISTING = "L211"
    AD_ACTIVE_NOTED = "L212"
    ALREADY_IN_TARGET = "L213"
    CLOSE_IS_FINAL = "L214"
    CLOSED_CANNOT_CHANGE = "L215"
    CATALOGUE_SIBLING = "L216"
    UNANSWERED_QUESTIONS = "L217"
    PLAN_STALE = "L218"
    RESTORE_NOT_OURS = "L219"
    RESTORE_MODERATED = "L220"
    RESTORE_NO_STOCK = "L221"
    RELIST_WINDOW_PASSED = "L222"
    RELISTED = "L223"
    PLANNED = "L224"
    NO_PLAN = "L225"
    NOT_LOGGED_IN = "L226"
    # Execution
    DONE = "X300"
    VERIFY_MISMATCH = "X301"
    API_VALIDATION = "X302"
    RATE_LIMITED = "X303"
    AUTH_FAILED = "X304"
    NETWORK = "X305"
    CONFLICT = "X306"
    FORBIDDEN = "X307"
    RECONCILED = "X308"
    SERVER_ERROR = "X309"
    NOT_SENT = "X310"
    RESTORED = "X311"


class Severity(StrEnum):
    """How serious a code is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """The fixed facts of one code (texts are looked up per language)."""

    code: Code
    severity: Severity
    blocks_write: bool
    result: Result


_I, _W, _E = Severity.INFO, Severity.WARNING, Severity.ERROR
_OK, _SK, _WA, _BL, _FA = Result.OK, Result.SKIPPED, Result.WARNING, Result.BLOCKED, Result.FAILED

_SPECS: dict[Code, tuple[Severity, bool, Result]] = {
    Code.CHECKED: (_I, False, _OK),
    Code.IDENTIFIER_MISSING: (_E, True, _BL),
    Code.IDENTIFIER_TOO_LONG: (_E, True, _BL),
    Code.IDENTIFIER_CONTROL_CHARS: (_E, True, _BL),
    Code.SKU_PRECISION_LOST: (_E, True, _BL),
    Code.SKU_NUMERIC_CELL: (_W, False, _WA),
    Code.ID_TYPE_CONFLICT: (_E, True, _BL),
    Code.SITE_MISMATCH: (_E, True, _BL),
    Code.CATALOGUE_PRODUCT: (_E, True, _BL),
    Code.USER_PRODUCT_ID: (_I, False, _OK),
    Code.ACTION_MISSING: (_E, True, _BL),
    Code.ACTION_UNKNOWN: (_E, True, _BL),
    Code.REASON_MISSING: (_E, True, _BL),
    Code.CONFIRM_MISSING: (_E, True, _BL),
    Code.DUPLICATE_ROW: (_W, True, _SK),
    Code.CONFLICTING_ACTIONS: (_E, True, _BL),
    Code.FORMULA_IN_INPUT: (_E, True, _BL),
    Code.BLANK_ROW_ABOVE: (_W, False, _WA),
    Code.IGNORED: (_I, True, _SK),
    Code.PERMALINK: (_I, False, _OK),
    Code.REASON_UNKNOWN: (_W, False, _WA),
    Code.SKU_DATE_CELL: (_E, True, _BL),
    Code.LINK_WITHOUT_ID: (_E, True, _BL),
    Code.ID_TYPE_UNKNOWN: (_E, True, _BL),
    Code.FOUND: (_I, False, _OK),
    Code.NOT_FOUND: (_E, True, _BL),
    Code.NOT_YOUR_ITEM: (_E, True, _BL),
    Code.ACCOUNT_MISMATCH: (_E, True, _BL),
    Code.SKU_AMBIGUOUS: (_E, True, _BL),
    Code.SKU_NOT_FOUND: (_E, True, _BL),
    Code.VARIATION_ONLY: (_W, False, _WA),
    Code.PLATFORM_CONTROLLED: (_E, True, _BL),
    Code.PENDING_ORDERS_BLOCK: (_E, True, _BL),
    Code.PENDING_ORDERS_WARN: (_W, False, _WA),
    Code.FULL_STOCK: (_W, False, _WA),
    Code.AD_PAUSED_WITH_LISTING: (_I, False, _OK),
    Code.AD_ACTIVE_NOTED: (_W, False, _WA),
    Code.ALREADY_IN_TARGET: (_I, True, _SK),
    Code.CLOSE_IS_FINAL: (_W, False, _WA),
    Code.CLOSED_CANNOT_CHANGE: (_E, True, _BL),
    Code.CATALOGUE_SIBLING: (_W, False, _WA),
    Code.UNANSWERED_QUESTIONS: (_I, False, _OK),
    Code.PLAN_STALE: (_E, True, _BL),
    Code.RESTORE_NOT_OURS: (_E, True, _BL),
    Code.RESTORE_MODERATED: (_E, True, _BL),
    Code.RESTORE_NO_STOCK: (_E, True, _BL),
    Code.RELIST_WINDOW_PASSED: (_E, True, _BL),
    Code.RELISTED: (_I, False, _OK),
    Code.PLANNED: (_I, False, _OK),
    Code.NO_PLAN: (_E, True, _BL),
    Code.NOT_LOGGED_IN: (_E, True, _BL),
    Code.DONE: (_I, False, _OK),
    Code.VERIFY_MISMATCH: (_E, False, _FA),
    Code.API_VALIDATION: (_E, False, _FA),
    Code.RATE_LIMITED: (_E, False, _FA),
    Code.AUTH_FAILED: (_E, False, _FA),
    Code.NETWORK: (_E, False, _FA),
    Code.CONFLICT: (_E, False, _FA),
    Code.FORBIDDEN: (_E, False, _FA),
    Code.RECONCILED: (_I, False, _OK),
    Code.SERVER_ERROR: (_E, False, _FA),
    Code.NOT_SENT: (_W, False, _FA),
    Code.RESTORED: (_I, False, _OK),
}

CATALOGUE: dict[Code, CodeSpec] = {
    code: CodeSpec(code, severity, blocks, result) for code, (severity, blocks, result) in _SPECS.items()
}
"""Every code's fixed facts. A test asserts it covers every member of :class:`Code`."""


def spec(code: Code) -> CodeSpec:
    """The fixed facts of ``code``."""
    return CATALOGUE[code]


# --- Texts ---------------------------------------------------------------------------------------

LANGUAGES: tuple[str, ...] = ("zh", "es", "pt", "en")
"""The languages of messages, remedies, headers and the Codes sheet."""

DEFAULT_LANGUAGE = "en"

"""Environment variable naming the ``templates`` folder (defaults to the one in the source tree)."""

_SEVERITY_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


@dataclass(frozen=True, slots=True)
class CodeText:
    """The words of one code in one language."""

    message: str
    remedy: str


@cache
def normalise_language(lang: str | None) -> str:
    """``zh-CN``, ``es_MX``, ``PT-br``, ``中文``… → one of :data:`LANGUAGES` (else ``en``)."""
    text = (lang or "").strip().lower().replace("_", "-")
    if text in ("中文", "简体中文", "chinese"):
        return "zh"
    if text in ("español", "espanol", "spanish"):
        return "es"
    if text in ("português", "portugues", "portuguese"):
        return "pt"
    head = text.split("-", 1)[0].split(".", 1)[0]
    return head if head in LANGUAGES else DEFAULT_LANGUAGE


def system_language() -> str:
    """The language of the system locale when it is one of ours, else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return normalise_language(value)
    name = locale.getlocale()[0]
    return normalise_language(name)


@cache
def _load(lang: str) -> dict[str, object]:
    path = templates_dir() / "codes" / f"{lang}.json"
    with path.open(encoding="utf-8") as handle:
        data: dict[str, object] = json.load(handle)
    return data


@cache
def texts(code: Code, lang: str) -> CodeText:
    """Message and remedy of ``code`` in ``lang`` (normalised; unknown languages fall back to en).

    Raises ``KeyError`` when the catalogue file lacks the code (a test guards against that).
    """
    table = _load(normalise_language(lang))["codes"]
    assert isinstance(table, dict)
    entry = table[code.value]
    return CodeText(message=str(entry["message"]), remedy=str(entry["remedy"]))


@cache
def ui_text(key: str, lang: str) -> str:
    """A short interface word from the catalogue file (``also``, ``severity.error``…)."""
    table = _load(normalise_language(lang))["ui"]
    assert isinstance(table, dict)
    return str(table[key])


def describe(code: Code, lang: str, detail: str = "") -> tuple[str, str]:
    """``(message, remedy)`` for a row: the catalogue sentence, then ``": " + detail`` if given."""
    text = texts(code, lang)
    message = f"{text.message}: {detail}" if detail else text.message
    return message, text.remedy


def describe_or_raw(
    code: Code, lang: str, detail: str = "", *, fallbacks: Sequence[str] = ()
) -> tuple[str, str]:
    """:func:`describe` in ``lang``, else in each of ``fallbacks``; the bare code (with the detail)
    and no remedy when no catalogue has the code or its file cannot be read: a row always gets a
    message."""
    for language in dict.fromkeys((lang, *fallbacks)):
        try:
            return describe(code, language, detail)
        except (KeyError, OSError):
            continue
    return (f"{code.value}: {detail}" if detail else code.value), ""


@cache
def severity_rank(code: Code) -> tuple[int, int]:
    """Sort key, highest first: severity, then whether it blocks the write."""
    facts = CATALOGUE[code]
    return (_SEVERITY_RANK[facts.severity], int(facts.blocks_write))
