"""The seeded catalogue: two sellers, realistic listings, every tricky case, orders, ads, questions.

Seller A (1001, ``ACME_CN``) is a Chinese cross-border seller on MLM, MLB, MLA, MLC and MCO;
seller B (2002) is another account whose item IDs and SKUs look like A's. Item IDs are fixed
(they do not depend on the clock), so :data:`TRICKY` and :data:`SAMPLE_ITEM_IDS` are constants;
dates are relative to the world's clock at creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .clock import DAY, iso
from .sites import SITES

JSON = dict[str, Any]

SELLER_A = 1001
SELLER_B = 2002
CLIENT_ID = "sandbox-app"
CLIENT_SECRET = "sandbox-secret"
TOKEN_A = "APP_USR-SANDBOX-SELLER-A"
REFRESH_A = "TG-SANDBOX-SELLER-A"
TOKEN_B = "APP_USR-SANDBOX-SELLER-B"
REFRESH_B = "TG-SANDBOX-SELLER-B"

# Ten-digit item numbers per site; seller B's numbers reuse A's digits (look-alike IDs).
_BASE = {"MLM": 2156300000, "MLB": 4123400000, "MLA": 1623500000, "MLC": 1498700000, "MCO": 3387600000}
_GENERATED_BASE = 500000  # generate_items() numbers start here, far from the seeded ones


def item_id(site: str, k: int) -> str:
    """The fixed ID of the ``k``-th seeded item on ``site``."""
    return f"{site}{_BASE[site] + k}"


@dataclass(frozen=True)
class Product:
    """A product template: code, titles in Spanish and Portuguese, a USD price, a category."""

    code: str
    title_es: str
    title_pt: str
    usd: float
    category: str
    domain: str

    def title(self, site: str) -> str:
        """The title in the site's language."""
        return self.title_pt if SITES[site].language == "pt" else self.title_es


PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in (
        Product(
            "BT",
            "Audífonos Inalámbricos Bluetooth 5.3 Con Estuche De Carga",
            "Fone De Ouvido Bluetooth 5.3 Sem Fio Com Estojo De Carga",
            19.4,
            "3697",
            "HEADPHONES",
        ),
        Product(
            "LED",
            "Tira Luces Led Rgb 10 M Con Control Remoto Y App",
            "Fita Led Rgb 10 M Com Controle Remoto E App",
            12.5,
            "7969",
            "LED_STRIPS",
        ),
        Product(
            "CS",
            "Funda Uso Rudo Para iPhone 15 Pro Transparente",
            "Capa Anti Impacto Para iPhone 15 Pro Transparente",
            6.9,
            "5237",
            "CELLPHONE_CASES",
        ),
        Product(
            "SW",
            "Reloj Inteligente Smartwatch Deportivo Monitor Cardiaco",
            "Relógio Inteligente Smartwatch Esportivo Monitor Cardíaco",
            29.9,
            "417704",
            "SMARTWATCHES",
        ),
        Product(
            "PB",
            "Batería Portátil Power Bank 20000 Mah Carga Rápida",
            "Carregador Portátil Power Bank 20000 Mah Carga Rápida",
            17.5,
            "3813",
            "PORTABLE_CHARGERS",
        ),
        Product(
            "CB",
            "Cable Usb C A Usb C 2 M Carga Rápida 60 W",
            "Cabo Usb C Para Usb C 2 M Carga Rápida 60 W",
            4.5,
            "1049",
            "USB_CABLES",
        ),
        Product(
            "RL",
            "Aro De Luz Led 26 Cm Con Tripié 2 M Para Celular",
            "Ring Light Led 26 Cm Com Tripé 2 M Para Celular",
            14.9,
            "9120",
            "RING_LIGHTS",
        ),
        Product(
            "SC",
            "Báscula Digital De Cocina 10 Kg Acero Inoxidable",
            "Balança Digital De Cozinha 10 Kg Aço Inox",
            8.9,
            "4385",
            "KITCHEN_SCALES",
        ),
        Product(
            "TS",
            "Playera Deportiva Dry Fit Hombre Secado Rápido",
            "Camiseta Esportiva Dry Fit Masculina Secagem Rápida",
            7.5,
            "109027",
            "T_SHIRTS",
        ),
        Product(
            "MS",
            "Mouse Inalámbrico Recargable Silencioso 2.4 Ghz",
            "Mouse Sem Fio Recarregável Silencioso 2.4 Ghz",
            9.9,
            "1714",
            "MICE",
        ),
        Product(
            "HD",
            "Secadora De Cabello Iónica 2000 W Con Difusor",
            "Secador De Cabelo Iônico 2000 W Com Difusor",
            24.9,
            "5088",
            "HAIR_DRYERS",
        ),
        Product(
            "DR",
            "Dron Con Cámara 4k Plegable Para Principiantes",
            "Drone Com Câmera 4k Dobrável Para Iniciantes",
            45.0,
            "178483",
            "DRONES",
        ),
        Product(
            "VC",
            "Aspiradora Robot Inteligente Wifi Con Mapeo",
            "Aspirador Robô Inteligente Wifi Com Mapeamento",
            89.0,
            "4337",
            "ROBOT_VACUUMS",
        ),
        Product(
            "CC",
            "Cargador Para Auto Doble Usb C 48 W Carga Rápida",
            "Carregador Veicular Duplo Usb C 48 W Carga Rápida",
            6.5,
            "7462",
            "CAR_CHARGERS",
        ),
        Product(
            "TY",
            "Bloques De Construcción Magnéticos 64 Piezas Niños",
            "Blocos De Montar Magnéticos 64 Peças Infantil",
            21.0,
            "1166",
            "BUILDING_BLOCKS",
        ),
    )
}


