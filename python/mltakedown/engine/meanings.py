"""Plain-language meanings of Mercado Libre item statuses and sub-statuses (zh, es, pt, en).

Pull writes these beside the raw ``status`` / ``sub_status`` so an operations person can read
"under review by Mercado Libre" instead of ``under_review/held``; Plan uses them to explain a
platform-controlled row together with the appeal path. The facts come from ml-api.md §4.

The set of platform-controlled states lives here too, because "what it means" and "who
controls it" are the same knowledge.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

LANGUAGES: Final = ("zh", "es", "pt", "en")

# (zh, es, pt, en) per key. Short: they go in a cell.
_STATUS: Final[dict[str, tuple[str, str, str, str]]] = {
    "active": ("在售", "activa", "ativo", "active"),
    "paused": ("已暂停", "pausada", "pausado", "paused"),
    "closed": (
        "已结束（最终状态，只能重新发布为新编号）",
        "finalizada (definitivo; solo se puede republicar con un ID nuevo)",
        "finalizado (definitivo; só pode ser republicado com um novo ID)",
        "closed (final; only a relist brings it back, with a new item ID)",
    ),
    "under_review": (
        "Mercado Libre 审核中",
        "en revisión por Mercado Libre",
        "em revisão pelo Mercado Livre",
        "under review by Mercado Libre",
    ),
    "inactive": (
        "被 Mercado Libre 停用",
        "inactivada por Mercado Libre",
        "inativado pelo Mercado Livre",
        "made inactive by Mercado Libre",
    ),
    "payment_required": (
        "需付款：卖家有欠款，付清前无法修改",
        "requiere pago: deuda pendiente, no se puede modificar hasta pagarla",
        "pagamento pendente: há dívida, não pode ser alterado até quitá-la",
        "payment required: the account owes Mercado Libre; no changes until it is paid",
    ),
    "not_yet_active": ("尚未生效", "aún no activa", "ainda não ativo", "not yet active"),
}

_SUB_STATUS: Final[dict[str, tuple[str, str, str, str]]] = {
    "out_of_stock": (
        "无库存自动暂停（补货后会自动恢复）",
        "pausada sin stock (se reactiva sola al reponer stock)",
        "pausado sem estoque (reativa sozinho ao repor estoque)",
        "paused for lack of stock (restocking reactivates it)",
    ),
    "paused_by_seller": (
        "卖家手动暂停",
        "pausada por el vendedor",
        "pausado pelo vendedor",
        "paused by the seller",
    ),
    "picture_download_pending": (
        "图片处理中",
        "procesando fotos",
        "processando fotos",
        "pictures are being processed",
    ),
    "moderation_penalty": (
        "平台预防性处罚（修正后卖家可重新激活）",
        "penalización preventiva (el vendedor puede reactivar tras corregir)",
        "penalidade preventiva (o vendedor pode reativar após corrigir)",
        "preventive moderation penalty (the seller may reactivate after fixing it)",
    ),
    "warning": (
        "审核警告：需修改，约 2 天后转为待修正",
        "advertencia: hay que corregir (pasa a espera de corrección en ~2 días)",
        "aviso: é preciso corrigir (vira aguardando correção em ~2 dias)",
        "warning: must be fixed (becomes waiting for patch after about 2 days)",
    ),
    "waiting_for_patch": (
        "等待卖家修正商品",
        "esperando que el vendedor corrija la publicación",
        "aguardando o vendedor corrigir o anúncio",
        "waiting for the seller to fix the listing",
    ),
    "held": (
        "Mercado Libre 人工审核中",
        "retenida para revisión manual",
        "retido para revisão manual",
        "held for manual review",
    ),
    "pending_documentation": (
        "品牌保护：需提交文件",
        "protección de marca: falta documentación",
        "proteção de marca: falta documentação",
        "brand protection: documentation required",
    ),
    "forbidden": (
        "被 Mercado Libre 禁止（API 不可修改）",
        "prohibida por Mercado Libre (no editable por API)",
        "proibido pelo Mercado Livre (não editável pela API)",
        "forbidden by Mercado Libre (not editable through the API)",
    ),
    "suspended": (
        "被暂停（平台处罚）",
        "suspendida por Mercado Libre",
        "suspenso pelo Mercado Livre",
        "suspended by Mercado Libre",
    ),
    "suspended_for_prevention": (
        "预防性暂停（平台）",
        "suspendida de forma preventiva",
        "suspenso preventivamente",
        "suspended as a precaution by Mercado Libre",
    ),
    "banned": (
        "被平台封禁",
        "bloqueada por Mercado Libre",
        "banido pelo Mercado Livre",
        "banned by Mercado Libre",
    ),
    "freezed": (
        "被平台冻结",
        "congelada por Mercado Libre",
        "congelado pelo Mercado Livre",
        "frozen by Mercado Libre",
    ),
    "expired": ("已过期结束", "venció", "expirou", "expired"),
    "deleted": ("已删除", "eliminada", "excluído", "deleted"),
}

_APPEAL: Final = (
    "请在卖家中心「质量/审核」处查看原因并申诉或修正；本工具不会尝试修改。",
    "Revise el motivo y apele o corrija en Mi cuenta › Publicaciones › Moderaciones; la herramienta no lo intenta.",
    "Veja o motivo e recorra ou corrija em Minha conta › Anúncios › Moderações; a ferramenta não tenta alterar.",
    "See the reason and appeal or fix it in Seller Center › Listings › Moderations; the tool will not try.",
)

_PAYMENT_APPEAL: Final = (
    "请先在卖家中心付清欠款。",
    "Pague la deuda pendiente en Mi cuenta › Facturación.",
    "Quite a dívida em Minha conta › Faturamento.",
    "Pay the outstanding balance in Seller Center › Billing first.",
)

PLATFORM_STATUSES: Final = frozenset({"under_review", "inactive", "payment_required", "not_yet_active"})
"""Item statuses only Mercado Libre can change; writes fail with ``item.status.not_modifiable``."""

PLATFORM_SUB_STATUSES: Final = frozenset(
    {
        "warning",
        "waiting_for_patch",
        "held",
        "pending_documentation",
        "forbidden",
        "suspended",
        "suspended_for_prevention",
        "banned",
        "freezed",
    }
)
"""Sub-statuses that mean Mercado Libre holds the listing (ml-api.md §4: every edit is rejected)."""


def _pick(texts: tuple[str, str, str, str], lang: str) -> str:
    index = LANGUAGES.index(lang) if lang in LANGUAGES else LANGUAGES.index("en")
    return texts[index]


def status_meaning(status: str | None, lang: str = "en") -> str:
    """What ``status`` means, in ``lang``; the raw value when it is not in the table."""
    if not status:
        return ""
    texts = _STATUS.get(status)
    return _pick(texts, lang) if texts else status


def sub_status_meaning(sub_statuses: Iterable[str], lang: str = "en") -> str:
    """The meanings of the sub-statuses, joined with ``; `` (raw values kept for unknown ones)."""
    parts: list[str] = []
    for sub in sub_statuses:
        texts = _SUB_STATUS.get(sub)
        parts.append(_pick(texts, lang) if texts else sub)
    return "; ".join(parts)


def describe_state(status: str | None, sub_statuses: Iterable[str], lang: str = "en") -> str:
    """``status — meaning (sub-status meanings)`` for a cell, e.g. ``paused — paused by the seller``."""
    subs = list(sub_statuses)
    head = status_meaning(status, lang)
    tail = sub_status_meaning(subs, lang)
    if head and tail:
        return f"{head} ({tail})"
    return head or tail


def is_platform_controlled(status: str | None, sub_statuses: Iterable[str]) -> bool:
    """True when Mercado Libre, not the seller, holds the item (writes would be rejected)."""
    if status in PLATFORM_STATUSES:
        return True
    return any(sub in PLATFORM_SUB_STATUSES for sub in sub_statuses)


def appeal_path(status: str | None, lang: str = "en") -> str:
    """Where the seller can act on a platform-controlled item, in ``lang``."""
    return _pick(_PAYMENT_APPEAL if status == "payment_required" else _APPEAL, lang)
