"""Tenant isolation for every commerce endpoint that names a row: another store's product,
variant, category, collection, product type, channel or warehouse answers 404
`commerce.not_found`, exactly as a row that does not exist, and stays unchanged. Listings show
only the caller's own rows."""

from __future__ import annotations

from typing import Any

from tests.commerce.conftest import Store, clothing_type, product


async def catalogue_of(store: Store) -> dict[str, Any]:
    kind = await clothing_type(store)
    category = await store.ok("POST", "/categories", 201, json={"name": "Tops", "slug": "tops"})
    collection = await store.ok("POST", "/collections", 201, json={"name": "New", "slug": "new"})
    made = await product(
        store,
        kind,
        "tee",
        skus=["TEE-1"],
        category_id=category["id"],
        collection_ids=[collection["id"]],
    )
    channel = await store.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": "EUR"}
    )
    warehouse = await store.ok("POST", "/warehouses", 201, json={"name": "Main", "code": "main"})
    variant = made["variants"][0]["id"]
    await store.ok("PUT", f"/variants/{variant}/prices/{channel['id']}", json={"amount": "9.99"})
    await store.ok("PUT", f"/variants/{variant}/stock/{warehouse['id']}", json={"quantity": 5})
    return {
        "type": kind["id"],
        "category": category["id"],
        "collection": collection["id"],
        "product": made["id"],
        "variant": variant,
        "channel": channel["id"],
        "warehouse": warehouse["id"],
    }


async def snapshot(store: Store, ids: dict[str, Any]) -> list[Any]:
    return [
        await store.ok("GET", f"/product-types/{ids['type']}"),
        await store.ok("GET", f"/categories/{ids['category']}"),
        await store.ok("GET", f"/collections/{ids['collection']}"),
        await store.ok("GET", f"/products/{ids['product']}"),
        await store.ok("GET", f"/channels/{ids['channel']}"),
        await store.ok("GET", f"/warehouses/{ids['warehouse']}"),
        await store.ok("GET", f"/variants/{ids['variant']}/stock"),
    ]


def requests_naming(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every endpoint that names a row, with a body that would be valid in its own store."""
    v, p, c, w = ids["variant"], ids["product"], ids["channel"], ids["warehouse"]
    return [
        ("GET", f"/product-types/{ids['type']}", None),
        ("PATCH", f"/product-types/{ids['type']}", {"name": "Stolen"}),
        ("DELETE", f"/product-types/{ids['type']}", None),
        ("GET", f"/categories/{ids['category']}", None),
        ("PATCH", f"/categories/{ids['category']}", {"name": "Stolen"}),
        ("DELETE", f"/categories/{ids['category']}", None),
        ("GET", f"/collections/{ids['collection']}", None),
        ("PATCH", f"/collections/{ids['collection']}", {"name": "Stolen"}),
        ("DELETE", f"/collections/{ids['collection']}", None),
        ("GET", f"/products/{p}", None),
        ("PATCH", f"/products/{p}", {"name": "Stolen"}),
        ("DELETE", f"/products/{p}", None),
        ("POST", f"/products/{p}/variants", {"sku": "STOLEN-1"}),
        ("PUT", f"/products/{p}/publications/{c}", {"is_published": True}),
        ("GET", f"/variants/{v}", None),
        ("PATCH", f"/variants/{v}", {"sku": "STOLEN-2"}),
        ("DELETE", f"/variants/{v}", None),
        ("PUT", f"/variants/{v}/prices/{c}", {"amount": "0.01"}),
        ("DELETE", f"/variants/{v}/prices/{c}", None),
        ("GET", f"/channels/{c}", None),
        ("PATCH", f"/channels/{c}", {"name": "Stolen"}),
        ("GET", f"/warehouses/{w}", None),
        ("PATCH", f"/warehouses/{w}", {"name": "Stolen"}),
        ("DELETE", f"/warehouses/{w}", None),
        ("GET", f"/variants/{v}/stock", None),
        ("PUT", f"/variants/{v}/stock/{w}", {"quantity": 0}),
        ("POST", f"/variants/{v}/allocate", {"quantity": 1}),
        ("POST", f"/variants/{v}/release", {"quantity": 1, "warehouse_id": w}),
    ]


async def test_another_stores_rows_answer_404_and_stay_unchanged(shop: Store, rival: Store) -> None:
    ids = await catalogue_of(shop)
    before = await snapshot(shop, ids)
    for method, path, body in requests_naming(ids):
        await rival.problem(method, path, 404, "commerce.not_found", json=body)
    assert await snapshot(shop, ids) == before


async def test_references_to_another_stores_rows_answer_404(shop: Store, rival: Store) -> None:
    """A row of one's own store pointing at another store's row: refused the same way."""
    theirs = await catalogue_of(shop)
    mine = await catalogue_of(rival)
    kind = mine["type"]
    crossing = [
        ("POST", "/products", {"product_type_id": theirs["type"], "name": "X", "slug": "x"}),
        (
            "POST",
            "/products",
            {"product_type_id": kind, "name": "X", "slug": "x", "category_id": theirs["category"]},
        ),
        (
            "POST",
            "/products",
            {
                "product_type_id": kind,
                "name": "X",
                "slug": "x",
                "collection_ids": [theirs["collection"]],
            },
        ),
        ("POST", "/categories", {"name": "X", "slug": "x", "parent_id": theirs["category"]}),
        ("PUT", f"/variants/{mine['variant']}/prices/{theirs['channel']}", {"amount": "1"}),
        ("PUT", f"/variants/{mine['variant']}/stock/{theirs['warehouse']}", {"quantity": 1}),
        (
            "PUT",
            f"/products/{mine['product']}/publications/{theirs['channel']}",
            {"is_published": True},
        ),
        ("GET", f"/products?category_id={theirs['category']}", None),
        ("GET", f"/products?collection_id={theirs['collection']}", None),
        ("GET", f"/products?channel_id={theirs['channel']}&price_min=1", None),
    ]
    for method, path, body in crossing:
        await rival.problem(method, path, 404, "commerce.not_found", json=body)


async def test_listings_show_only_the_callers_store(shop: Store, rival: Store) -> None:
    ids = await catalogue_of(shop)
    await catalogue_of(rival)
    for path, key in (
        ("/product-types", "type"),
        ("/categories", "category"),
        ("/collections", "collection"),
        ("/channels", "channel"),
        ("/warehouses", "warehouse"),
    ):
        listed = await shop.ok("GET", path)
        assert [row["id"] for row in listed] == [ids[key]], path
    page = await shop.ok("GET", "/products", params={"q": "tee"})
    assert [row["id"] for row in page["items"]] == [ids["product"]]
