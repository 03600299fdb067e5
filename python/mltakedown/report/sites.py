"""Per-site facts the documents need: language Mercado Libre support uses, local time zone, name.

Brazil (MLB) and Portugal (MPT) are served in Portuguese; every other Mercado Libre site in
Spanish. Local times use the capital's IANA zone (``tzdata`` is a dependency, so this works on
Windows too); Mexico has had no daylight saving since 2022, which ``America/Mexico_City`` knows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LANGUAGES: tuple[str, ...] = ("es", "pt", "en", "zh")
"""Languages the documents are written in."""


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What the report needs to know about one site."""

    site_id: str
    country: str
    language: str
    timezone: str


_SITES: dict[str, SiteInfo] = {
    info.site_id: info
    for info in (
        SiteInfo("MLA", "Argentina", "es", "America/Argentina/Buenos_Aires"),
        SiteInfo("MLB", "Brasil", "pt", "America/Sao_Paulo"),
        SiteInfo("MLM", "México", "es", "America/Mexico_City"),
        SiteInfo("MLC", "Chile", "es", "America/Santiago"),
        SiteInfo("MCO", "Colombia", "es", "America/Bogota"),
        SiteInfo("MLU", "Uruguay", "es", "America/Montevideo"),
        SiteInfo("MPE", "Perú", "es", "America/Lima"),
        SiteInfo("MEC", "Ecuador", "es", "America/Guayaquil"),
        SiteInfo("MLV", "Venezuela", "es", "America/Caracas"),
        SiteInfo("MCR", "Costa Rica", "es", "America/Costa_Rica"),
        SiteInfo("MPA", "Panamá", "es", "America/Panama"),
        SiteInfo("MRD", "República Dominicana", "es", "America/Santo_Domingo"),
        SiteInfo("MBO", "Bolivia", "es", "America/La_Paz"),
        SiteInfo("MPY", "Paraguay", "es", "America/Asuncion"),
        SiteInfo("MGT", "Guatemala", "es", "America/Guatemala"),
        SiteInfo("MHN", "Honduras", "es", "America/Tegucigalpa"),
        SiteInfo("MNI", "Nicaragua", "es", "America/Managua"),
        SiteInfo("MSV", "El Salvador", "es", "America/El_Salvador"),
        SiteInfo("MCU", "Cuba", "es", "America/Havana"),
        SiteInfo("MPT", "Portugal", "pt", "Europe/Lisbon"),
    )
}


def site_info(site_id: str) -> SiteInfo:
    """Facts for ``site_id``; an unknown site gets Spanish and UTC rather than an error."""
    return _SITES.get(site_id.upper(), SiteInfo(site_id.upper(), site_id.upper(), "es", "UTC"))


def site_language(site_id: str) -> str:
    """The language Mercado Libre support uses on ``site_id`` (``pt`` for MLB, else ``es``)."""
    return site_info(site_id).language


def to_local(at: dt.datetime, site_id: str) -> dt.datetime:
    """``at`` (naive means UTC) as the site's local time."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(ZoneInfo(site_info(site_id).timezone))


def format_utc(at: dt.datetime) -> str:
    """``2026-11-27 02:13:05 UTC`` (naive means UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_local(at: dt.datetime, site_id: str) -> str:
    """``2026-11-26 20:13:05 UTC-06:00 (America/Mexico_City)``."""
    local = to_local(at, site_id)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} UTC{offset[:3]}:{offset[3:]} ({site_info(site_id).timezone})"
