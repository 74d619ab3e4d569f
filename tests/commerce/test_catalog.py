"""The catalogue through the staff API: product types, categories, collections, products and
variants; validation errors as problem+json with stable codes, and nothing changed by them."""

from __future__ import annotations

import pytest

from tests.commerce.conftest import Store, clothing_type, product


async def test_product_with_variants_reads_back_as_created(shop: Store) -> None:
    kind = await clothing_type(shop)
    made = await shop.ok(
        "POST",
        "/products",
        201,
        json={
            "product_type_id": kind["id"],
            "name": "Linen shirt",
            "slug": "linen-shirt",
            "seo_title": "Linen shirt | Shop",
            "seo_description": "Cool in summer",
            "variants": [
                {
                    "sku": "LS-S",
                    "attributes": {"size": "S", "organic": True, "weight_oz": 4.50},
                    "weight_grams": 180,
                },
                {
                    "sku": "LS-M",
                    "attributes": {"size": "M", "colour": "sand"},
                    "track_inventory": False,
                },
            ],
        },
    )
    assert [v["sku"] for v in made["variants"]] == ["LS-S", "LS-M"]
    small, medium = made["variants"]
    assert small["attributes"] == {"size": "S", "organic": True, "weight_oz": "4.5"}
    assert small["weight_grams"] == 180 and small["track_inventory"] is True
    assert medium["track_inventory"] is False
    assert made["seo_title"] == "Linen shirt | Shop"
    assert await shop.ok("GET", f"/products/{made['id']}") == made


async def test_description_is_sanitised_on_input(shop: Store) -> None:
    kind = await clothing_type(shop)
    made = await product(
        shop,
        kind,
        "tee",
        skus=["TEE-M"],
        description_html='<p onclick="steal()">Soft <script>steal()</script><b>cotton</b>'
        '<a href="javascript:steal()">more</a></p>',
    )
    assert made["description_html"] == (
        '<p>Soft <b>cotton</b><a rel="noopener noreferrer">more</a></p>'
    )
    changed = await shop.ok(
        "PATCH",
        f"/products/{made['id']}",
        json={"description_html": "<img src=x onerror=alert(1)>"},
    )
    assert changed["description_html"] == '<img src="x">'


async def test_sku_is_unique_per_store_not_across_stores(shop: Store, rival: Store) -> None:
    kind = await clothing_type(shop)
    first = await product(shop, kind, "tee", skus=["TEE-M"])
    await shop.problem(
        "POST",
        "/products",
        409,
        "commerce.sku_taken",
        json={
            "product_type_id": kind["id"],
            "name": "Other",
            "slug": "other",
            "variants": [{"sku": "TEE-M"}],
        },
    )
    await shop.problem(
        "POST",
        f"/products/{first['id']}/variants",
        409,
        "commerce.sku_taken",
        json={"sku": "TEE-M"},
    )
    page = await shop.ok("GET", "/products")
    assert [p["slug"] for p in page["items"]] == ["tee"]  # the refused product was not created
    rival_kind = await clothing_type(rival)
    await product(rival, rival_kind, "tee", skus=["TEE-M"])  # another store may use the same SKU


async def test_slug_is_unique_per_store(shop: Store) -> None:
    kind = await clothing_type(shop)
    await product(shop, kind, "tee", skus=["A-1"])
    await shop.problem(
        "POST",
        "/products",
        409,
        "commerce.slug_taken",
        json={"product_type_id": kind["id"], "name": "Tee", "slug": "tee"},
    )


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({"size": "XXL"}, "size: choose one of S, M, L"),
        ({"shoe": "42"}, "shoe: the product type has no such attribute"),
        ({"organic": "yes"}, "organic: give true or false"),
        ({"weight_oz": "heavy"}, "weight_oz: give a number"),
        ({"colour": True}, "colour: give text"),
    ],
)
async def test_attribute_values_must_fit_the_product_type(
    shop: Store, attributes: dict[str, object], problem: str
) -> None:
    kind = await clothing_type(shop)
    body = await shop.problem(
        "POST",
        "/products",
        422,
        "commerce.invalid_attributes",
        json={
            "product_type_id": kind["id"],
            "name": "Tee",
            "slug": "tee",
            "variants": [{"sku": "TEE-1", "attributes": attributes}],
        },
    )
    assert body["errors"] == [problem]
    assert (await shop.ok("GET", "/products"))["items"] == []


@pytest.mark.parametrize(
    "definition",
    [
        {"size": {"name": "Size", "kind": "choice"}},
        {"size": {"name": "Size", "kind": "choice", "choices": []}},
        {"size": {"name": "Size", "kind": "choice", "choices": ["S", "S"]}},
        {"Size": {"name": "Size", "kind": "text"}},
        {"size": {"name": "Size", "kind": "colour"}},
        {"size": {"name": "", "kind": "text"}},
    ],
)
async def test_attribute_definitions_are_validated(
    shop: Store, definition: dict[str, object]
) -> None:
    await shop.problem(
        "POST",
        "/product-types",
        422,
        "request.validation_failed",
        json={"name": "T", "attributes": definition},
    )
    assert await shop.ok("GET", "/product-types") == []