def attribute(attr_id: str, name: str, value: str) -> JSON:
    """One entry of ``attributes[]``."""
    return {
        "id": attr_id,
        "name": name,
        "value_id": None,
        "value_name": value,
        "values": [{"id": None, "name": value, "struct": None}],
        "value_type": "string",
    }


def seller_sku_attribute(sku: str) -> JSON:
    """The official SKU place: the ``SELLER_SKU`` attribute."""
    return attribute("SELLER_SKU", "SKU", sku)


@dataclass
class SeedData:
    """Everything the world starts with."""

    users: dict[int, JSON] = field(default_factory=dict)
    items: dict[str, JSON] = field(default_factory=dict)
    orders: list[JSON] = field(default_factory=list)
    shipments: dict[int, JSON] = field(default_factory=dict)
    questions: list[JSON] = field(default_factory=list)
    advertisers: dict[int, list[JSON]] = field(default_factory=dict)
    ad_groups: dict[str, JSON] = field(default_factory=dict)


def make_item(
    now: float,
    *,
    item_id: str,
    seller_id: int,
    product: str,
    sku: str | None = None,
    quantity: int = 25,
    status: str = "active",
    sub_status: list[str] | None = None,
    tags: list[str] | None = None,
    listing_type_id: str = "gold_special",
    logistic_type: str = "cross_docking",
    seller_custom_field: str | None = None,
    variations: list[JSON] | None = None,
    sold_quantity: int = 0,
    age_days: float = 120.0,
    closed_days_ago: float | None = None,
    **extra: Any,
) -> JSON:
    """Build one realistic item in the shape ``GET /items/{id}`` returns."""
    site = SITES[item_id[:3]]
    prod = PRODUCTS[product]
    title = prod.title(site.id)
    price = site.local_price(prod.usd * (1.12 if listing_type_id == "gold_pro" else 1.0))
    attributes = [
        attribute("BRAND", "Marca", "ACME"),
        attribute("MODEL", "Modelo", f"{prod.code}-{seller_id}"),
    ]
    if sku is not None:
        attributes.append(seller_sku_attribute(sku))
    if variations:
        quantity = sum(int(v["available_quantity"]) for v in variations)
        for v in variations:
            v.setdefault("price", price)
    created = now - age_days * DAY
    stop = now + 7300 * DAY if closed_days_ago is None else now - closed_days_ago * DAY
    item: JSON = {
        "id": item_id,
        "site_id": site.id,
        "title": title,
        "family_name": None,
        "seller_id": seller_id,
        "category_id": f"{site.id}{prod.category}",
        "official_store_id": None,
        "price": price,
        "base_price": price,
        "original_price": None,
        "currency_id": site.currency_id,
        "initial_quantity": quantity + sold_quantity,
        "available_quantity": quantity,
        "sold_quantity": sold_quantity,
        "sale_terms": [],
        "buying_mode": "buy_it_now",
        "listing_type_id": listing_type_id,
        "condition": "new",
        "permalink": site.permalink(item_id, title),
        "thumbnail": f"http://http2.mlstatic.com/D_{item_id}-I.jpg",
        "pictures": [
            {"id": f"{item_id[3:]}-MLA{len(title)}", "url": f"http://http2.mlstatic.com/D_{item_id}-O.jpg"}
        ],
        "accepts_mercadopago": True,
        "shipping": {
            "mode": "me2",
            "logistic_type": logistic_type,
            "free_shipping": price > site.local_price(15.0),
            "local_pick_up": False,
            "tags": [],
            "dimensions": None,
        },
        "attributes": attributes,
        "variations": variations or [],
        "status": status,
        "sub_status": list(sub_status or []),
        "tags": ["good_quality_thumbnail", "immediate_payment", "cart_eligible", *(tags or [])],
        "warranty": "Garantía del vendedor: 30 días"
        if site.language == "es"
        else "Garantia do vendedor: 30 dias",
        "catalog_product_id": None,
        "domain_id": f"{site.id}-{prod.domain}",
        "catalog_listing": False,
        "item_relations": [],
        "seller_custom_field": seller_custom_field,
        "user_product_id": None,
        "inventory_id": None,
        "parent_item_id": None,
        "channels": ["marketplace"],
        "health": 0.86,
        "automatic_relist": False,
        "date_created": iso(created),
        "start_time": iso(created),
        "stop_time": iso(stop),
        "last_updated": iso(now - 2 * DAY if closed_days_ago is None else now - closed_days_ago * DAY),
    }
    item.update(extra)
    if closed_days_ago is not None:
        item["_closed_at"] = now - closed_days_ago * DAY  # private: drives the relist window
    return item


