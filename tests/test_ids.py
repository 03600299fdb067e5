"""Identifier recognition: property tests over spellings, and the Excel-damage cases."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mltakedown.codes import Code
from mltakedown.ids import (
    ITEM_DIGITS,
    SITE_PREFIXES,
    IdKind,
    IdSource,
    compact_id,
    looks_like_link,
    parse_id_type,
    parse_item_id,
    parse_user_product_id,
    recognise,
)

# ASCII digits only: NFKC keeps Arabic-Indic or Devanagari digits, which no item ID has.
ITEM_SHAPE = re.compile(rf"^({'|'.join(SITE_PREFIXES)})-?[0-9]{{{ITEM_DIGITS[0]},{ITEM_DIGITS[1]}}}$")
SPACES = [" ", "\u00a0", "\u202f", "\u3000", "\t"]


def _full_width(ch: str) -> str:
    """The full-width form of an ASCII letter, digit or dash (what some IMEs type)."""
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


@st.composite
def item_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(spelling, canonical) for an item ID: any case, dash or not, spaces/NBSP, full width."""
    prefix = draw(st.sampled_from(SITE_PREFIXES))
    digits = draw(st.text("0123456789", min_size=ITEM_DIGITS[0], max_size=ITEM_DIGITS[1]))
    canonical = prefix + digits
    cased = "".join(c.lower() if draw(st.booleans()) else c for c in prefix)
    sep = draw(st.sampled_from(["", "-", " ", " - ", "\u00a0", "\u2013"]))
    chars = list(cased + sep + digits)
    if draw(st.booleans()):
        chars = [_full_width(c) if draw(st.booleans()) else c for c in chars]
    for _ in range(draw(st.integers(0, 2))):  # stray spaces inside the digits
        at = draw(st.integers(len(cased) + len(sep), len(chars)))
        chars.insert(at, draw(st.sampled_from(SPACES)))
    outer = draw(st.sampled_from(["", " ", "\u00a0", "  "]))
    return outer + "".join(chars) + outer, canonical


@given(item_spellings())
def test_any_spelling_of_an_item_id_normalises_to_the_canonical_id(case: tuple[str, str]) -> None:
    spelling, canonical = case
    ident = recognise(spelling)
    assert ident is not None
    assert ident.kind is IdKind.ITEM
    assert ident.value == canonical
    assert ident.site == canonical[:3]
    assert ident.source is IdSource.RAW


@given(st.text(min_size=1, max_size=40))
def test_no_text_is_an_item_id_unless_it_has_exactly_an_item_ids_shape(text: str) -> None:
    ident = recognise(text)
    if ident is None:
        assert not text.strip()
        return
    if looks_like_link(text):
        return  # links are parsed for the ID inside them (tested below)
    shaped = bool(ITEM_SHAPE.match(compact_id(text)))
    assert (ident.kind is IdKind.ITEM) == shaped
    if ident.kind is IdKind.SKU:
        assert ident.value == text.strip()  # kept exactly as typed


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "Pd")),
        min_size=1,
        max_size=30,
    )
)
def test_skus_are_kept_exactly_as_typed(text: str) -> None:
    if not text.strip() or parse_item_id(text) or looks_like_link(text):
        return
    ident = recognise(text)
    assert ident is not None
    if ident.kind is IdKind.SKU:
        assert ident.value == text.strip()
        assert ident.site == ""


@given(st.sampled_from(SITE_PREFIXES), st.text("0123456789", min_size=6, max_size=14), st.booleans())
def test_user_product_ids(prefix: str, digits: str, lower: bool) -> None:
    spelling = f"{prefix}U{digits}"
    ident = recognise(spelling.lower() if lower else spelling)
    assert ident is not None
    assert ident.kind is IdKind.USER_PRODUCT
    assert ident.value == f"{prefix}U{digits}"
    assert [w.code for w in ident.warnings] == [Code.USER_PRODUCT_ID]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MLM1234567890", "MLM1234567890"),
        ("mlm-1234567890", "MLM1234567890"),
        ("MLB 3868780585", "MLB3868780585"),
        ("ＭＬＭ１２３４５６７８９０", "MLM1234567890"),
        ("\u00a0MCO3419064200\u00a0", "MCO3419064200"),
        ("cbt123456789", "CBT123456789"),
    ],
)
def test_item_id_examples(text: str, value: str) -> None:
    ident = recognise(text)
    assert ident is not None and ident.kind is IdKind.ITEM and ident.value == value


@pytest.mark.parametrize(
    "text",
    ["ABC-123", "MLM12345", "MLM1234567890123", "XYZ1234567890", "MLM 12345 A", "sku 00123", "MLMX1234567"],
)
def test_near_misses_are_skus(text: str) -> None:
    ident = recognise(text)
    assert ident is not None and ident.kind is IdKind.SKU and ident.value == text


