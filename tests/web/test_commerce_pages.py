"""The store's workspace pages over HTTP: products with bulk edit, a product's prices, stock and
publication, inventory with its low-stock view; who may see and change what; and that a
tampered form touches nothing of another store."""

from __future__ import annotations

import re
import uuid
from contextlib import aclosing
from dataclasses import dataclass
from decimal import Decimal

import httpx
from fastapi import FastAPI

from bizosaas.commerce.schemas import (
    CategoryCreate,
    ChannelCreate,
    PriceSet,
    ProductCreate,
    ProductTypeCreate,
    VariantCreate,
    WarehouseCreate,
)
from bizosaas.commerce.service import catalog, channels, inventory, listing
from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from tests.web.pages import Person, invited_member, post_form, sign_in, tenant_admin

ERROR_FLASH = "alert-error"


@dataclass
class Catalogue:
    channel: uuid.UUID
    warehouse: uuid.UUID
    shoes: uuid.UUID
    products: dict[str, uuid.UUID]
    variants: dict[str, uuid.UUID]


async def catalogue(database: Database, person: Person) -> Catalogue:
    """A channel, a warehouse, a category and three products with one variant each: a hat
    (stock 2, threshold 3: low), a scarf (stock 10) and gloves (stock 0: sold out)."""
    assert person.tenant_id is not None
    scope = trusted_scope(person.tenant_id)
    products: dict[str, uuid.UUID] = {}
    variants: dict[str, uuid.UUID] = {}
    async with database.unit_of_work() as session:
        kind = await catalog.create_product_type(
            session, scope=scope, data=ProductTypeCreate(name="Accessory")
        )
        channel = await channels.create_channel(
            session, scope=scope, data=ChannelCreate(name="Web", slug="web", currency="EUR")
        )
        warehouse = await inventory.create_warehouse(
            session, scope=scope, data=WarehouseCreate(name="Depot", code="depot")
        )
        shoes = await catalog.create_category(
            session, scope=scope, data=CategoryCreate(name="Shoes", slug="shoes")
        )
        for name, quantity in (("Hat", 2), ("Scarf", 10), ("Gloves", 0)):
            product = await catalog.create_product(
                session,
                scope=scope,
                data=ProductCreate(
                    product_type_id=kind.id,
                    name=name,
                    slug=name.lower(),
                    variants=[VariantCreate(sku=f"{name.upper()}-1", low_stock_threshold=3)],
                ),
            )
            read = await listing.read_product(session, scope=scope, product_id=product.id)
            variant = read.variants[0].id
            await channels.set_price(
                session,
                scope=scope,
                variant_id=variant,
                channel_id=channel.id,
                data=PriceSet(amount=Decimal("19.5")),
            )
            await inventory.set_stock(
                session,
                scope=scope,
                variant_id=variant,
                warehouse_id=warehouse.id,
                quantity=quantity,
            )
            products[name] = product.id
            variants[name] = variant
    return Catalogue(channel.id, warehouse.id, shoes.id, products, variants)


async def product_state(
    database: Database, person: Person, product: uuid.UUID
) -> dict[str, object]:
    assert person.tenant_id is not None
    scope = trusted_scope(person.tenant_id)
    async with database.unit_of_work(read_only=True) as session:
        read = await listing.read_product(session, scope=scope, product_id=product)
        stock = await inventory.stock_of_variant(
            session, scope=scope, variant_id=read.variants[0].id
        )
    return {
        "name": read.name,
        "category": read.category_id,
        "published": [p.channel_id for p in read.publications if p.is_published],
        "price": str(read.variants[0].prices[0].amount),
        "stock": stock[0].quantity,
    }


def rows_of(html: str) -> list[str]:
    return re.findall(r'<a href="/app/commerce/products/[0-9a-f-]+">([^<]+)</a>', html)


