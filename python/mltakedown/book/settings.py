"""The Settings sheet as data: key/value pairs in, :class:`BookSettings` out (pure).

Both adapters read column A (key) and column B (value) and hand the pairs to
:func:`parse_settings`; keys are matched case-insensitively, unknown keys are kept in ``extra``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from mltakedown.book.layout import CONFIRM_CHOICE, TEMPLATE_VERSION_KEY
from mltakedown.book.ports import BookSettings
from mltakedown.codes import normalise_language, system_language

YES_WORDS: frozenset[str] = frozenset(
    {"YES", "Y", "TRUE", "X", "✓", "✔", "OK", "SI", "SÍ", "SIM", "S", "是", "确认", "確認", "1", "CONFIRM"}
    # What Spanish and Portuguese Excel call TRUE: in a Text-formatted cell (Settings' column B
    # is one) the typed word stays text instead of becoming a boolean.
    | {"VERDADERO", "VERDADEIRO"}
    | {word.upper() for word in CONFIRM_CHOICE.values()}
)
"""Cell texts that mean yes (Confirm column, yes/no settings), compared after NFKC + upper case."""

NO_WORDS: frozenset[str] = frozenset({"NO", "N", "FALSE", "FALSO", "0", "NÃO", "NAO", "否", "不"})
"""Cell texts that mean no."""


def is_yes(value: object) -> bool:
    """Whether a cell says yes: yes/sí/sim/是/确认/Y/TRUE/x/✓, a TRUE boolean or the number 1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if value is None:
        return False
    return unicodedata.normalize("NFKC", str(value)).strip().upper() in YES_WORDS


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_bool(value: object, default: bool) -> bool:
    """A yes/no setting in any of the four languages; ``default`` when empty or unclear."""
    text = _text(value)
    if not text:
        return default
    if is_yes(value):
        return True
    return False if unicodedata.normalize("NFKC", text).upper() in NO_WORDS else default


def parse_settings(pairs: Iterable[tuple[object, object]]) -> BookSettings:
    """Build :class:`BookSettings` from (key, value) cell pairs of the Settings sheet."""
    values: dict[str, str] = {}
    raw: dict[str, object] = {}
    for key, value in pairs:
        name = _text(key).upper().replace(" ", "_")
        if not name or name in values:
            continue  # the first occurrence wins, like xlwings' own config lookup
        values[name] = _text(value)
        raw[name] = value
    seller = values.pop("SELLER_ID", "")
    known = {
        "ACCOUNT_ALIAS",
        "DEFAULT_SITE",
        "LANGUAGE",
        "PAUSE_ADS_WITH_LISTING",
        TEMPLATE_VERSION_KEY,
        "KEY",  # a header row read as a pair
    }
    return BookSettings(
        account_alias=values.get("ACCOUNT_ALIAS", ""),
        # isdecimal, not isdigit: "²" is a digit that int() refuses (a crash on every stage).
        seller_id=int(seller) if seller.isdecimal() else None,
        default_site=values.get("DEFAULT_SITE", "").upper(),
        language=normalise_language(values["LANGUAGE"]) if values.get("LANGUAGE") else system_language(),
        pause_ads_with_listing=parse_bool(raw.get("PAUSE_ADS_WITH_LISTING"), True),
        template_version=values.get(TEMPLATE_VERSION_KEY, ""),
        extra={k: v for k, v in values.items() if k not in known},
    )


def account_sites(settings: BookSettings) -> tuple[str, ...]:
    """The sites the account sells on (Settings ``SITES``, comma or space separated)."""
    text = settings.extra.get("SITES", "")
    return tuple(
        dict.fromkeys(
            s.strip().upper() for s in text.replace(";", ",").replace(" ", ",").split(",") if s.strip()
        )
    )
