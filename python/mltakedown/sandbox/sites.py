"""Per-site facts: currency, permalink host, language, a rough USD exchange rate."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Site:
    """One marketplace the seeded sellers sell on."""

    id: str
    country_id: str
    currency_id: str
    host: str
    language: str  # "es" or "pt": picks the title language
    usd_rate: float
    price_step: float  # local prices are rounded to this step, then end in "9"/".9"

    def local_price(self, usd: float) -> float:
        """A realistic local price for a product that costs ``usd`` dollars."""
        raw = usd * self.usd_rate
        stepped = max(self.price_step, round(raw / self.price_step) * self.price_step)
        if self.price_step >= 10:
            return float(int(stepped) - int(self.price_step / 10))  # 45990, 19990, 89900 - 10 …
        if self.language == "pt":
            return round(stepped - 0.1, 2)
        return float(max(10, round(raw / 10) * 10) - 1)  # 349, 599 …

    def permalink(self, item_id: str, title: str) -> str:
        """The public web URL: the item id gets a dash, the title becomes a slug."""
        number = item_id[len(self.id) :]
        return f"https://{self.host}/{self.id}-{number}-{slugify(title)}-_JM"


SITES: dict[str, Site] = {
    "MLM": Site("MLM", "MX", "MXN", "articulo.mercadolibre.com.mx", "es", 18.0, 1.0),
    "MLB": Site("MLB", "BR", "BRL", "produto.mercadolivre.com.br", "pt", 5.3, 1.0),
    "MLA": Site("MLA", "AR", "ARS", "articulo.mercadolibre.com.ar", "es", 1150.0, 100.0),
    "MLC": Site("MLC", "CL", "CLP", "articulo.mercadolibre.cl", "es", 950.0, 100.0),
    "MCO": Site("MCO", "CO", "COP", "articulo.mercadolibre.com.co", "es", 4100.0, 100.0),
}


@lru_cache(maxsize=1024)
def slugify(title: str) -> str:
    """``Audífonos Bluetooth 5.3`` → ``audifonos-bluetooth-53`` (as in real permalinks)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower().replace(".", "")).strip("-")