def make_variation(var_id: int, color: str, size: str | None, quantity: int, sku: str | None) -> JSON:
    """A variation with its own SELLER_SKU attribute."""
    combos = [{"id": "COLOR", "name": "Color", "value_id": None, "value_name": color}]
    if size is not None:
        combos.append({"id": "SIZE", "name": "Talla", "value_id": None, "value_name": size})
    return {
        "id": var_id,
        "attribute_combinations": combos,
        "available_quantity": quantity,
        "sold_quantity": 0,
        "picture_ids": [],
        "seller_custom_field": None,
        "catalog_product_id": None,
        "attributes": [seller_sku_attribute(sku)] if sku else [],
        "inventory_id": None,
        "user_product_id": None,
    }


# --- fixed identities of the tricky cases -------------------------------------------------------

TRICKY: dict[str, str] = {
    "active_mlm": item_id("MLM", 11),
    "active_mlb": item_id("MLB", 11),
    "active_mla": item_id("MLA", 11),
    "active_mlc": item_id("MLC", 11),
    "active_mco": item_id("MCO", 11),
    "active_sku": "ACME-BT-0001",
    "paused_by_seller": item_id("MLM", 12),
    "closed_recent": item_id("MLM", 13),
    "closed_old": item_id("MLM", 14),
    "deleted": item_id("MLM", 15),
    "under_review_warning": item_id("MLM", 16),
    "under_review_held": item_id("MLM", 17),
    "under_review_pending_documentation": item_id("MLB", 16),
    "under_review_forbidden": item_id("MLM", 18),
    "under_review_waiting_for_patch": item_id("MLA", 16),
    "inactive": item_id("MLA", 17),
    "paused_moderation_penalty": item_id("MLM", 19),
    "paused_out_of_stock": item_id("MLM", 20),
    "multi_variation": item_id("MLM", 21),
    "multi_variation_sku": "ACME-TS-0009-AZU-G",
    "single_variation": item_id("MLM", 22),
    "single_variation_sku": "ACME-MS-0010-GRIS",
    "zero_stock": item_id("MLM", 23),
    "ambiguous_sku": "ACME-PB-0005",
    "ambiguous_sku_classic": item_id("MLM", 24),
    "ambiguous_sku_premium": item_id("MLM", 25),
    "custom_field_only_sku": "ACME-CB-0006-INT",
    "custom_field_only": item_id("MLA", 12),
    "leading_zeros_sku": "00123",
    "leading_zeros": item_id("MLM", 26),
    "ean_sku": "7501234567890",
    "ean": item_id("MLM", 27),
    "spaced_sku": "Acme Rl 0042 Negro",
    "spaced": item_id("MLC", 12),
    "full_item": item_id("MLM", 28),
    "full_inventory_id": "LCQI05831",
    "catalog_parent": item_id("MLB", 12),
    "catalog_listing": item_id("MLB", 13),
    "order_pending_item": item_id("MLM", 29),
    "order_handling_item": item_id("MLB", 14),
    "order_ready_to_ship_item": item_id("MLM", 30),
    "order_shipped_only_item": item_id("MLA", 13),
    "active_ad_item": item_id("MLM", 11),
    "paused_ad_item": item_id("MLB", 15),
    "hold_ad_item": item_id("MLM", 12),
    "questions_item": item_id("MLM", 31),
    "user_product_item": item_id("MLB", 17),
    "user_product_sibling": item_id("MLB", 18),
    "user_product_id": "MLBU1946664967",
    "seller_b_item": item_id("MCO", 12),
    "seller_b_lookalike": f"MLM{_BASE['MLM'] + 110}",
    "seller_b_same_sku": f"MLM{_BASE['MLM'] + 101}",
}

