"""A store ready to sell, set up through the staff API: a EUR channel, a category, a product
with two variants priced and published, a warehouse with stock, a shipping zone with two
methods and German VAT on gross prices. And a guest's storefront session over it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.commerce.conftest import API, Store, clothing_type

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "street_1": "Hauptstraße 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


@dataclass
class Shop:
    store: Store
    channel: dict[str, Any]
    category: dict[str, Any]
    product: dict[str, Any]
    tee: dict[str, Any]
    """Variant TEE-M: 20.00 EUR, 300 g, 10 in stock."""
    mug: dict[str, Any]
    """Variant MUG: 9.99 EUR, 500 g, 10 in stock."""
    warehouse: dict[str, Any]
    standard: dict[str, Any]
    """Standard shipping, 4.90 EUR, free from 50.00 EUR of goods."""
    freight: dict[str, Any]
    """Freight, 30.00 EUR, for parcels of 5 kg or more."""

    @property
    def slug(self) -> str:
        return self.store.account.tenant_slug


async def ready_shop(store: Store, stock: int = 10) -> Shop:
    channel = await store.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": "EUR"}
    )
    category = await store.ok("POST", "/categories", 201, json={"name": "Tees", "slug": "tees"})
    kind = await clothing_type(store)
    product = await store.ok(
        "POST",
        "/products",
        201,
        json={
            "product_type_id": kind["id"],
            "category_id": category["id"],
            "name": "Plain tee",
            "slug": "plain-tee",
            "variants": [
                {"sku": "TEE-M", "name": "M", "weight_grams": 300, "attributes": {"size": "M"}},
                {"sku": "MUG", "name": "Mug", "weight_grams": 500, "attributes": {"size": "L"}},
            ],
        },
    )
    tee, mug = product["variants"]
    await store.ok(
        "PUT",
        f"/products/{product['id']}/publications/{channel['id']}",
        json={"is_published": True},
    )
    warehouse = await store.ok("POST", "/warehouses", 201, json={"name": "Main", "code": "main"})
    for variant, amount in ((tee, "20.00"), (mug, "9.99")):
        await store.ok(
            "PUT", f"/variants/{variant['id']}/prices/{channel['id']}", json={"amount": amount}
        )
        await store.ok(
            "PUT",
            f"/variants/{variant['id']}/stock/{warehouse['id']}",
            json={"quantity": stock},
        )
    zone = await store.ok(
        "POST",
        "/shipping-zones",
        201,
        json={"channel_id": channel["id"], "name": "DACH", "countries": ["DE", "AT", "CH"]},
    )
    standard = await store.ok(
        "POST",
        f"/shipping-zones/{zone['id']}/methods",
        201,
        json={"name": "Standard", "price": "4.90", "free_over": "50.00"},
    )
    freight = await store.ok(
        "POST",
        f"/shipping-zones/{zone['id']}/methods",
        201,
        json={"name": "Freight", "price": "30.00", "min_weight_grams": 5000},
    )
    await store.ok(
        "PUT",
        f"/channels/{channel['id']}/tax",
        json={"prices_include_tax": True, "default_rate": "19", "country_rates": {"AT": "20"}},
    )
    return Shop(store, channel, category, product, tee, mug, warehouse, standard, freight)


@dataclass
class Cart:
    """A storefront visitor's checkout (a guest unless `headers` carry a credential)."""

    client: httpx.AsyncClient
    slug: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{API}/storefront/{self.slug}/checkouts/{self.token}"

    async def call(self, method: str, suffix: str = "", **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"{self.path}{suffix}", headers=headers, **kwargs)

    async def ok(self, method: str, suffix: str = "", status: int = 200, **kwargs: Any) -> Any:
        response = await self.call(method, suffix, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    async def problem(self, method: str, suffix: str, status: int, code: str, **kwargs: Any) -> Any:
        response = await self.call(method, suffix, **kwargs)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == code, body
        return body

    async def complete(self, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        return await self.call("POST", "/complete", headers=headers)


async def open_cart(
    client: httpx.AsyncClient,
    slug: str,
    *,
    lines: list[dict[str, Any]] | None = None,
    email: str | None = "guest@example.com",
    headers: dict[str, str] | None = None,
) -> tuple[Cart, dict[str, Any]]:
    response = await client.post(
        f"{API}/storefront/{slug}/checkouts",
        json={"channel": "web", "email": email, "lines": lines or []},
        headers=headers or {},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Cart(client, slug, body["token"], headers or {}), body


async def ready_cart(
    client: httpx.AsyncClient, shop: Shop, *, quantity: int = 1, **kwargs: Any
) -> Cart:
    """A checkout of `quantity` tees, addressed to Berlin, with standard shipping."""
    cart, _ = await open_cart(
        client, shop.slug, lines=[{"variant_id": shop.tee["id"], "quantity": quantity}], **kwargs
    )
    await cart.ok(
        "PATCH",
        json={
            "billing_address": ADDRESS,
            "shipping_address": ADDRESS,
            "shipping_method_id": shop.standard["id"],
        },
    )
    return cart
