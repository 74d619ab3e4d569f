"""Real orders to pay: each placed through the storefront API, for exactly the amount a test
asks (one product at that price, no tax, free delivery), so a payment's changes land on an
order that exists, as they do in the platform."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from bizosaas.commerce.currencies import from_minor
from tests.commerce.conftest import API, Store
from tests.commerce.selling import ADDRESS


async def _channel(store: Store, currency: str) -> dict[str, Any]:
    slug = f"pay-{currency.lower()}"
    for channel in await store.ok("GET", "/channels"):
        if channel["slug"] == slug:
            return dict(channel)
    channel = await store.ok(
        "POST",
        "/channels",
        201,
        json={"name": f"Pay {currency}", "slug": slug, "currency": currency},
    )
    zone = await store.ok(
        "POST",
        "/shipping-zones",
        201,
        json={"channel_id": channel["id"], "name": "Everywhere", "countries": [ADDRESS["country"]]},
    )
    await store.ok(
        "POST", f"/shipping-zones/{zone['id']}/methods", 201, json={"name": "Free", "price": "0"}
    )
    return dict(channel)


async def _product_type(store: Store) -> str:
    for kind in await store.ok("GET", "/product-types"):
        if kind["name"] == "Payable goods":
            return str(kind["id"])
    created = await store.ok("POST", "/product-types", 201, json={"name": "Payable goods"})
    return str(created["id"])


async def order_totalling(store: Store, amount_minor: int, currency: str = "EUR") -> uuid.UUID:
    """An order of the store whose total is `amount_minor` in `currency`."""
    channel = await _channel(store, currency)
    sku = f"PAY-{uuid.uuid4().hex[:10].upper()}"
    product = await store.ok(
        "POST",
        "/products",
        201,
        json={
            "product_type_id": await _product_type(store),
            "name": f"Goods {sku}",
            "slug": sku.lower(),
            "variants": [{"sku": sku, "track_inventory": False}],
        },
    )
    variant = product["variants"][0]["id"]
    price = str(from_minor(amount_minor, currency))
    await store.ok("PUT", f"/variants/{variant}/prices/{channel['id']}", json={"amount": price})
    await store.ok(
        "PUT",
        f"/products/{product['id']}/publications/{channel['id']}",
        json={"is_published": True},
    )
    slug = store.account.tenant_slug
    client = store.client
    created = await client.post(
        f"{API}/storefront/{slug}/checkouts",
        json={
            "channel": channel["slug"],
            "email": "buyer@example.com",
            "lines": [{"variant_id": variant, "quantity": 1}],
        },
    )
    assert created.status_code == 201, created.text
    cart = created.json()
    path = f"{API}/storefront/{slug}/checkouts/{cart['token']}"
    addressed = await client.patch(
        path, json={"billing_address": ADDRESS, "shipping_address": ADDRESS}
    )
    assert addressed.status_code == 200, addressed.text
    method = addressed.json()["shipping_options"][0]["id"]
    chosen = await client.patch(path, json={"shipping_method_id": method})
    assert chosen.status_code == 200, chosen.text
    placed = await client.post(f"{path}/complete", headers={"Idempotency-Key": sku})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert Decimal(order["totals"]["total"]) == Decimal(price), order["totals"]
    return uuid.UUID(order["id"])