SAMPLE_ITEM_IDS: list[str] = [
    TRICKY["active_mlm"],
    TRICKY["active_mlb"],
    TRICKY["active_mla"],
    TRICKY["active_mlc"],
    TRICKY["active_mco"],
    item_id("MLM", 32),
]


def _sku(code: str, n: int) -> str:
    return f"ACME-{code}-{n:04d}"


def _seller_a_items(now: float) -> list[JSON]:
    t = TRICKY
    a: dict[str, Any] = {"seller_id": SELLER_A}
    items = [
        make_item(
            now,
            item_id=t["active_mlm"],
            product="BT",
            sku="ACME-BT-0001",
            quantity=140,
            sold_quantity=37,
            **a,
        ),
        make_item(now, item_id=t["active_mlb"], product="BT", sku="ACME-BT-0001-BR", quantity=80, **a),
        make_item(now, item_id=t["active_mla"], product="SW", sku="ACME-SW-0004", quantity=35, **a),
        make_item(now, item_id=t["active_mlc"], product="LED", sku="ACME-LED-0002", quantity=60, **a),
        make_item(now, item_id=t["active_mco"], product="CS", sku="ACME-CS-0003", quantity=210, **a),
        make_item(now, item_id=item_id("MLM", 32), product="CC", sku="ACME-CC-0014", quantity=95, **a),
        make_item(
            now,
            item_id=t["paused_by_seller"],
            product="LED",
            sku="ACME-LED-0002-MX",
            status="paused",
            sub_status=["paused_by_seller"],
            quantity=44,
            **a,
        ),
        make_item(
            now,
            item_id=t["closed_recent"],
            product="DR",
            sku="ACME-DR-0012",
            status="closed",
            quantity=9,
            sold_quantity=3,
            closed_days_ago=10,
            **a,
        ),
        make_item(
            now,
            item_id=t["closed_old"],
            product="DR",
            sku="ACME-DR-0012-OLD",
            status="closed",
            sub_status=["expired"],
            quantity=4,
            closed_days_ago=75,
            age_days=400,
            **a,
        ),
        make_item(
            now,
            item_id=t["deleted"],
            product="TY",
            sku="ACME-TY-0015",
            status="closed",
            sub_status=["deleted"],
            quantity=0,
            closed_days_ago=20,
            **a,
        ),
        make_item(
            now,
            item_id=t["under_review_warning"],
            product="HD",
            sku="ACME-HD-0011-W",
            status="under_review",
            sub_status=["warning"],
            **a,
        ),
        make_item(
            now,
            item_id=t["under_review_held"],
            product="HD",
            sku="ACME-HD-0011",
            status="under_review",
            sub_status=["held"],
            **a,
        ),
        make_item(
            now,
            item_id=t["under_review_pending_documentation"],
            product="HD",
            sku="ACME-HD-0011-BR",
            status="under_review",
            sub_status=["pending_documentation"],
            **a,
        ),
        make_item(
            now,
            item_id=t["under_review_forbidden"],
            product="VC",
            sku="ACME-VC-0013",
            status="under_review",
            sub_status=["forbidden"],
            **a,
        ),
        make_item(
            now,
            item_id=t["under_review_waiting_for_patch"],
            product="VC",
            sku="ACME-VC-0013-AR",
            status="under_review",
            sub_status=["waiting_for_patch"],
            **a,
        ),
        make_item(now, item_id=t["inactive"], product="CB", sku="ACME-CB-0006-AR", status="inactive", **a),
        make_item(
            now,
            item_id=t["paused_moderation_penalty"],
            product="SW",
            sku="ACME-SW-0004-MX",
            status="paused",
            tags=["moderation_penalty"],
            **a,
        ),
        make_item(
            now,
            item_id=t["paused_out_of_stock"],
            product="RL",
            sku="ACME-RL-0007",
            status="paused",
            sub_status=["out_of_stock"],
            quantity=0,
            sold_quantity=50,
            **a,
        ),
        make_item(
            now,
            item_id=t["multi_variation"],
            product="TS",
            listing_type_id="gold_pro",
            variations=[
                make_variation(180012345601, "Negro", "M", 12, "ACME-TS-0009-NEG-M"),
                make_variation(180012345602, "Negro", "G", 8, "ACME-TS-0009-NEG-G"),
                make_variation(180012345603, "Azul", "M", 15, "ACME-TS-0009-AZU-M"),
                make_variation(180012345604, "Azul", "G", 6, "ACME-TS-0009-AZU-G"),
            ],
            **a,
        ),
        make_item(
            now,
            item_id=t["single_variation"],
            product="MS",
            variations=[
                make_variation(180012345701, "Gris", None, 30, "ACME-MS-0010-GRIS"),
            ],
            **a,
        ),
        make_item(
            now,
            item_id=t["zero_stock"],
            product="SC",
            sku="ACME-SC-0008",
            status="paused",
            sub_status=["paused_by_seller"],
            quantity=0,
            sold_quantity=12,
            **a,
        ),
        make_item(now, item_id=t["ambiguous_sku_classic"], product="PB", sku=t["ambiguous_sku"], **a),
        make_item(
            now,
            item_id=t["ambiguous_sku_premium"],
            product="PB",
            sku=t["ambiguous_sku"],
            listing_type_id="gold_pro",
            **a,
        ),
        make_item(
            now,
            item_id=t["custom_field_only"],
            product="CB",
            seller_custom_field=t["custom_field_only_sku"],
            **a,
        ),
        make_item(now, item_id=t["leading_zeros"], product="CB", sku=t["leading_zeros_sku"], **a),
        make_item(now, item_id=t["ean"], product="SC", sku=t["ean_sku"], **a),
        make_item(now, item_id=t["spaced"], product="RL", sku=t["spaced_sku"], **a),
        make_item(
            now,
            item_id=t["full_item"],
            product="PB",
            sku="ACME-PB-0005-FULL",
            logistic_type="fulfillment",
            inventory_id=t["full_inventory_id"],
            quantity=320,
            **a,
        ),
        make_item(
            now,
            item_id=t["catalog_parent"],
            product="SW",
            sku="ACME-SW-0004-BR",
            catalog_product_id="MLB52753326",
            tags=["catalog_listing_eligible"],
            **a,
        ),
        make_item(
            now,
            item_id=t["catalog_listing"],
            product="SW",
            sku="ACME-SW-0004-BR",
            catalog_listing=True,
            catalog_product_id="MLB52753326",
            item_relations=[{"id": t["catalog_parent"], "variation_id": None, "stock_relation": 1}],
            **a,
        ),
        make_item(
            now, item_id=t["order_pending_item"], product="PB", sku="ACME-PB-0016", sold_quantity=4, **a
        ),
        make_item(
            now, item_id=t["order_handling_item"], product="PB", sku="ACME-PB-0016-BR", sold_quantity=2, **a
        ),
        make_item(
            now, item_id=t["order_ready_to_ship_item"], product="CS", sku="ACME-CS-0017", sold_quantity=6, **a
        ),
        make_item(
            now,
            item_id=t["order_shipped_only_item"],
            product="CS",
            sku="ACME-CS-0017-AR",
            sold_quantity=2,
            **a,
        ),
        make_item(now, item_id=t["paused_ad_item"], product="LED", sku="ACME-LED-0018", **a),
        make_item(now, item_id=t["questions_item"], product="DR", sku="ACME-DR-0019", **a),
        make_item(
            now,
            item_id=t["user_product_item"],
            product="MS",
            sku="ACME-MS-0020",
            family_name="Mouse ACME",
            user_product_id=t["user_product_id"],
            tags=["user_product_listing"],
            **a,
        ),
        make_item(
            now,
            item_id=t["user_product_sibling"],
            product="MS",
            sku="ACME-MS-0020",
            family_name="Mouse ACME",
            user_product_id=t["user_product_id"],
            listing_type_id="gold_pro",
            tags=["user_product_listing"],
            **a,
        ),
    ]
    return items


