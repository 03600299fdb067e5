"""Offline Check: one verdict per row, the worst code wins, the others are mentioned."""

from __future__ import annotations

import copy

import pytest

from mltakedown.book.layout import ACTION_CHOICES, FIRST_DATA_ROW, REASON_CHOICES
from mltakedown.book.ports import BookSettings, CellValue, InputRow, Result
from mltakedown.codes import LANGUAGES, Code, texts
from mltakedown.engine.actions import Action, Reason, is_confirmed, parse_action, parse_reason
from mltakedown.engine.check import analyse_rows, check_rows, summarise

SETTINGS = BookSettings(language="en")


def row(
    n: int,
    identifier: CellValue = "MLM1234567890",
    action: CellValue = "PAUSE",
    reason: CellValue = "TRO",
    confirm: CellValue = None,
    formulas: frozenset[str] = frozenset(),
    **extra: CellValue,
) -> InputRow:
    values: dict[str, CellValue] = {
        "identifier": identifier,
        "action": action,
        "reason": reason,
        "confirm": confirm,
    }
    values.update(extra)
    return InputRow(FIRST_DATA_ROW + n, {k: v for k, v in values.items() if v is not None}, formulas)


def one(r: InputRow, lang: str = "en", settings: BookSettings = SETTINGS) -> tuple[Result | None, str, str]:
    outcome = check_rows([r], settings, lang)[0]
    return outcome.result, outcome.code, outcome.message


@pytest.mark.parametrize(
    ("word", "action"),
    [
        ("PAUSAR", Action.PAUSE),
        ("pausar", Action.PAUSE),
        ("下架", Action.PAUSE),
        ("暂停", Action.PAUSE),
        ("CERRAR", Action.CLOSE),
        ("Finalizar", Action.CLOSE),
        ("ENCERRAR", Action.CLOSE),
        ("关闭", Action.CLOSE),
        ("结束", Action.CLOSE),
        ("ELIMINAR", Action.DELETE),
        ("excluir", Action.DELETE),
        ("删除", Action.DELETE),
        ("RESTAURAR", Action.RESTORE),
        ("REATIVAR", Action.RESTORE),
        ("恢复", Action.RESTORE),
        ("上架", Action.RESTORE),
        ("IGNORAR", Action.IGNORE),
        ("忽略", Action.IGNORE),
        (" pause ", Action.PAUSE),
        ("ＰＡＵＳＥ", Action.PAUSE),
    ],
)
def test_action_synonyms(word: str, action: Action) -> None:
    assert parse_action(word) is action


def test_every_drop_down_label_parses_to_its_action_and_reason() -> None:
    assert {a.value for a in Action} == set(ACTION_CHOICES)
    assert {r.value for r in Reason} == set(REASON_CHOICES)
    for key, labels in ACTION_CHOICES.items():
        for label in labels.values():
            assert parse_action(label) is Action(key)
    for key, labels in REASON_CHOICES.items():
        for label in labels.values():
            assert parse_reason(label) is Reason(key)


@pytest.mark.parametrize("value", ["yes", "Sí", "si", "sim", "是", "确认", "Y", "TRUE", "x", "✓", True, 1])
def test_confirm_words(value: object) -> None:
    assert is_confirmed(value)


@pytest.mark.parametrize("value", ["no", "", None, "maybe", False, 0, "否"])
def test_not_confirmed(value: object) -> None:
    assert not is_confirmed(value)


def test_a_good_row_is_checked_ok() -> None:
    assert one(row(0)) == (Result.OK, Code.CHECKED.value, texts(Code.CHECKED, "en").message)


@pytest.mark.parametrize(
    ("r", "code"),
    [
        (row(0, identifier=None), Code.IDENTIFIER_MISSING),
        (row(0, identifier="A" * 300), Code.IDENTIFIER_TOO_LONG),
        (row(0, identifier="AB\nC"), Code.IDENTIFIER_CONTROL_CHARS),
        (row(0, identifier="AB\x07C"), Code.IDENTIFIER_CONTROL_CHARS),
        (row(0, action=None), Code.ACTION_MISSING),
        (row(0, action="LIQUIDATE"), Code.ACTION_UNKNOWN),
        (row(0, reason=None), Code.REASON_MISSING),
        (row(0, action="CLOSE"), Code.CONFIRM_MISSING),
        (row(0, action="ELIMINAR", confirm="no"), Code.CONFIRM_MISSING),
        (row(0, identifier="=A1", formulas=frozenset({"identifier"})), Code.FORMULA_IN_INPUT),
        (row(0, identifier="7.50123E+12"), Code.SKU_PRECISION_LOST),
        (row(0, identifier="https://www.mercadolibre.com.ar/p/MLA20021576"), Code.CATALOGUE_PRODUCT),
        (row(0, identifier="ABC", id_type="item"), Code.ID_TYPE_CONFLICT),
    ],
)
def test_blocking_problems(r: InputRow, code: Code) -> None:
    result, got, _ = one(r)
    assert (result, got) == (Result.BLOCKED, code.value)


