"""The seeded catalogue: every tricky case exists and looks real; generated items; independence."""

from __future__ import annotations

import ast
import pathlib
import re

import mltakedown.sandbox as sandbox_pkg
from mltakedown.sandbox import SandboxOptions, World, seed
from mltakedown.sandbox.seed import SAMPLE_ITEM_IDS, TRICKY

ITEM_ID = re.compile(r"^(MLM|MLB|MLA|MLC|MCO)\d{10}$")


def test_every_tricky_item_exists() -> None:
    world = World(SandboxOptions())
    ids = {k: v for k, v in TRICKY.items() if ITEM_ID.match(v)}
    assert len(ids) >= 35
    missing = [k for k, v in ids.items() if v not in world.items]
    assert missing == []
    b_items = {TRICKY["seller_b_item"], TRICKY["seller_b_lookalike"], TRICKY["seller_b_same_sku"]}
    for key, value in ids.items():
        expected = seed.SELLER_B if value in b_items else seed.SELLER_A
        assert world.items[value]["seller_id"] == expected, key
    # Seller B's look-alike shares seller A's digits.
    assert sorted(TRICKY["seller_b_lookalike"][3:]) == sorted(TRICKY["active_mlm"][3:])


def test_tricky_states() -> None:
    items = World(SandboxOptions()).items
    t = TRICKY
    assert items[t["deleted"]]["sub_status"] == ["deleted"]
    assert items[t["full_item"]]["shipping"]["logistic_type"] == "fulfillment"
    assert items[t["catalog_listing"]]["item_relations"][0]["id"] == t["catalog_parent"]
    assert items[t["user_product_item"]]["user_product_id"].startswith("MLBU")
    listing_types = {
        items[t[k]]["listing_type_id"] for k in ("ambiguous_sku_classic", "ambiguous_sku_premium")
    }
    assert listing_types == {"gold_special", "gold_pro"}
    assert items[t["custom_field_only"]]["seller_custom_field"] == t["custom_field_only_sku"]
    assert all(a["id"] != "SELLER_SKU" for a in items[t["custom_field_only"]]["attributes"])


def test_sample_items_span_sites_and_look_real() -> None:
    items = World(SandboxOptions()).items
    assert len(SAMPLE_ITEM_IDS) == 6
    assert {i[:3] for i in SAMPLE_ITEM_IDS} == {"MLM", "MLB", "MLA", "MLC", "MCO"}
    br = items[TRICKY["active_mlb"]]
    assert br["permalink"].startswith("https://produto.mercadolivre.com.br/MLB-4123400011-fone-de-ouvido")
    assert br["currency_id"] == "BRL" and br["title"].startswith("Fone De Ouvido")
    assert items[TRICKY["active_mla"]]["currency_id"] == "ARS"
    for item_id in SAMPLE_ITEM_IDS:
        assert items[item_id]["status"] == "active" and items[item_id]["seller_id"] == 1001


def test_generate_items_unique_skus() -> None:
    batch = seed.generate_items(300, 1001, "MLC")
    skus = [a["value_name"] for i in batch for a in i["attributes"] if a["id"] == "SELLER_SKU"]
    assert len(set(skus)) == len({i["id"] for i in batch}) == 300
    world = World(SandboxOptions(extra_items=101))
    generated = [i for i in world.items.values() if "GEN" in str(i["attributes"])]
    assert len(generated) == 101


def test_sandbox_does_not_import_the_client() -> None:
    root = pathlib.Path(sandbox_pkg.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("mltakedown.meli"), path
                assert not (node.level and (node.module or "").startswith("meli")), path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("mltakedown.meli") for a in node.names), path