def _seller_b_items(now: float) -> list[JSON]:
    b: dict[str, Any] = {"seller_id": SELLER_B}
    return [
        make_item(now, item_id=TRICKY["seller_b_item"], product="TY", sku="BTECH-TY-77", **b),
        make_item(now, item_id=TRICKY["seller_b_lookalike"], product="BT", sku="BTECH-BT-01", **b),
        # Seller B uses seller A's SKU too: a SKU search is per seller, so A never sees this one.
        make_item(now, item_id=TRICKY["seller_b_same_sku"], product="BT", sku="ACME-BT-0001", **b),
    ]


def generate_items(n: int, seller: int, site: str, *, start: int = 0, now: float = 0.0) -> list[JSON]:
    """``n`` extra active items for load tests, each with a unique SELLER_SKU.

    ``start`` offsets the numbering so several calls (one per site) never collide.
    """
    codes = list(PRODUCTS)
    out: list[JSON] = []
    for i in range(start, start + n):
        code = codes[i % len(codes)]
        out.append(
            make_item(
                now,
                item_id=f"{site}{_BASE[site] + _GENERATED_BASE + i}",
                seller_id=seller,
                product=code,
                sku=f"ACME-GEN-{seller}-{i:06d}",
                quantity=5 + i % 90,
                age_days=30 + i % 300,
            )
        )
    return out