@pytest.mark.parametrize(
    ("r", "result", "code"),
    [
        (row(0, identifier=123), Result.WARNING, Code.SKU_NUMERIC_CELL),
        (row(0, reason="my own words"), Result.WARNING, Code.REASON_UNKNOWN),
        (row(0, action="IGNORE", identifier=None, reason=None), Result.SKIPPED, Code.IGNORED),
        (
            row(0, identifier="https://articulo.mercadolibre.com.mx/MLM-1234567890-x-_JM"),
            Result.OK,
            Code.PERMALINK,
        ),
        (row(0, identifier="MLBU1946664967"), Result.OK, Code.USER_PRODUCT_ID),
        (row(0, action="CLOSE", confirm="sim"), Result.OK, Code.CHECKED),
        (row(0, action="RESTORE", reason=None), Result.OK, Code.CHECKED),
    ],
)
def test_non_blocking_verdicts(r: InputRow, result: Result, code: Code) -> None:
    got_result, got_code, _ = one(r)
    assert (got_result, got_code) == (result, code.value)


def test_the_most_severe_code_wins_and_the_others_are_mentioned() -> None:
    result, code, message = one(row(0, identifier=123, action="CLOSE", reason="whatever"))
    assert result is Result.BLOCKED
    assert code == Code.CONFIRM_MISSING.value
    assert Code.SKU_NUMERIC_CELL.value in message and Code.REASON_UNKNOWN.value in message
    assert "Also:" in message


def test_duplicate_rows_are_skipped_after_the_first() -> None:
    outcomes = check_rows([row(0), row(1, identifier="mlm-1234567890"), row(2)], SETTINGS, "en")
    assert [o.code for o in outcomes] == ["C100", "C114", "C114"]
    assert outcomes[1].result is Result.SKIPPED
    assert f"row {FIRST_DATA_ROW}" in outcomes[1].message


def test_a_blocked_first_row_does_not_make_its_complete_twin_a_duplicate() -> None:
    """Row 5 lacks a reason (blocked); row 6 says the same, complete. Skipping row 6 as "a
    repeat of row 5" would leave the listing up while neither row runs."""
    outcomes = check_rows([row(0, reason=None), row(1), row(2)], SETTINGS, "en")
    assert [o.code.split(",")[0] for o in outcomes] == ["C112", "C100", "C114"]
    assert [o.result for o in outcomes] == [Result.BLOCKED, Result.OK, Result.SKIPPED]
    assert f"row {FIRST_DATA_ROW + 1}" in outcomes[2].message
    assert f"row {FIRST_DATA_ROW + 1}" in outcomes[0].message  # the blocked row names the one that runs


def test_the_same_listing_with_conflicting_actions_blocks_every_such_row() -> None:
    outcomes = check_rows(
        [
            row(0),
            row(1, identifier="https://articulo.mercadolibre.com.mx/MLM-1234567890-x-_JM", action="RESTORE"),
        ],
        SETTINGS,
        "en",
    )
    assert [o.code for o in outcomes] == ["C115", "C115"]
    assert "RESTORE" in outcomes[0].message and "PAUSE" in outcomes[1].message


def test_skus_differing_in_case_are_different_listings() -> None:
    outcomes = check_rows(
        [row(0, identifier="abc"), row(1, identifier="ABC", action="CLOSE", confirm="yes")], SETTINGS, "en"
    )
    assert [o.code for o in outcomes] == ["C100", "C100"]


def test_blank_rows_in_the_middle_are_reported_on_the_row_below() -> None:
    outcomes = check_rows([row(0), row(1, identifier="B"), row(4, identifier="C")], SETTINGS, "en")
    assert [o.code for o in outcomes] == ["C100", "C100", "C117"]
    assert outcomes[2].result is Result.WARNING
    assert f"rows {FIRST_DATA_ROW + 2}–{FIRST_DATA_ROW + 3}" in outcomes[2].message


def test_account_sites_from_settings_flag_foreign_ids() -> None:
    settings = BookSettings(extra={"SITES": "MLM, MLB"})
    assert one(row(0, identifier="MLA832998780"), settings=settings)[1] == Code.SITE_MISMATCH.value
    assert one(row(0, identifier="MLB3868780585"), settings=settings)[1] == Code.CHECKED.value


@pytest.mark.parametrize("lang", LANGUAGES)
def test_messages_are_in_the_workbooks_language(lang: str) -> None:
    outcome = check_rows([row(0, action=None)], SETTINGS, lang)[0]
    assert outcome.message == texts(Code.ACTION_MISSING, lang).message
    assert outcome.remedy == texts(Code.ACTION_MISSING, lang).remedy


def test_check_is_pure() -> None:
    rows = [row(0), row(1, identifier=123, action="x"), row(3, action="CLOSE")]
    before = copy.deepcopy(rows)
    first = check_rows(rows, SETTINGS, "es")
    assert check_rows(rows, SETTINGS, "es") == first
    assert rows == before
    assert all(o.values == {} and not o.clear_others for o in first)  # earlier outputs are kept


def test_summary_counts_every_result() -> None:
    outcomes = check_rows([row(0), row(1, action=None), row(2, identifier=5)], SETTINGS, "en")
    counts = summarise(outcomes)
    assert counts[Result.OK] == 1 and counts[Result.BLOCKED] == 1 and counts[Result.WARNING] == 1
    assert sum(counts.values()) == 3


def test_analysis_exposes_the_parsed_row_for_later_stages() -> None:
    checked = analyse_rows([row(0, action="encerrar", confirm="sim", reason="Denúncia de PI")], SETTINGS)[0]
    assert checked.action is Action.CLOSE and checked.confirmed and checked.reason is Reason.IP_COMPLAINT
    assert checked.identifier is not None and checked.identifier.value == "MLM1234567890"
    assert not checked.blocked and checked.verdict is Code.CHECKED
