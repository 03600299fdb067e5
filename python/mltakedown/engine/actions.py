"""What a row asks for (Action), why (Reason), and whether it is confirmed.

Operations people type in their own language: ``PAUSAR``, ``下架``, ``encerrar``, ``关闭``… Each
word maps to one canonical :class:`Action`. The drop-down labels of every language (from the
layout) are always accepted, plus the synonyms below. Matching ignores case, accents on Latin
letters, full-width forms and surrounding spaces; nothing else is guessed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import TypeVar

from mltakedown.book.layout import ACTION_CHOICES, REASON_CHOICES
from mltakedown.book.settings import is_yes

E = TypeVar("E", bound=StrEnum)


class Action(StrEnum):
    """What to do with a listing."""

    PAUSE = "PAUSE"
    CLOSE = "CLOSE"
    DELETE = "DELETE"
    RESTORE = "RESTORE"
    IGNORE = "IGNORE"

    @property
    def needs_confirm(self) -> bool:
        """CLOSE and DELETE cannot be undone, so they need the Confirm cell."""
        return self in (Action.CLOSE, Action.DELETE)

    @property
    def needs_reason(self) -> bool:
        """A takedown must say why (the record and the appeal pack use it)."""
        return self in (Action.PAUSE, Action.CLOSE, Action.DELETE)


class Reason(StrEnum):
    """Why a listing comes down."""

    IP_COMPLAINT = "IP_COMPLAINT"
    TRO = "TRO"
    POLICY_VIOLATION = "POLICY_VIOLATION"
    MISSING_CERTIFICATION = "MISSING_CERTIFICATION"
    STOCK_OUT = "STOCK_OUT"
    MARKET_EXIT = "MARKET_EXIT"
    OTHER = "OTHER"


ACTION_SYNONYMS: Mapping[Action, tuple[str, ...]] = MappingProxyType(
    {
        Action.PAUSE: (
            "PAUSED",
            "PAUSA",
            "PAUSAR",
            "PAUSADO",
            "SUSPENDER",
            "DESACTIVAR",
            "DESATIVAR",
            "TAKE DOWN",
            "TAKEDOWN",
            "暂停",
            "下架",
            "停售",
        ),
        Action.CLOSE: (
            "CLOSED",
            "END",
            "CERRAR",
            "FINALIZAR",
            "ENCERRAR",
            "关闭",
            "结束",
            "关闭商品",
        ),
        Action.DELETE: ("DELETED", "REMOVE", "ELIMINAR", "BORRAR", "EXCLUIR", "APAGAR", "删除"),
        Action.RESTORE: (
            "REACTIVATE",
            "ACTIVATE",
            "RELIST",
            "RESTAURAR",
            "REACTIVAR",
            "REATIVAR",
            "ACTIVAR",
            "ATIVAR",
            "恢复",
            "上架",
            "重新上架",
        ),
        Action.IGNORE: ("SKIP", "NONE", "IGNORAR", "OMITIR", "PULAR", "忽略", "跳过"),
    }
)
"""Words accepted besides the drop-down labels."""

REASON_SYNONYMS: Mapping[Reason, tuple[str, ...]] = MappingProxyType(
    {
        Reason.IP_COMPLAINT: (
            "IP",
            "IPR",
            "INTELLECTUAL PROPERTY",
            "BRAND PROTECTION",
            "BPP",
            "INFRINGEMENT",
            "PROPIEDAD INTELECTUAL",
            "PROPRIEDADE INTELECTUAL",
            "DENUNCIA",
            "DENÚNCIA",
            "侵权",
            "知识产权",
            "投诉",
        ),
        Reason.TRO: (
            "TEMPORARY RESTRAINING ORDER",
            "COURT ORDER",
            "ORDEN JUDICIAL",
            "ORDEM JUDICIAL",
            "禁令",
        ),
        Reason.POLICY_VIOLATION: ("POLICY", "POLITICA", "POLÍTICA", "违规", "政策"),
        Reason.MISSING_CERTIFICATION: (
            "CERTIFICATION",
            "CERTIFICATE",
            "NOM",
            "INMETRO",
            "ANVISA",
            "ANMAT",
            "CERTIFICACION",
            "CERTIFICACIÓN",
            "CERTIFICAÇÃO",
            "认证",
        ),
        Reason.STOCK_OUT: (
            "OUT OF STOCK",
            "NO STOCK",
            "STOCKOUT",
            "SIN STOCK",
            "SEM ESTOQUE",
            "AGOTADO",
            "无货",
        ),
        Reason.MARKET_EXIT: ("EXIT", "SALIDA", "SAÍDA", "退出", "撤店"),
        Reason.OTHER: ("OTRO", "OUTRO", "OTHERS", "其它"),
    }
)
"""Reason words accepted besides the drop-down labels."""


def normalise_word(text: object) -> str:
    """A typed word as compared: NFKC, upper case, Latin accents kept, inner spaces collapsed."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).strip().upper().replace("_", " ").replace("-", " ")
    return " ".join(folded.split())


@lru_cache(maxsize=4096)
def _normalise_text(text: str) -> str:
    """:func:`normalise_word` for text cells, cached: a sheet repeats a handful of words."""
    return normalise_word(text)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


def _table(
    labels: Mapping[str, Mapping[str, str]], synonyms: Mapping[E, tuple[str, ...]], enum: type[E]
) -> Mapping[str, E]:
    table: dict[str, E] = {}

    def add(word: str, value: E) -> None:
        key = normalise_word(word)
        table[key] = value
        table[_strip_accents(key)] = value

    for member in enum:
        add(member.value, member)
        for label in labels[member.value].values():
            add(label, member)
        for word in synonyms.get(member, ()):
            add(word, member)
    return MappingProxyType(table)


_ACTIONS = _table(ACTION_CHOICES, ACTION_SYNONYMS, Action)
_REASONS = _table(REASON_CHOICES, REASON_SYNONYMS, Reason)


def _lookup(table: Mapping[str, E], text: object) -> E | None:
    key = _normalise_text(text) if isinstance(text, str) else normalise_word(text)
    if not key:
        return None
    return table.get(key) or table.get(_strip_accents(key))


def parse_action(text: object) -> Action | None:
    """The action ``text`` names (``"pausar"`` → PAUSE, ``"下架"`` → PAUSE), or ``None``."""
    return _lookup(_ACTIONS, text)


def parse_reason(text: object) -> Reason | None:
    """The reason ``text`` names (``"Denuncia de PI"`` → IP_COMPLAINT), or ``None`` for free text."""
    return _lookup(_REASONS, text)


def is_confirmed(value: object) -> bool:
    """Whether a Confirm cell confirms: yes/sí/sim/是/确认/Y/TRUE/x/✓ (and a TRUE boolean)."""
    return is_yes(value)


def action_words() -> Iterable[str]:
    """Every word accepted as an action (for help texts and tests)."""
    return _ACTIONS.keys()