def _users() -> dict[int, JSON]:
    def user(uid: int, nickname: str, site: str, first: str, last: str) -> JSON:
        return {
            "id": uid,
            "nickname": nickname,
            "registration_date": "2019-03-14T09:21:44.000-04:00",
            "first_name": first,
            "last_name": last,
            "country_id": SITES[site].country_id,
            "email": f"{nickname.lower()}@example.com",
            "user_type": "normal",
            "tags": ["normal", "user_product_seller", "messages_as_seller"],
            "site_id": site,
            "permalink": f"http://perfil.mercadolibre.com.mx/{nickname}",
            "seller_reputation": {"level_id": "5_green", "power_seller_status": "gold"},
            "status": {"site_status": "active"},
        }

    a = user(SELLER_A, "ACME_CN", "MLM", "Shenzhen Acme", "Trading Co")
    a["sites"] = list(SITES)
    b = user(SELLER_B, "BTECH_MX", "MLM", "Btech", "Mexico")
    b["sites"] = ["MLM", "MCO"]
    return {SELLER_A: a, SELLER_B: b}


def _order(oid: int, item: JSON, *, status: str, shipment_id: int, when: float, qty: int = 1) -> JSON:
    return {
        "id": oid,
        "status": status,
        "status_detail": None,
        "date_created": iso(when),
        "date_closed": iso(when + 60),
        "last_updated": iso(when + 3600),
        "order_items": [
            {
                "item": {
                    "id": item["id"],
                    "title": item["title"],
                    "category_id": item["category_id"],
                    "variation_id": None,
                    "seller_sku": next(
                        (a["value_name"] for a in item["attributes"] if a["id"] == "SELLER_SKU"), None
                    ),
                    "seller_custom_field": item["seller_custom_field"],
                    "variation_attributes": [],
                },
                "quantity": qty,
                "unit_price": item["price"],
                "full_unit_price": item["price"],
                "currency_id": item["currency_id"],
            }
        ],
        "total_amount": item["price"] * qty,
        "currency_id": item["currency_id"],
        "payments": [{"id": oid + 7, "status": "approved" if status == "paid" else "cancelled"}],
        "shipping": {"id": shipment_id},
        "pack_id": None,
        "tags": ["paid"] if status == "paid" else [],
        "buyer": {"id": 555000000 + oid % 1000, "nickname": f"COMPRADOR{oid % 1000}"},
        "seller": {"id": item["seller_id"]},
        "_item_ids": [item["id"]],
    }