async def test_product_type_in_use_cannot_be_deleted(shop: Store) -> None:
    kind = await clothing_type(shop)
    made = await product(shop, kind, "tee", skus=["TEE-1"])
    await shop.problem("DELETE", f"/product-types/{kind['id']}", 409, "commerce.in_use")
    await shop.ok("DELETE", f"/products/{made['id']}", 204)
    await shop.ok("DELETE", f"/product-types/{kind['id']}", 204)
    await shop.problem("GET", f"/product-types/{kind['id']}", 404, "commerce.not_found")


async def test_categories_form_a_tree_without_cycles(shop: Store) -> None:
    clothes = await shop.ok("POST", "/categories", 201, json={"name": "Clothes", "slug": "clothes"})
    shirts = await shop.ok(
        "POST",
        "/categories",
        201,
        json={"name": "Shirts", "slug": "shirts", "parent_id": clothes["id"]},
    )
    linen = await shop.ok(
        "POST",
        "/categories",
        201,
        json={"name": "Linen", "slug": "linen", "parent_id": shirts["id"]},
    )
    await shop.problem(
        "PATCH",
        f"/categories/{clothes['id']}",
        409,
        "commerce.category_cycle",
        json={"parent_id": linen["id"]},
    )
    await shop.problem(
        "PATCH",
        f"/categories/{clothes['id']}",
        409,
        "commerce.category_cycle",
        json={"parent_id": clothes["id"]},
    )
    assert (await shop.ok("GET", f"/categories/{clothes['id']}"))["parent_id"] is None
    await shop.problem("DELETE", f"/categories/{shirts['id']}", 409, "commerce.in_use")
    moved = await shop.ok("PATCH", f"/categories/{linen['id']}", json={"parent_id": None})
    assert moved["parent_id"] is None
    await shop.ok("DELETE", f"/categories/{shirts['id']}", 204)
    await shop.problem(
        "POST", "/categories", 409, "commerce.slug_taken", json={"name": "Again", "slug": "linen"}
    )


async def test_collections_hold_products(shop: Store) -> None:
    kind = await clothing_type(shop)
    summer = await shop.ok(
        "POST",
        "/collections",
        201,
        json={"name": "Summer", "slug": "summer", "seo_title": "Summer"},
    )
    made = await product(shop, kind, "tee", skus=["TEE-1"], collection_ids=[summer["id"]])
    assert made["collection_ids"] == [summer["id"]]
    changed = await shop.ok("PATCH", f"/products/{made['id']}", json={"collection_ids": []})
    assert changed["collection_ids"] == []
    await shop.ok("DELETE", f"/collections/{summer['id']}", 204)
    assert (await shop.ok("GET", f"/products/{made['id']}"))["collection_ids"] == []


async def test_variants_change_and_go(shop: Store) -> None:
    kind = await clothing_type(shop)
    made = await product(shop, kind, "tee", skus=["TEE-1"])
    extra = await shop.ok(
        "POST",
        f"/products/{made['id']}/variants",
        201,
        json={"sku": "TEE-2", "attributes": {"size": "L"}},
    )
    changed = await shop.ok(
        "PATCH",
        f"/variants/{extra['id']}",
        json={"sku": "TEE-XL", "low_stock_threshold": 3, "attributes": {"size": "S"}},
    )
    assert changed["sku"] == "TEE-XL" and changed["low_stock_threshold"] == 3
    assert changed["attributes"] == {"size": "S"}
    await shop.problem(
        "PATCH",
        f"/variants/{extra['id']}",
        422,
        "commerce.invalid_attributes",
        json={"attributes": {"size": "Q"}},
    )
    await shop.ok("DELETE", f"/variants/{extra['id']}", 204)
    assert [v["sku"] for v in (await shop.ok("GET", f"/products/{made['id']}"))["variants"]] == [
        "TEE-1"
    ]


async def test_unknown_references_answer_not_found(shop: Store) -> None:
    kind = await clothing_type(shop)
    missing = "00000000-0000-7000-8000-000000000001"
    for extra in ({"category_id": missing}, {"collection_ids": [missing]}):
        await shop.problem(
            "POST",
            "/products",
            404,
            "commerce.not_found",
            json={"product_type_id": kind["id"], "name": "T", "slug": "t", **extra},
        )
    await shop.problem(
        "POST",
        "/products",
        404,
        "commerce.not_found",
        json={"product_type_id": missing, "name": "T", "slug": "t"},
    )
