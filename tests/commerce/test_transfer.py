"""CSV import and export through the staff API: dry runs that report every row and change
nothing, imports that upsert (a second run adds nothing), files refused whole, and an export
that imports back to the same catalogue."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.commerce.conftest import Store, clothing_type

HEADER = (
    "product_slug,product_name,product_type,category,collections,description_html,sku,"
    "variant_name,weight_grams,track_inventory,attribute:size,attribute:organic,"
    "attribute:weight_oz,price:web,stock:main,published:web"
)
GOOD = f"""{HEADER}
linen-shirt,Linen shirt,Clothing,clothing/shirts,summer|sale,"<p>Cool, <b>light</b></p>",LS-S,Small,180,true,S,true,4.5,29.90,5,true
linen-shirt,,,,,,LS-M,Medium,190,true,M,true,4.5,29.90,0,
wool-hat,Wool hat,Clothing,clothing/hats,,<p>Warm</p>,WH-1,,,false,,false,,12,,false
"""


async def setup_store(store: Store) -> dict[str, Any]:
    product_type = await clothing_type(store)
    channel = await store.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": "EUR"}
    )
    warehouse = await store.ok("POST", "/warehouses", 201, json={"name": "Main", "code": "main"})
    return {"type": product_type, "channel": channel, "warehouse": warehouse}


async def upload(store: Store, text: str, *, status: int = 200, **form: str) -> Any:
    return await store.ok(
        "POST",
        "/imports",
        status,
        files={"file": ("products.csv", text.encode(), "text/csv")},
        data=form,
    )


async def export(store: Store) -> str:
    response = await store.call("GET", "/exports/products.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


async def all_products(store: Store) -> list[dict[str, Any]]:
    page = await store.ok("GET", "/products?limit=200&sort=name")
    assert page["next_cursor"] is None
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_dry_run_reports_every_rows_problems_and_changes_nothing(shop: Store) -> None:
    await setup_store(shop)
    bad = f"""{HEADER}