def _shipment(sid: int, order: JSON, status: str, substatus: str | None, logistic: str, when: float) -> JSON:
    return {
        "id": sid,
        "status": status,
        "substatus": substatus,
        "order_id": order["id"],
        "mode": "me2",
        "logistic_type": logistic,
        "date_created": iso(when),
        "last_updated": iso(when + 1800),
        "tracking_number": f"MEL{sid}MX" if status in ("shipped", "delivered") else None,
        "sender_id": order["seller"]["id"],
        "receiver_id": order["buyer"]["id"],
    }


def _orders(data: SeedData, now: float) -> None:
    t = TRICKY
    plan = [  # (item, order status, shipment status, substatus, days ago)
        (t["order_pending_item"], "paid", "pending", "buffered", 0.2),
        (t["order_handling_item"], "paid", "handling", "waiting_for_label_generation", 0.5),
        (t["order_ready_to_ship_item"], "paid", "ready_to_ship", "ready_to_print", 1.0),
        (t["order_ready_to_ship_item"], "paid", "ready_to_ship", "printed", 1.5),
        (t["order_shipped_only_item"], "paid", "shipped", "out_for_delivery", 3.0),
        (t["order_shipped_only_item"], "paid", "delivered", None, 12.0),
        (t["active_mlm"], "paid", "delivered", None, 20.0),
        (t["active_mlb"], "cancelled", "cancelled", None, 2.0),  # hidden from the seller's search
        (t["full_item"], "paid", "ready_to_ship", "in_hub", 0.3),
    ]
    for n, (iid, status, ship_status, sub, days) in enumerate(plan):
        item = data.items[iid]
        oid, sid = 2000009000000100 + n, 44123400100 + n
        when = now - days * DAY
        order = _order(oid, item, status=status, shipment_id=sid, when=when)
        data.orders.append(order)
        logistic = str(item["shipping"]["logistic_type"])
        data.shipments[sid] = _shipment(sid, order, ship_status, sub, logistic, when)


