"""The code catalogue: every code has facts and a message and remedy in every language."""

from __future__ import annotations

import json
import re

import pytest

from mltakedown.codes import (
    CATALOGUE,
    LANGUAGES,
    Code,
    Severity,
    describe,
    normalise_language,
    severity_rank,
    system_language,
    templates_dir,
    texts,
    ui_text,
)


def _file(lang: str) -> dict[str, object]:
    with (templates_dir() / "codes" / f"{lang}.json").open(encoding="utf-8") as handle:
        data: dict[str, object] = json.load(handle)
    return data


def test_catalogue_covers_every_code() -> None:
    assert set(CATALOGUE) == set(Code)


def test_codes_are_unique_and_well_formed() -> None:
    values = [c.value for c in Code]
    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"[CLX]\d{3}", v) for v in values)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_code_has_a_message_and_remedy_in_every_language(lang: str) -> None:
    for code in Code:
        text = texts(code, lang)
        assert text.message.strip(), f"{code} has no {lang} message"
        assert text.remedy.strip(), f"{code} has no {lang} remedy"
        assert "{" not in text.message and "{" not in text.remedy  # no placeholders in catalogue texts


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_files_hold_no_unknown_codes_and_the_same_ui_words(lang: str) -> None:
    data = _file(lang)
    codes = data["codes"]
    assert isinstance(codes, dict)
    assert set(codes) == {c.value for c in Code}
    assert data["language"] == lang
    ui = data["ui"]
    english = _file("en")["ui"]
    assert isinstance(ui, dict) and isinstance(english, dict)
    assert set(ui) == set(english)


def test_languages_really_differ() -> None:
    for code in Code:
        messages = {texts(code, lang).message for lang in LANGUAGES}
        assert len(messages) == len(LANGUAGES), f"{code}: some languages share a message"


def test_chinese_texts_are_chinese_and_simplified() -> None:
    traditional = set("這關刪們為號錯誤認證單確選擇與庫說")
    for code in Code:
        text = texts(code, "zh")
        assert re.search(r"[\u4e00-\u9fff]", text.message + text.remedy), code
        assert not traditional & set(text.message + text.remedy), code


def test_describe_appends_the_detail() -> None:
    message, remedy = describe(Code.SKU_AMBIGUOUS, "en", "MLM1, MLM2")
    assert message == texts(Code.SKU_AMBIGUOUS, "en").message + ": MLM1, MLM2"
    assert remedy == texts(Code.SKU_AMBIGUOUS, "en").remedy
    assert describe(Code.DONE, "es") == (texts(Code.DONE, "es").message, texts(Code.DONE, "es").remedy)


@pytest.mark.parametrize(
    ("given", "lang"),
    [
        ("zh-CN", "zh"),
        ("zh_TW.UTF-8", "zh"),
        ("es_MX", "es"),
        ("PT-br", "pt"),
        ("fr", "en"),
        (None, "en"),
        ("中文", "zh"),
    ],
)
def test_normalise_language(given: str | None, lang: str) -> None:
    assert normalise_language(given) == lang


def test_system_language_follows_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "pt_BR.UTF-8")
    assert system_language() == "pt"
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    assert system_language() == "en"


def test_unknown_language_falls_back_to_english() -> None:
    assert texts(Code.DONE, "fr") == texts(Code.DONE, "en")
    assert ui_text("also", "xx") == "Also"


def test_errors_rank_above_warnings_above_info() -> None:
    ranked = sorted(Code, key=severity_rank, reverse=True)
    severities = [CATALOGUE[c].severity for c in ranked]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    assert [order[s] for s in severities] == sorted(order[s] for s in severities)


def test_blocking_codes_have_a_blocking_result() -> None:
    for spec in CATALOGUE.values():
        if spec.severity is Severity.ERROR and spec.blocks_write:
            assert spec.result.value == "BLOCKED"