async def test_products_page_lists_searches_and_bulk_publishes(
    client: httpx.AsyncClient, database: Database, identity_context: IdentityContext, unique: str
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    shop = await catalogue(database, owner)
    await sign_in(client, owner)
    page = await client.get("/app/commerce/products")
    assert page.status_code == 200
    assert rows_of(page.text) == ["Gloves", "Hat", "Scarf"]
    assert "sold out" in page.text and "19.50" in page.text
    assert rows_of((await client.get("/app/commerce/products?q=sca")).text) == ["Scarf"]

    published = await post_form(
        client,
        "/app/commerce/products",
        "/app/commerce/products/bulk",
        {
            "action": "publish",
            "channel_id": str(shop.channel),
            "product": str(shop.products["Hat"]),
        },
    )
    assert published.status_code == 303
    # Several ticked boxes arrive as one repeated field.
    page = await client.get("/app/commerce/products")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    moved = await client.post(
        "/app/commerce/products/bulk",
        data={
            "csrf_token": token.group(1),
            "action": "category",
            "category_id": str(shop.shoes),
            "product": [str(shop.products["Scarf"]), str(shop.products["Gloves"])],
        },
    )
    assert moved.status_code == 303
    assert "2 products changed." in (await client.get(moved.headers["location"])).text
    hat = await product_state(database, owner, shop.products["Hat"])
    scarf = await product_state(database, owner, shop.products["Scarf"])
    gloves = await product_state(database, owner, shop.products["Gloves"])
    assert hat["published"] == [shop.channel] and hat["category"] is None
    assert scarf["category"] == gloves["category"] == shop.shoes
    assert scarf["published"] == []


async def test_bulk_edit_is_all_or_nothing_and_never_reaches_another_store(
    client: httpx.AsyncClient, database: Database, identity_context: IdentityContext, unique: str
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    rival = await tenant_admin(database, identity_context, unique, name="Rival")
    shop = await catalogue(database, owner)
    theirs = await catalogue(database, rival)
    await sign_in(client, owner)
    page = await client.get("/app/commerce/products")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    refused = await client.post(
        "/app/commerce/products/bulk",
        data={
            "csrf_token": token.group(1),
            "action": "publish",
            "channel_id": str(shop.channel),
            "product": [str(shop.products["Hat"]), str(theirs.products["Hat"])],
        },
    )
    assert refused.status_code == 303
    assert ERROR_FLASH in (await client.get(refused.headers["location"])).text
    assert (await product_state(database, owner, shop.products["Hat"]))["published"] == []
    assert (await product_state(database, rival, theirs.products["Hat"]))["published"] == []
    # Another store's product page is a 404, and its forms change nothing.
    assert (await client.get(f"/app/commerce/products/{theirs.products['Hat']}")).status_code == 404
    stock = await post_form(
        client,
        "/app/commerce/inventory",
        f"/app/commerce/variants/{theirs.variants['Scarf']}/stock",
        {"warehouse_id": str(theirs.warehouse), "quantity": "0"},
    )
    assert stock.status_code == 303
    assert (await product_state(database, rival, theirs.products["Scarf"]))["stock"] == 10


async def test_product_page_sets_price_stock_publication_and_details(
    client: httpx.AsyncClient, database: Database, identity_context: IdentityContext, unique: str
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    shop = await catalogue(database, owner)
    await sign_in(client, owner)
    hat, variant = shop.products["Hat"], shop.variants["Hat"]
    here = f"/app/commerce/products/{hat}"
    assert (await client.get(here)).status_code == 200
    for action, data in (
        (
            f"/app/commerce/variants/{variant}/price",
            {
                "product_id": str(hat),
                "channel_id": str(shop.channel),
                "amount": "24.995",
                "is_available": "1",
            },
        ),
        (
            f"/app/commerce/variants/{variant}/stock",
            {"warehouse_id": str(shop.warehouse), "quantity": "7", "back": here},
        ),
        (f"{here}/publication", {"channel_id": str(shop.channel), "is_published": "1"}),
        (
            here,
            {
                "name": "Sun hat",
                "category_id": str(shop.shoes),
                "description_html": "<p>Wide<script>x()</script></p>",
            },
        ),
    ):
        response = await post_form(client, here, action, data)
        assert response.status_code == 303, (action, response.text)
        assert response.headers["location"] == here
    state = await product_state(database, owner, hat)
    assert state == {
        "name": "Sun hat",
        "category": shop.shoes,
        "published": [shop.channel],
        "price": "25.00",
        "stock": 7,
    }
    page = await client.get(here)
    assert "Sun hat" in page.text and "<script>x()" not in page.text
    # Bad input is refused with a message and changes nothing.
    for action, data in (
        (
            f"/app/commerce/variants/{variant}/price",
            {"product_id": str(hat), "channel_id": str(shop.channel), "amount": "-3"},
        ),
        (
            f"/app/commerce/variants/{variant}/stock",
            {"warehouse_id": str(shop.warehouse), "quantity": "many", "back": here},
        ),
    ):
        response = await post_form(client, here, action, data)
        assert response.status_code == 303
        shown = (await client.get(response.headers["location"])).text
        assert ERROR_FLASH in shown
    assert await product_state(database, owner, hat) == state


async def test_inventory_page_shows_low_and_sold_out(
    client: httpx.AsyncClient, database: Database, identity_context: IdentityContext, unique: str
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await catalogue(database, owner)
    await sign_in(client, owner)
    everything = await client.get("/app/commerce/inventory")
    assert re.findall(r"<code>([A-Z]+-1)</code>", everything.text) == [
        "GLOVES-1",
        "HAT-1",
        "SCARF-1",
    ]
    low = await client.get("/app/commerce/inventory?low=true")
    assert re.findall(r"<code>([A-Z]+-1)</code>", low.text) == ["GLOVES-1", "HAT-1"]


async def test_staff_read_but_do_not_change_and_clients_see_nothing(
    app: FastAPI, database: Database, identity_context: IdentityContext, unique: str
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    shop = await catalogue(database, owner)
    _, staff = await invited_member(app, database, owner, "staff")
    async with aclosing(staff):
        page = await staff.get("/app/commerce/products")
        assert page.status_code == 200 and "/app/commerce/products/bulk" in page.text
        assert 'name="action"' not in page.text, "no bulk actions without write permission"
        refused = await post_form(
            staff,
            "/app/commerce/products",
            "/app/commerce/products/bulk",
            {
                "action": "publish",
                "channel_id": str(shop.channel),
                "product": str(shop.products["Hat"]),
            },
        )
        assert refused.status_code == 403
    _, client_member = await invited_member(app, database, owner, "client")
    async with aclosing(client_member):
        for path in (
            "/app/commerce/products",
            "/app/commerce/inventory",
            f"/app/commerce/products/{shop.products['Hat']}",
        ):
            assert (await client_member.get(path)).status_code == 403, path
    assert (await product_state(database, owner, shop.products["Hat"]))["published"] == []