def test_sku_case_and_inner_spaces_are_kept() -> None:
    ident = recognise("  Red Shirt  xl ")
    assert ident is not None and ident.value == "Red Shirt  xl"


@pytest.mark.parametrize(
    ("url", "kind", "value"),
    [
        (
            "https://articulo.mercadolibre.com.mx/MLM-1234567890-titulo-del-producto-_JM",
            IdKind.ITEM,
            "MLM1234567890",
        ),
        ("articulo.mercadolibre.com.mx/MLM-1234567890-titulo-_JM#position=1", IdKind.ITEM, "MLM1234567890"),
        ("https://produto.mercadolivre.com.br/MLB-3868780585-camiseta-_JM", IdKind.ITEM, "MLB3868780585"),
        ("https://www.mercadolibre.com.ar/p/MLA20021576", IdKind.CATALOGUE_PRODUCT, "MLA20021576"),
        (
            "https://www.mercadolibre.com.ar/celular/p/MLA20021576?pdp_filters=item_id:MLA832998780",
            IdKind.CATALOGUE_PRODUCT,
            "MLA20021576",
        ),
        ("https://www.mercadolivre.com.br/up/MLBU1946664967", IdKind.USER_PRODUCT, "MLBU1946664967"),
    ],
)
def test_permalinks(url: str, kind: IdKind, value: str) -> None:
    ident = recognise(url)
    assert ident is not None
    assert (ident.kind, ident.value, ident.source) == (kind, value, IdSource.PERMALINK)


def test_a_catalogue_page_is_flagged_as_not_a_listing() -> None:
    ident = recognise("https://www.mercadolibre.com.ar/p/MLA20021576")
    assert ident is not None
    assert [w.code for w in ident.warnings] == [Code.CATALOGUE_PRODUCT]


def test_a_catalogue_link_names_the_offer_it_was_copied_from_without_using_it() -> None:
    ident = recognise(
        "https://www.mercadolibre.com.ar/celular/p/MLA20021576?pdp_filters=item_id:MLA832998780"
    )
    assert ident is not None and ident.kind is IdKind.CATALOGUE_PRODUCT
    assert [(w.code, w.detail) for w in ident.warnings] == [
        (Code.CATALOGUE_PRODUCT, "MLA20021576 (item_id MLA832998780)")
    ]


def test_a_link_without_an_id_is_flagged_not_guessed() -> None:
    ident = recognise("https://www.mercadolibre.com.mx/ofertas")
    assert ident is not None
    assert Code.LINK_WITHOUT_ID in [w.code for w in ident.warnings]


def test_a_link_whose_id_belongs_to_another_sites_domain() -> None:
    ident = recognise("https://articulo.mercadolibre.com.mx/MLB-3868780585-x-_JM")
    assert ident is not None
    assert Code.SITE_MISMATCH in [w.code for w in ident.warnings]


def test_prefix_contradicting_the_accounts_sites_or_the_rows_site() -> None:
    ok = recognise("MLM1234567890", account_sites=("MLM", "MLB"))
    assert ok is not None and ok.warnings == ()
    wrong = recognise("MLA832998780", account_sites=("MLM", "MLB"))
    assert wrong is not None and [w.code for w in wrong.warnings] == [Code.SITE_MISMATCH]
    row = recognise("MLA832998780", row_site="MLB")
    assert row is not None and [w.code for w in row.warnings] == [Code.SITE_MISMATCH]


@pytest.mark.parametrize(
    ("cell", "code", "shown"),
    [
        (123, Code.SKU_NUMERIC_CELL, "123"),
        (12345.0, Code.SKU_NUMERIC_CELL, "12345"),
        (7501234567890.0, Code.SKU_NUMERIC_CELL, "7501234567890"),
        (12.5, Code.SKU_NUMERIC_CELL, "12.5"),
        (1.2345678901234567e17, Code.SKU_PRECISION_LOST, "1.23456789012346E+17"),
        (12345678901234567, Code.SKU_PRECISION_LOST, "12345678901234567"),
        (0.12345678901234567, Code.SKU_PRECISION_LOST, "0.123456789012346"),
        ("7.50123456789E+12", Code.SKU_PRECISION_LOST, "7.50123456789E+12"),
        ("7,50123E+12", Code.SKU_PRECISION_LOST, "7,50123E+12"),
        (dt.datetime(2024, 3, 12), Code.SKU_DATE_CELL, "2024-03-12T00:00:00"),
        (True, Code.SKU_NUMERIC_CELL, "TRUE"),
    ],
)
def test_excel_damaged_numbers_are_flagged_never_repaired(cell: object, code: Code, shown: str) -> None:
    ident = recognise(cell)
    assert ident is not None
    assert ident.kind is IdKind.SKU
    assert ident.value == shown  # what the cell says, not a guess such as "00123"
    assert [w.code for w in ident.warnings] == [code]


