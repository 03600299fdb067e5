"""The layout spec: complete, unambiguous in every language, within Excel's limits."""

from __future__ import annotations

import pytest

from mltakedown.book import layout as L
from mltakedown.codes import LANGUAGES

ARCHITECTURE_KEYS = [
    "identifier",
    "action",
    "reason",
    "reference",
    "confirm",
    "note",
    "id_type",
    "item_id",
    "variation_id",
    "site",
    "title",
    "status_before",
    "sub_status",
    "available_qty",
    "pending_orders",
    "ad_status",
    "full",
    "catalog",
    "questions",
    "planned_action",
    "result",
    "code",
    "message",
    "remedy",
    "api_error",
    "status_after",
    "done_at_utc",
    "done_at_local",
    "request_id",
    "new_item_id",
]


def test_takedown_columns_are_the_architecture_keys() -> None:
    assert [c.key for c in L.TAKEDOWN_COLUMNS] == ARCHITECTURE_KEYS
    assert L.INPUT_KEYS == ("identifier", "action", "reason", "reference", "confirm", "note", "id_type")
    assert set(L.VERDICT_KEYS) <= set(L.OUTPUT_KEYS)


@pytest.mark.parametrize("columns", [L.TAKEDOWN_COLUMNS, L.LOG_COLUMNS, L.SNAPSHOT_COLUMNS, L.CODES_COLUMNS])
def test_every_column_has_a_header_in_every_language(columns: tuple[L.Column, ...]) -> None:
    for column in columns:
        assert set(column.headers) == set(LANGUAGES)
        assert all(text.strip() for text in column.headers.values())
        assert column.width > 0


@pytest.mark.parametrize("sheet", [L.SHEET_TAKEDOWN, L.SHEET_LOG, L.SHEET_SNAPSHOTS])
def test_no_header_text_means_two_columns(sheet: str) -> None:
    columns = {
        L.SHEET_TAKEDOWN: L.TAKEDOWN_COLUMNS,
        L.SHEET_LOG: L.LOG_COLUMNS,
        L.SHEET_SNAPSHOTS: L.SNAPSHOT_COLUMNS,
    }[sheet]
    seen: dict[str, str] = {}
    for column in columns:
        for text in (column.key, *column.headers.values()):
            key = L.normalise_header(text)
            assert seen.setdefault(key, column.key) == column.key, f"{text!r} names two columns"
    assert L.header_keys(sheet) == seen


def test_headers_match_loosely() -> None:
    keys = L.header_keys()
    assert keys[L.normalise_header("  IDENTIFIER* ")] == "identifier"
    assert keys[L.normalise_header("ｉｄｅｎｔｉｆｉｅｒ")] == "identifier"
    assert keys[L.normalise_header("Acción")] == "action"
    assert keys[L.normalise_header("操作")] == "action"
    assert keys[L.normalise_header("id  type")] == "id_type"


def test_drop_down_lists_fit_excels_255_character_limit() -> None:
    for lang in LANGUAGES:
        for choices in (L.ACTION_CHOICES, L.REASON_CHOICES):
            labels = [c[lang] for c in choices.values()]
            assert len(",".join(labels)) < 255
            assert not any("," in label for label in labels)
            assert len(set(labels)) == len(labels)


def test_texts_exist_in_every_language() -> None:
    groups = [
        L.SUMMARY_TITLE,
        L.SUMMARY_TOTAL,
        L.SUMMARY_STAGE,
        L.SUMMARY_AT,
        L.HOW_TO,
        L.CONFIRM_CHOICE,
        *L.SETTINGS_HEADERS,
        *(s.notes for s in L.SETTINGS),
        *(n for _, _, n in L.XLWINGS_CONF),
    ]
    for texts in groups:
        assert set(texts) == set(LANGUAGES)


def test_layout_rows_and_caps() -> None:
    assert L.SUMMARY_LABEL_ROW < L.SUMMARY_VALUE_ROW < L.HEADER_ROW < L.FIRST_DATA_ROW == L.HEADER_ROW + 1
    assert L.MAX_DATA_ROWS == 200_000
    assert L.SHEETS == ("Takedown", "Settings", "Log", "Snapshots", "Codes", "xlwings.conf")
    assert set(L.RESULT_FILLS) == set(L.RESULT_FONTS) == set(L.SUMMARY_RESULTS)
    assert {key for key, _, _ in L.XLWINGS_CONF} >= {"INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH"}