def _questions(data: SeedData, now: float) -> None:
    t = TRICKY
    rows = [
        (t["questions_item"], "UNANSWERED", "¿Tiene garantía? ¿Incluye batería extra?", 0.5),
        (t["questions_item"], "UNANSWERED", "¿Hacen envío a Monterrey antes del viernes?", 0.2),
        (t["questions_item"], "ANSWERED", "¿Es original?", 8.0),
        (t["order_handling_item"], "UNANSWERED", "Vocês emitem nota fiscal?", 1.0),
    ]
    for n, (iid, status, text, days) in enumerate(rows):
        data.questions.append(
            {
                "id": 13000000100 + n,
                "item_id": iid,
                "seller_id": data.items[iid]["seller_id"],
                "status": status,
                "text": text,
                "date_created": iso(now - days * DAY),
                "answer": {"text": "Sí, es original.", "status": "ACTIVE"} if status == "ANSWERED" else None,
                "from": {"id": 777000000 + n},
                "deleted_from_listing": False,
                "hold": False,
            }
        )


def _ads(data: SeedData) -> None:
    data.advertisers[SELLER_A] = [
        {
            "advertiser_id": 90001 + n,
            "site_id": site,
            "advertiser_name": "ACME_CN",
            "account_name": f"ACME_CN {site}",
        }
        for n, site in enumerate(("MLM", "MLB", "MLA"))
    ]
    t = TRICKY
    groups = [
        ("AG1001", "MLM", 90001, "active", 31001, [t["active_mlm"]], "ITEM"),
        ("AG1002", "MLM", 90001, "active", 31001, [t["paused_by_seller"]], "ITEM"),
        ("AG1003", "MLB", 90002, "paused", 31002, [t["paused_ad_item"]], "ITEM"),
        ("AG1004", "MLB", 90002, "active", 31002, [t["catalog_parent"], t["catalog_listing"]], "CATALOG"),
        ("AG1005", "MLM", 90001, "active", 31003, [t["multi_variation"]], "ITEM"),
        (
            "AG1006",
            "MLB",
            90002,
            "active",
            31002,
            [t["user_product_item"], t["user_product_sibling"]],
            "FAMILY",
        ),
        ("AG1007", "MLA", 90003, "active", 31004, [t["active_mla"]], "ITEM"),
    ]
    for gid, site, adv, status, campaign, items, grouping in groups:
        data.ad_groups[gid] = {
            "id": gid,
            "status": status,
            "campaign_id": campaign,
            "item_ids": items,
            "grouping_type": grouping,
            "site_id": site,
            "advertiser_id": adv,
        }


def build(now: float, extra_items: int = 0) -> SeedData:
    """The whole seeded world at time ``now`` (plus ``extra_items`` generated ones for seller A)."""
    data = SeedData(users=_users())
    for item in _seller_a_items(now) + _seller_b_items(now):
        data.items[item["id"]] = item
    sites = list(SITES)
    for k, site in enumerate(sites):
        share = extra_items // len(sites) + (1 if k < extra_items % len(sites) else 0)
        for item in generate_items(share, SELLER_A, site, start=k * 1_000_000, now=now):
            data.items[item["id"]] = item
    _orders(data, now)
    _questions(data, now)
    _ads(data)
    return data