def test_id_type_overrides_the_guess() -> None:
    forced = recognise("MLM1234567890", id_type="SKU")
    assert forced is not None and forced.kind is IdKind.SKU and forced.value == "MLM1234567890"
    assert forced.warnings == ()
    item = recognise("mlm1234567890", id_type="商品ID")
    assert item is not None and item.kind is IdKind.ITEM


def test_id_type_that_contradicts_the_value() -> None:
    ident = recognise("ABC-123", id_type="item")
    assert ident is not None and ident.kind is IdKind.SKU
    assert [w.code for w in ident.warnings] == [Code.ID_TYPE_CONFLICT]
    up = recognise("MLM1234567890", id_type="user product")
    assert up is not None and Code.ID_TYPE_CONFLICT in [w.code for w in up.warnings]


def test_unknown_id_type() -> None:
    ident = recognise("MLM1234567890", id_type="banana")
    assert ident is not None and [w.code for w in ident.warnings] == [Code.ID_TYPE_UNKNOWN]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Item ID", IdKind.ITEM),
        ("seller_sku", IdKind.SKU),
        ("ＳＫＵ", IdKind.SKU),
        ("用户产品", IdKind.USER_PRODUCT),
        ("nope", None),
    ],
)
def test_parse_id_type(text: str, kind: IdKind | None) -> None:
    assert parse_id_type(text) is kind


def test_empty_cells_are_not_identifiers() -> None:
    assert recognise(None) is None
    assert recognise("   ") is None
    assert recognise(unicodedata.normalize("NFKC", "\u3000")) is None


@given(
    st.sampled_from([*SITE_PREFIXES, "MLX", "ML", "MLMM", "XYZ"]),
    st.text("0123456789", min_size=1, max_size=16),
    st.sampled_from(["", "A", "-1", ".5", "/2", "_X", " B"]),
)
def test_near_item_ids_are_items_only_with_exactly_the_shape(prefix: str, digits: str, suffix: str) -> None:
    text = prefix + digits + suffix
    ident = recognise(text)
    assert ident is not None
    exact = prefix in SITE_PREFIXES and ITEM_DIGITS[0] <= len(digits) <= ITEM_DIGITS[1] and not suffix
    assert (ident.kind is IdKind.ITEM) == exact
    if ident.kind is IdKind.SKU:
        assert ident.value == text


@pytest.mark.parametrize("digits", ["١٢٣٤٥٦٧٨٩٠", "१२३४५६७८९०", "１２３４５６７８９０"])
def test_only_ascii_digits_after_nfkc_make_an_item_id(digits: str) -> None:
    """NFKC turns full-width digits into 0-9 but keeps Arabic-Indic or Devanagari ones: those
    cells are SKUs, never an item ID no API would know."""
    ident = recognise(f"MLM{digits}")
    assert ident is not None
    if digits.startswith("１"):
        assert (ident.kind, ident.value) == (IdKind.ITEM, "MLM1234567890")
    else:
        assert ident.kind is IdKind.SKU and ident.value == f"MLM{digits}"
    assert parse_user_product_id(f"MLBU{digits}") == ("MLBU1234567890" if digits.startswith("１") else None)


def test_a_link_in_a_row_typed_sku_is_a_conflict_not_a_listing() -> None:
    link = "https://articulo.mercadolibre.com.mx/MLM-1234567890-audifonos-_JM"
    ident = recognise(link, id_type="SKU")
    assert ident is not None and Code.ID_TYPE_CONFLICT in [w.code for w in ident.warnings]
    up_link = "https://www.mercadolivre.com.br/mouse-sem-fio/up/MLBU1946664967"
    ident = recognise(up_link, id_type="SKU")
    assert ident is not None and Code.ID_TYPE_CONFLICT in [w.code for w in ident.warnings]
    # A link marked as a link (or an item) is what it says.
    for kind in ("LINK", "item"):
        ident = recognise(link, id_type=kind)
        assert ident is not None and Code.ID_TYPE_CONFLICT not in [w.code for w in ident.warnings]
        ident = recognise(up_link, id_type=kind)
        assert ident is not None and Code.ID_TYPE_CONFLICT not in [w.code for w in ident.warnings]


@given(
    st.sampled_from(SITE_PREFIXES),
    st.text("0123456789١٢٣٤٥٦٧٨٩٠०१२३४५६७८९", min_size=ITEM_DIGITS[0], max_size=ITEM_DIGITS[1]),
)
def test_an_item_id_has_ascii_digits(prefix: str, digits: str) -> None:
    ident = recognise(prefix + digits)
    assert ident is not None
    assert (ident.kind is IdKind.ITEM) == digits.isascii()