linen-shirt,Linen shirt,Clothing,,,,LS-S,,,true,XL,true,4.5,29.90,5,true
Bad Slug,Thing,Clothing,,,,TH-1,,,true,S,,,,,
hat,Hat,Gadgets,,,,HT-1,,,maybe,S,,,-3,x,
hat,,,,,,LS-S,,-1,,,,,,,
"""
    report = await upload(shop, bad, dry_run="true")
    assert report["dry_run"] is True
    problems = {(p["row"], p["column"]) for p in report["errors"]}
    assert {
        (2, "attribute:size"),  # XL is not a choice
        (3, "product_slug"),
        (4, "product_type"),  # no such type
        (4, "track_inventory"),
        (4, "price:web"),
        (4, "stock:main"),
        (5, "weight_grams"),
    } <= problems, report["errors"]
    assert await all_products(shop) == []
    assert await shop.ok("GET", "/categories") == []

    # The same file for real is refused whole, with the same problems.
    refused = await shop.problem(
        "POST",
        "/imports",
        409,
        "commerce.import_invalid",
        files={"file": ("products.csv", bad.encode(), "text/csv")},
    )
    assert {(p["row"], p["column"]) for p in refused["errors"]} == problems
    assert await all_products(shop) == []


async def test_header_problems_are_reported_before_any_row(shop: Store) -> None:
    await setup_store(shop)
    report = await upload(
        shop, "product_slug,colour_name,price:shop,stock:other\nx,y,1,2\n", dry_run="true"
    )
    assert {(p["row"], p["column"]) for p in report["errors"]} == {
        (1, "colour_name"),
        (1, "price:shop"),
        (1, "stock:other"),
        (1, "sku"),
    }
    empty = await upload(shop, "", dry_run="true")
    assert empty["errors"][0]["row"] == 1


async def test_import_creates_then_a_second_run_updates_without_duplicates(shop: Store) -> None:
    ids = await setup_store(shop)
    dry = await upload(shop, GOOD, dry_run="true")
    assert dry["errors"] == []
    assert (dry["products_created"], dry["variants_created"], dry["categories_created"]) == (
        2,
        3,
        3,
    )
    assert await all_products(shop) == []

    report = await upload(shop, GOOD)
    assert report["products_created"] == 2 and report["variants_created"] == 3
    products = {p["slug"]: p for p in await all_products(shop)}
    shirt = products["linen-shirt"]
    assert shirt["description_html"] == "<p>Cool, <b>light</b></p>"
    assert [v["sku"] for v in shirt["variants"]] == ["LS-S", "LS-M"]
    small = shirt["variants"][0]
    assert small["attributes"] == {"size": "S", "organic": True, "weight_oz": "4.5"}
    assert small["weight_grams"] == 180
    assert small["prices"][0]["amount"] == "29.90"
    assert shirt["publications"][0]["is_published"] is True
    stock = await shop.ok("GET", f"/variants/{small['id']}/stock")
    assert [(s["warehouse_id"], s["quantity"]) for s in stock] == [(ids["warehouse"]["id"], 5)]
    assert products["wool-hat"]["variants"][0]["track_inventory"] is False
    categories = {c["slug"]: c for c in await shop.ok("GET", "/categories")}
    assert categories["shirts"]["parent_id"] == categories["clothing"]["id"]
    assert {c["slug"] for c in await shop.ok("GET", "/collections")} == {"summer", "sale"}

    again = await upload(shop, GOOD.replace("29.90", "31.00"))
    assert (again["products_created"], again["products_updated"]) == (0, 2)
    assert (again["variants_created"], again["variants_updated"]) == (0, 3)
    products_after = await all_products(shop)
    assert len(products_after) == 2
    assert sum(len(p["variants"]) for p in products_after) == 3
    shirt = next(p for p in products_after if p["slug"] == "linen-shirt")
    assert shirt["variants"][0]["prices"][0]["amount"] == "31.00"
    assert len(await shop.ok("GET", "/categories")) == 3


async def test_a_sku_of_another_product_or_twice_in_the_file_is_refused(shop: Store) -> None:
    await setup_store(shop)
    await upload(shop, GOOD)
    clash = f"{HEADER}\nnew-thing,New thing,Clothing,,,,WH-1,,,,,,,,,\n"
    body = await shop.problem(
        "POST",
        "/imports",
        409,
        "commerce.import_invalid",
        files={"file": ("p.csv", clash.encode(), "text/csv")},
    )
    assert body["errors"] == [
        {"row": 2, "column": "sku", "message": "the SKU belongs to another product"}
    ]
    twice = f"{HEADER}\nnew-a,A,Clothing,,,,NEW-1,,,,,,,,,\nnew-b,B,Clothing,,,,NEW-1,,,,,,,,,\n"
    report = await upload(shop, twice, dry_run="true")
    assert report["errors"] == [{"row": 3, "column": "sku", "message": "the SKU is also on row 2"}]
    assert "new-thing" not in {p["slug"] for p in await all_products(shop)}


async def test_export_imports_back_to_the_same_catalogue(shop: Store, rival: Store) -> None:
    await setup_store(shop)
    await upload(shop, GOOD)
    exported = await export(shop)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["sku"] for row in rows] == ["LS-S", "LS-M", "WH-1"]
    assert rows[0]["category"] == "clothing/shirts"
    assert rows[1]["description_html"] == "<p>Cool, <b>light</b></p>"

    # Into the same store: nothing new, nothing different.
    again = await upload(shop, exported)
    assert (again["products_created"], again["variants_created"]) == (0, 0)
    assert await export(shop) == exported

    # Into another store with the same types, channel and warehouse: the same catalogue.
    await setup_store(rival)
    await upload(rival, exported)
    assert await export(rival) == exported
    theirs = await all_products(rival)
    ours = await all_products(shop)
    assert [p["slug"] for p in theirs] == [p["slug"] for p in ours]
    assert {p["id"] for p in theirs}.isdisjoint({p["id"] for p in ours})


async def test_publish_in_a_channel_and_isolation(shop: Store, rival: Store) -> None:
    await setup_store(shop)
    plain = "product_slug,product_name,product_type,sku\nmug,Mug,Clothing,MUG-1\n"
    report = await upload(shop, plain, channel="web")
    assert report["products_created"] == 1
    (mug,) = await all_products(shop)
    assert mug["publications"][0]["is_published"] is True
    unknown = await upload(shop, plain, dry_run="true", channel="nowhere")
    assert unknown["errors"][0]["message"].startswith("no channel")

    # The rival store sees none of it, in its export or its import.
    await setup_store(rival)
    rival_export = await export(rival)
    assert rival_export.count("\n") == 1  # the header only
    assert (await upload(rival, plain, dry_run="true"))["products_created"] == 1


async def test_import_needs_write_permission_and_refuses_what_is_not_utf8(
    shop: Store,
) -> None:
    await setup_store(shop)
    body = await shop.problem(
        "POST",
        "/imports",
        409,
        "commerce.import_invalid",
        files={"file": ("p.csv", "product_slug,sku\nca,\xe9\n".encode("latin-1"), "text/csv")},
    )
    assert "UTF-8" in body["detail"]
