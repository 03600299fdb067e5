"""Font lookup (known paths, env override, a clear error) and the editable text templates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mltakedown.report.fonts import (
    CJK_FONT_ENV,
    DEBIAN_PACKAGE,
    FontFile,
    FontNotFoundError,
    find_cjk_font,
    missing_glyphs,
)
from mltakedown.report.sites import LANGUAGES
from mltakedown.report.texts import Texts, reason_key, reason_label, templates_dir
from mltakedown.resources import TEMPLATES_ENV


def test_the_installed_font_covers_chinese_and_latin() -> None:
    font = find_cjk_font()
    assert font.path.is_file()
    assert (
        missing_glyphs(font, ["商品下架确认书（投诉）", "Confirmação de remoção — Denúncia «PI» ñ ã ç €"])
        == set()
    )
    assert missing_glyphs(font, ["\U0001f600"]) == {"\U0001f600"}  # an emoji is reported, not hidden


def test_a_simplified_chinese_face_is_chosen_in_a_collection() -> None:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = find_cjk_font()
    if font.path.suffix.lower() != ".ttc":
        pytest.skip("the font found is not a collection")
    with TTFont(str(font.path), fontNumber=font.index, lazy=True) as face:
        family = face["name"].getDebugName(1)
    assert family.endswith(" SC") or "YaHei" in family or "GB" in family


def test_the_env_var_overrides_the_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = find_cjk_font()
    monkeypatch.setenv(CJK_FONT_ENV, f"{installed.path}#0")
    assert find_cjk_font() == FontFile(installed.path, 0)
    monkeypatch.setenv(CJK_FONT_ENV, "/nowhere/font.ttf")
    with pytest.raises(FontNotFoundError, match=CJK_FONT_ENV):
        find_cjk_font()


def test_no_font_names_the_package_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CJK_FONT_ENV, raising=False)
    with pytest.raises(FontNotFoundError) as caught:
        find_cjk_font([tmp_path / "missing.ttc"])
    assert DEBIAN_PACKAGE in str(caught.value) and "apt-get install" in str(caught.value)


def test_every_language_has_every_key_of_english() -> None:
    folder = templates_dir()

    def keys(node: object, prefix: str = "") -> set[str]:
        if not isinstance(node, dict):
            return {prefix}
        return {
            k for name, child in node.items() if name != "_comment" for k in keys(child, f"{prefix}.{name}")
        }

    english = keys(json.loads((folder / "en.json").read_text(encoding="utf-8")))
    for lang in LANGUAGES:
        assert keys(json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))) == english, lang
    for lang in ("es", "pt"):
        assert (folder / f"appeal_{lang}.txt").is_file()


def test_an_edited_template_is_used_and_gaps_fall_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "templates" / "reports"
    shutil.copytree(templates_dir(), copy)
    data = json.loads((copy / "es.json").read_text(encoding="utf-8"))
    data["confirmation"]["title_execute"] = "Constancia de baja — $unknown"
    del data["confirmation"]["none"]
    (copy / "es.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv(TEMPLATES_ENV, str(tmp_path / "templates"))
    texts = Texts("es", copy)
    assert texts.get("confirmation.title_execute") == "Constancia de baja — $unknown"  # left as typed
    assert texts.get("confirmation.none") == "None."


def test_reasons_are_shown_in_the_document_language() -> None:
    assert reason_key("知识产权投诉") == "IP_COMPLAINT"
    assert reason_label("Denuncia de PI", "pt") == "Denúncia de PI"
    assert reason_label("ip complaint", "zh") == "知识产权投诉"
    assert reason_label("Carta del abogado", "en") == "Carta del abogado"  # free text stays as typed
    with pytest.raises(ValueError):
        Texts("fr")
