"""Identifier recognition: what a cell in the ``Identifier`` column names.

A cell may hold a Mercado Libre item ID (``MLM1234567890``, typed as ``mlm-1234567890``,
``MLM 1234567890`` or in full-width characters), a user product ID (``MLBU1946664967``), a
permalink to a listing or to a catalogue page, or a seller SKU. Everything that is not exactly an
item or user product ID's shape is a SKU and is kept exactly as typed (case and inner spaces
matter to Mercado Libre's SKU search).

Excel damages SKUs that look like numbers: ``00123`` becomes ``123``, ``7501234567890`` may be
shown and re-saved as ``7.50123E+12``, ``3-12`` becomes a date. Such cells are flagged with a
code that names the damage and the remedy; the tool never "repairs" a SKU by guessing.

This module is pure: no I/O, no workbook, no network.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from mltakedown.codes import Code

SITE_PREFIXES: tuple[str, ...] = (
    "MLA",
    "MLB",
    "MLM",
    "MLC",
    "MCO",
    "MLU",
    "MPE",
    "MEC",
    "MLV",
    "MCR",
    "MPA",
    "MRD",
    "MBO",
    "MPY",
    "MGT",
    "MHN",
    "MNI",
    "MSV",
    "MCU",
    "MPT",
    "CBT",
)
"""Every site prefix of ml-api.md §2, plus ``CBT`` (Global Selling)."""

ITEM_DIGITS = (6, 12)
"""Digits after the prefix of an item ID (9 and 10 seen today; the count grows over time)."""

USER_PRODUCT_DIGITS = (6, 14)
"""Digits after ``<SITE>U`` of a user product ID."""

MAX_IDENTIFIER_LENGTH = 255
"""Longest SKU or ID accepted (Mercado Libre's SKU attribute is far shorter in practice)."""

MAX_PERMALINK_LENGTH = 2048
"""Longest permalink accepted (a browser URL limit, generous for tracking parameters)."""

MAX_EXACT_DIGITS = 15
"""Excel keeps 15 significant digits; a number beyond that has lost digits for good."""

SITE_DOMAINS: dict[str, str] = {
    "mercadolibre.com.ar": "MLA",
    "mercadolivre.com.br": "MLB",
    "mercadolibre.com.mx": "MLM",
    "mercadolibre.cl": "MLC",
    "mercadolibre.com.co": "MCO",
    "mercadolibre.com.uy": "MLU",
    "mercadolibre.com.pe": "MPE",
    "mercadolibre.com.ec": "MEC",
    "mercadolibre.com.ve": "MLV",
    "mercadolibre.co.cr": "MCR",
    "mercadolibre.com.pa": "MPA",
    "mercadolibre.com.do": "MRD",
    "mercadolibre.com.bo": "MBO",
    "mercadolibre.com.py": "MPY",
    "mercadolibre.com.gt": "MGT",
    "mercadolibre.com.hn": "MHN",
    "mercadolibre.com.ni": "MNI",
    "mercadolibre.com.sv": "MSV",
}
"""Web domains of the sites, to check a permalink's ID against the site it was copied from."""

_PREFIX_ALT = "|".join(SITE_PREFIXES)
# re.ASCII: ``\d`` is 0-9 only. Without it ``MLM١٢٣٤٥٦٧`` (Arabic-Indic digits, which NFKC keeps)
# would pass for an item ID that no API knows.
_ITEM_RE = re.compile(rf"^({_PREFIX_ALT})-?(\d{{{ITEM_DIGITS[0]},{ITEM_DIGITS[1]}}})$", re.ASCII)
_USER_PRODUCT_RE = re.compile(
    rf"^({_PREFIX_ALT})U-?(\d{{{USER_PRODUCT_DIGITS[0]},{USER_PRODUCT_DIGITS[1]}}})$", re.ASCII
)
# In a URL the ID sits between separators: /MLM-1234567890-titulo-_JM, /p/MLA20021576, ?item_id=…
_URL_ITEM_RE = re.compile(
    rf"(?<![A-Z0-9])({_PREFIX_ALT})-?(\d{{{ITEM_DIGITS[0]},{ITEM_DIGITS[1]}}})(?!\d)", re.ASCII
)
_URL_USER_PRODUCT_RE = re.compile(
    rf"(?<![A-Z0-9])({_PREFIX_ALT})U-?(\d{{{USER_PRODUCT_DIGITS[0]},{USER_PRODUCT_DIGITS[1]}}})(?!\d)",
    re.ASCII,
)
_CATALOGUE_PATH_RE = re.compile(
    rf"/P/({_PREFIX_ALT})-?(\d{{{ITEM_DIGITS[0]},{ITEM_DIGITS[1]}}})(?!\d)", re.ASCII
)
_SCIENTIFIC_RE = re.compile(r"^[+-]?\d+(?:[.,]\d+)?E[+-]?\d+$", re.IGNORECASE | re.ASCII)
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")  # exactly Unicode category Cc
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_URL_HINT_RE = re.compile(r"^(?:https?://|www\.)|mercadoli[bv]re\.", re.IGNORECASE)
# Whitespace a paste can carry inside an ID: ordinary spaces, NBSP, narrow NBSP, ideographic space,
# zero-width characters (NFKC maps most of these to U+0020, but not the zero-width ones).
_ID_SPACES_RE = re.compile(r"[\s\u00a0\u202f\u3000\u200b\u200c\u200d\u2060\ufeff]+")
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"})


class IdKind(StrEnum):
    """What an identifier names."""

    ITEM = "item"
    USER_PRODUCT = "user_product"
    SKU = "sku"
    CATALOGUE_PRODUCT = "catalogue_product"


class IdSource(StrEnum):
    """Where the identifier was found."""

    RAW = "raw"
    PERMALINK = "permalink"


@dataclass(frozen=True, slots=True)
class IdIssue:
    """A problem or remark about an identifier: a code plus the detail the message names."""

    code: Code
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Identifier:
    """A recognised identifier.

    ``value`` is canonical for item, user product and catalogue IDs (upper case, no dash) and
    exactly as typed (outer whitespace removed) for SKUs. ``site`` is the prefix of an ID, or the
    site of the permalink's domain, or ``""``. ``warnings`` lists everything worth telling the
    user, blocking or not; the code catalogue says which ones block.
    """

    kind: IdKind
    value: str
    site: str = ""
    source: IdSource = IdSource.RAW
    warnings: tuple[IdIssue, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """What makes two rows name the same thing (kind and canonical value)."""
        return (self.kind.value, self.value)


ID_TYPE_SYNONYMS: dict[str, IdKind] = {
    name: kind
    for kind, names in {
        IdKind.ITEM: (
            "ITEM",
            "ITEM ID",
            "ITEM_ID",
            "ITEMID",
            "LISTING",
            "MLB",
            "MLM",
            "ANUNCIO",
            "PUBLICACION",
            "PUBLICACIÓN",
            "ANÚNCIO",
            "ID DEL ANUNCIO",
            "ID DO ANÚNCIO",
            "商品",
            "商品ID",
            "链接ID",
            "刊登",
            "刊登ID",
            "PERMALINK",
            "LINK",
            "URL",
            "ENLACE",
            "链接",
        ),
        IdKind.USER_PRODUCT: (
            "USER PRODUCT",
            "USER_PRODUCT",
            "USER PRODUCT ID",
            "UP",
            "PRODUCTO DE USUARIO",
            "PRODUTO DO USUÁRIO",
            "用户产品",
            "用户产品ID",
        ),
        IdKind.SKU: (
            "SKU",
            "SELLER SKU",
            "SELLER_SKU",
            "SKU DEL VENDEDOR",
            "SKU DO VENDEDOR",
            "卖家SKU",
            "货号",
        ),
    }.items()
    for name in names
}
"""Values accepted in the optional ``ID type`` column (compared after NFKC and upper-casing)."""


def nfkc(text: str) -> str:
    """NFKC-normalise ``text`` (full-width ``ＭＬＭ１２３`` → ``MLM123``, NBSP → space)."""
    return unicodedata.normalize("NFKC", text)


def compact_id(text: str) -> str:
    """The form an ID is matched in: NFKC, upper case, unicode dashes as ``-``, no spaces."""
    return _ID_SPACES_RE.sub("", nfkc(text).translate(_DASHES)).upper()


def parse_item_id(text: str) -> str | None:
    """The canonical item ID ``text`` spells (``mlm-123 4567`` → ``MLM1234567``), else ``None``."""
    match = _ITEM_RE.match(compact_id(text))
    return f"{match.group(1)}{match.group(2)}" if match else None


def parse_user_product_id(text: str) -> str | None:
    """The canonical user product ID ``text`` spells (``mlbu-1946664967`` → ``MLBU1946664967``)."""
    match = _USER_PRODUCT_RE.match(compact_id(text))
    return f"{match.group(1)}U{match.group(2)}" if match else None


def has_control_chars(text: str) -> bool:
    """Whether ``text`` holds control characters (C0/C1, incl. tab and line breaks)."""
    return _CONTROL_RE.search(text) is not None


def looks_like_link(text: str) -> bool:
    """Whether ``text`` is a web address (``https://…``, ``www.…`` or a Mercado Libre domain)."""
    return bool(_URL_HINT_RE.search(text))


def max_length(text: str) -> int:
    """The longest an identifier like ``text`` may be (links may be longer than SKUs)."""
    return MAX_PERMALINK_LENGTH if looks_like_link(text) else MAX_IDENTIFIER_LENGTH


def parse_id_type(value: str) -> IdKind | None:
    """The kind an ``ID type`` cell names, or ``None`` when the text is not a known type."""
    key = " ".join(nfkc(value).upper().replace("-", " ").split())
    return ID_TYPE_SYNONYMS.get(key) or ID_TYPE_SYNONYMS.get(key.replace(" ", "_"))


def recognise(
    cell: object,
    *,
    id_type: str = "",
    row_site: str = "",
    account_sites: Collection[str] = (),
) -> Identifier | None:
    """Recognise what ``cell`` (a raw cell value) names; ``None`` for an empty cell.

    ``id_type`` is the optional ``ID type`` column (overrides the guess), ``row_site`` a site the
    row is known to belong to, ``account_sites`` the sites the account sells on (empty: unknown).
    Problems are reported in :attr:`Identifier.warnings`; recognition itself never fails.
    """
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, bool | int | float | dt.date | dt.datetime | dt.time):
        return _from_non_text(cell, id_type)
    text = str(cell).strip()
    ident = _from_text(text, id_type)
    if id_type.strip() and parse_id_type(id_type) is None and not _has(ident, Code.ID_TYPE_UNKNOWN):
        ident = _add(ident, IdIssue(Code.ID_TYPE_UNKNOWN, id_type.strip()))
    return _with_site_checks(ident, row_site, account_sites)


def _has(ident: Identifier, code: Code) -> bool:
    return any(w.code is code for w in ident.warnings)


def _add(ident: Identifier, *issues: IdIssue) -> Identifier:
    return Identifier(ident.kind, ident.value, ident.site, ident.source, ident.warnings + issues)


def _from_non_text(cell: object, id_type: str) -> Identifier:
    """A cell Excel stored as a number, date or boolean: only a (damaged) SKU can be here."""
    issues: list[IdIssue] = []
    if isinstance(cell, bool):
        shown = "TRUE" if cell else "FALSE"
        issues.append(IdIssue(Code.SKU_NUMERIC_CELL, shown))
    elif isinstance(cell, dt.date | dt.datetime | dt.time):
        shown = cell.isoformat()
        issues.append(IdIssue(Code.SKU_DATE_CELL, shown))
    elif isinstance(cell, int):
        shown = str(cell)
        code = Code.SKU_PRECISION_LOST if len(shown.lstrip("-")) > MAX_EXACT_DIGITS else Code.SKU_NUMERIC_CELL
        issues.append(IdIssue(code, shown))
    else:
        assert isinstance(cell, float)
        shown, exact = _render_float(cell)
        issues.append(IdIssue(Code.SKU_NUMERIC_CELL if exact else Code.SKU_PRECISION_LOST, shown))
    issues.extend(_id_type_issues(IdKind.SKU, id_type, shown))
    return Identifier(IdKind.SKU, shown, warnings=tuple(issues))


def _render_float(value: float) -> tuple[str, bool]:
    """How a float cell reads as text, and whether that text is surely what was typed."""
    if not math.isfinite(value):
        return str(value), False
    if value.is_integer():
        digits = f"{abs(value):.0f}"
        if len(digits) <= MAX_EXACT_DIGITS:
            return f"{value:.0f}", True
        return f"{value:.15G}", False  # as Excel shows it: 1.23456789012346E+17
    # A fraction: 15 significant digits is all Excel kept; trailing zeros ("12.50") are gone.
    shown = f"{value:.15g}"
    significant = len(shown.replace("-", "").replace(".", "").lstrip("0"))
    return shown, "e" not in shown and significant < MAX_EXACT_DIGITS


def _from_text(text: str, id_type: str) -> Identifier:
    """A text cell: an ID, a permalink or a SKU."""
    if looks_like_link(text):
        return _from_permalink(text, id_type)
    forced = parse_id_type(id_type) if id_type.strip() else None
    if forced is IdKind.SKU:
        return _sku(text)
    item = parse_item_id(text)
    if item is not None and forced in (None, IdKind.ITEM):
        return Identifier(IdKind.ITEM, item, site=item[:3])
    user_product = parse_user_product_id(text)
    if user_product is not None and forced in (None, IdKind.USER_PRODUCT):
        return Identifier(
            IdKind.USER_PRODUCT,
            user_product,
            site=user_product[:3],
            warnings=(IdIssue(Code.USER_PRODUCT_ID, user_product),),
        )
    guessed = IdKind.ITEM if item else IdKind.USER_PRODUCT if user_product else IdKind.SKU
    sku = _sku(text)
    issues = list(sku.warnings) + _id_type_issues(guessed, id_type, text)
    return Identifier(IdKind.SKU, sku.value, warnings=tuple(issues))


def _sku(text: str) -> Identifier:
    """A SKU kept exactly as typed, with the damage Excel may have done to it flagged."""
    issues: list[IdIssue] = []
    if _SCIENTIFIC_RE.match(nfkc(text).strip()):
        issues.append(IdIssue(Code.SKU_PRECISION_LOST, text))
    return Identifier(IdKind.SKU, text, warnings=tuple(issues))


def _id_type_issues(actual: IdKind, id_type: str, shown: str) -> list[IdIssue]:
    """Issues when the ``ID type`` column names a kind the value cannot be."""
    if not id_type.strip():
        return []
    forced = parse_id_type(id_type)
    if forced is None:
        return [IdIssue(Code.ID_TYPE_UNKNOWN, id_type.strip())]
    if forced is not actual and forced is not IdKind.SKU:
        return [IdIssue(Code.ID_TYPE_CONFLICT, f"{id_type.strip()} ≠ {shown}")]
    return []


def _from_permalink(text: str, id_type: str) -> Identifier:
    """A URL: a listing (item ID in the path), a user product page or a catalogue page."""
    url = nfkc(unquote(text)).strip()
    if not _SCHEME_RE.match(url):
        url = "https://" + url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    domain_site = next((site for domain, site in SITE_DOMAINS.items() if host.endswith(domain)), "")
    where = (parts.path + "?" + parts.query + "#" + parts.fragment).upper()
    issues: list[IdIssue] = []
    forced = parse_id_type(id_type) if id_type.strip() else None
    if id_type.strip() and forced is None:
        issues.append(IdIssue(Code.ID_TYPE_UNKNOWN, id_type.strip()))
    catalogue = _CATALOGUE_PATH_RE.search(where)
    if catalogue:
        value = catalogue.group(1) + catalogue.group(2)
        # A catalogue link copied from one seller's offer carries that listing in the query
        # (``?pdp_filters=item_id:MLA…``): name it so the user can paste it, but do not guess.
        offer = _URL_ITEM_RE.search((parts.query + "#" + parts.fragment).upper())
        detail = f"{value} (item_id {offer.group(1)}{offer.group(2)})" if offer else value
        issues.append(IdIssue(Code.CATALOGUE_PRODUCT, detail))
        return Identifier(
            IdKind.CATALOGUE_PRODUCT, value, value[:3], IdSource.PERMALINK, _sites(issues, value, domain_site)
        )
    user_product = _URL_USER_PRODUCT_RE.search(where)
    if user_product:
        value = f"{user_product.group(1)}U{user_product.group(2)}"
        issues.append(IdIssue(Code.USER_PRODUCT_ID, value))
        if forced is IdKind.SKU:
            issues.append(IdIssue(Code.ID_TYPE_CONFLICT, f"{id_type.strip()} ≠ {value}"))
        return Identifier(
            IdKind.USER_PRODUCT, value, value[:3], IdSource.PERMALINK, _sites(issues, value, domain_site)
        )
    item = _URL_ITEM_RE.search(where)
    if item is None:
        issues.append(IdIssue(Code.LINK_WITHOUT_ID, text[:80]))
        return Identifier(IdKind.SKU, text, domain_site, IdSource.PERMALINK, tuple(issues))
    value = item.group(1) + item.group(2)
    issues.append(IdIssue(Code.PERMALINK, value))
    if forced in (IdKind.USER_PRODUCT, IdKind.SKU):
        # The row says the cell is not a listing, yet the link names one: never guess which is right.
        issues.append(IdIssue(Code.ID_TYPE_CONFLICT, f"{id_type.strip()} ≠ {value}"))
    return Identifier(IdKind.ITEM, value, value[:3], IdSource.PERMALINK, _sites(issues, value, domain_site))


def _sites(issues: list[IdIssue], value: str, domain_site: str) -> tuple[IdIssue, ...]:
    """Add a site mismatch when the link's domain belongs to another site than its ID."""
    if domain_site and value[:3] != domain_site and value[:3] != "CBT":
        issues.append(IdIssue(Code.SITE_MISMATCH, f"{value} / {domain_site}"))
    return tuple(issues)


def _with_site_checks(ident: Identifier, row_site: str, account_sites: Collection[str]) -> Identifier:
    """Flag an ID whose prefix contradicts the row's site or the sites the account sells on."""
    if ident.kind is IdKind.SKU or not ident.site:
        return ident
    site = ident.site
    wanted = {s.strip().upper() for s in account_sites if s.strip()}
    problems: list[IdIssue] = []
    row = row_site.strip().upper()
    if row and row != site and site != "CBT":
        problems.append(IdIssue(Code.SITE_MISMATCH, f"{ident.value} / {row}"))
    elif wanted and site not in wanted and site != "CBT":
        problems.append(IdIssue(Code.SITE_MISMATCH, f"{ident.value} / {', '.join(sorted(wanted))}"))
    if not problems or _has(ident, Code.SITE_MISMATCH):
        return ident
    return _add(ident, *problems)
