"""Document texts, loaded from the user-editable templates in ``templates/reports/``.

Each language has one JSON file (``en.json``, ``es.json``, ``pt.json``, ``zh.json``) of labels
and :class:`string.Template` strings (``$nickname``, ``${site}``), plus plain-text appeal letters
(``appeal_es.txt``, ``appeal_pt.txt``). A user may edit them or point ``MLTAKEDOWN_TEMPLATES`` at
a copy. A key missing from a language falls back to English, and a placeholder the code does not
know is left as typed (``safe_substitute``), so an edited template never breaks a report.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

from mltakedown import resources
from mltakedown.book.layout import REASON_CHOICES, normalise_header
from mltakedown.report.sites import LANGUAGES

"""Environment variable naming a templates folder (the one holding ``reports/``)."""


class TemplateError(RuntimeError):
    """A template file is missing or is not valid JSON."""


def templates_dir() -> Path:
    """The ``templates/reports`` folder (``$MLTAKEDOWN_TEMPLATES/reports`` when set)."""
    return resources.templates_dir() / "reports"


@lru_cache(maxsize=16)
def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TemplateError(f"report template not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise TemplateError(f"report template {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"report template {path} must hold a JSON object")
    return data


class Texts:
    """The texts of one language, with English as the fallback for missing keys."""

    def __init__(self, language: str, folder: Path | None = None) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}; choose one of {', '.join(LANGUAGES)}")
        self.language = language
        self.folder = folder or templates_dir()
        self._own = _load_json(self.folder / f"{language}.json")
        self._fallback = self._own if language == "en" else _load_json(self.folder / "en.json")

    def _lookup(self, data: dict[str, Any], key: str) -> Any:
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def get(self, key: str, **values: object) -> str:
        """The text at dotted ``key`` with ``$placeholders`` filled in."""
        raw = self._lookup(self._own, key)
        if raw is None:
            raw = self._lookup(self._fallback, key)
        if raw is None:
            raise TemplateError(f"no text {key!r} in {self.language}.json or en.json ({self.folder})")
        return Template(str(raw)).safe_substitute({name: str(value) for name, value in values.items()})

    def optional(self, key: str, default: str, **values: object) -> str:
        """Like :meth:`get`, but ``default`` (also filled in) when neither language has the key."""
        raw = self._lookup(self._own, key)
        if raw is None:
            raw = self._lookup(self._fallback, key)
        text = default if raw is None else str(raw)
        return Template(text).safe_substitute({name: str(value) for name, value in values.items()})

    def letter(self, name: str, **values: object) -> str:
        """A plain-text letter template (``appeal_es.txt``) with the facts filled in."""
        path = self.folder / f"{name}_{self.language}.txt"
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise TemplateError(f"letter template not found: {path}") from exc
        return Template(raw).safe_substitute({key: str(value) for key, value in values.items()})


def reason_key(reason: str) -> str:
    """The canonical key (``IP_COMPLAINT``…) of a reason typed in any language; ``""`` for free text."""
    wanted = normalise_header(reason)
    if not wanted:
        return ""
    for key, labels in REASON_CHOICES.items():
        if wanted in {normalise_header(key), *(normalise_header(text) for text in labels.values())}:
            return key
    return ""


def reason_label(reason: str, language: str) -> str:
    """A reason from the workbook's drop-down shown in ``language``; free text is kept as typed.

    The drop-down offers the reasons in the workbook's language (``Denuncia de PI``, ``知识产权投诉``);
    a document in another language should say the same reason in its own words.
    """
    key = reason_key(reason)
    if not key:
        return reason.strip()
    labels = REASON_CHOICES[key]
    return labels.get(language, labels["en"])
