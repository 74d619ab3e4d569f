"""Buying through the storefront's pages, as a browser does (forms, cookies, redirects): add to
cart, change the cart, a voucher, the checkout's details and delivery, placing the order once
however often the button is sent, and the confirmation. The staff API then finds the order."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.commerce.conftest import Store
from tests.commerce.selling import Shop, ready_shop

HTML = {"Accept": "text/html"}
SAME_SITE = {**HTML, "Origin": "http://testserver"}


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


class Visitor:
    def __init__(self, client: httpx.AsyncClient, shop: Shop) -> None:
        self.client = client
        self.base = f"/store/{shop.slug}"

    async def get(self, path: str, status: int = 200) -> str:
        response = await self.client.get(self.base + path, headers=HTML)
        assert response.status_code == status, (path, response.status_code, response.text[:400])
        return response.text

    async def post(
        self, path: str, data: dict[str, Any], *, page: str | None = None
    ) -> httpx.Response:
        """Post a form of `page` (its CSRF token), or the product page's add-to-cart form."""
        if page is not None:
            data = {"csrf_token": csrf(await self.get(page)), **data}
        return await self.client.post(self.base + path, data=data, headers=SAME_SITE)

    async def follow(self, response: httpx.Response) -> str:
        assert response.status_code == 303, response.text[:400]
        target = await self.client.get(response.headers["location"], headers=HTML)
        assert target.status_code == 200
        return target.text


def lines_of(cart_page: str) -> list[str]:
    return re.findall(
        r'<input id="q-[^"]+" name="quantity" type="number" min="0" max="10000" value="(\d+)"',
        cart_page,
    )


def total_of(page: str) -> str:
    found = re.search(r'data-testid="total">([^<]+)<', page)
    assert found
    return found.group(1)


async def test_a_guest_buys_through_the_pages(client: httpx.AsyncClient, shop: Store) -> None:
    ready = await ready_shop(shop)
    visitor = Visitor(client, ready)
    product = await visitor.get("/products/plain-tee")
    assert 'action="/store/' + ready.slug + '/cart/lines"' in product
    added = await visitor.post("/cart/lines", {"variant_id": ready.tee["id"], "quantity": "2"})
    cookie = added.headers["set-cookie"]
    assert (
        f"Path=/store/{ready.slug}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    )
    cart = await visitor.follow(added)
    assert "Added to your cart." in cart and lines_of(cart) == ["2"]
    assert total_of(cart) == "40.00 EUR"

    line_id = re.search(r'action="/store/[^/]+/cart/lines/([0-9a-f-]+)"', cart)
    assert line_id
    changed = await visitor.post(f"/cart/lines/{line_id.group(1)}", {"quantity": "3"}, page="/cart")
    cart = await visitor.follow(changed)
    assert lines_of(cart) == ["3"] and total_of(cart) == "60.00 EUR"

    # The checkout: a form with a missing field comes back with the input kept and a message.
    refused = await visitor.post(
        "/checkout",
        {
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "street_1": "Hauptstraße 1",
            "city": "",
            "country": "DE",
        },
        page="/checkout",
    )
    assert refused.status_code == 422
    assert 'value="Hauptstraße 1"' in refused.text and "Fill this in." in refused.text
    saved = await visitor.post(
        "/checkout",
        {
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "street_1": "Hauptstraße 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
        },
        page="/checkout",
    )
    checkout = await visitor.follow(saved)
    assert "Standard" in checkout and "Freight" not in checkout, "freight is for 5 kg and more"
    chose = await visitor.post(
        "/checkout/shipping", {"shipping_method_id": ready.standard["id"]}, page="/checkout"
    )
    checkout = await visitor.follow(chose)
    assert "Place order · 60.00 EUR" in checkout, "standard delivery is free from 50.00 EUR"

    # Placing the order twice (a double click) places it once.
    token = csrf(checkout)
    first = await client.post(
        f"{visitor.base}/checkout/place", data={"csrf_token": token}, headers=SAME_SITE
    )
    again = await client.post(
        f"{visitor.base}/checkout/place", data={"csrf_token": token}, headers=SAME_SITE
    )
    assert (
        first.headers["location"]
        == again.headers["location"]
        == f"{visitor.base}/checkout/complete"
    )
    done = await visitor.follow(again)
    number = re.search(r'data-testid="order-number">#(\d+)<', done)
    assert number and "ada@example.com" in done

    orders = await shop.ok("GET", "/orders")
    assert len(orders) == 1 and orders[0]["number"] == int(number.group(1))
    assert orders[0]["total"] == "60.00" and orders[0]["email"] == "ada@example.com"
    # Paid by bank transfer: a manual payment waits for the money.
    payments = await shop.ok("GET", f"/payments?order_id={orders[0]['id']}")
    assert [(p["provider"], p["status"], p["amount"]) for p in payments] == [
        ("manual", "pending", "60.00")
    ]
    stock = await shop.ok("GET", f"/variants/{ready.tee['id']}/stock")
    assert [(row["quantity"], row["allocated"]) for row in stock] == [(7, 3)]

    # The cart became the order: the next visit starts an empty cart.
    assert lines_of(await visitor.get("/cart")) == []


async def test_add_to_cart_from_another_site_is_refused(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop)
    path = f"/store/{ready.slug}/cart/lines"
    for headers in (
        {},
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/x"},
        {"Origin": "null"},
    ):
        response = await client.post(
            path, data={"variant_id": ready.tee["id"]}, headers={**HTML, **headers}
        )
        assert response.status_code == 403, headers
        assert (
            "set-cookie" not in response.headers
            or "bizosaas_cart" not in response.headers["set-cookie"]
        )
    assert await shop.ok("GET", "/orders") == []


async def test_each_store_has_its_own_cart(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    ours, theirs = await ready_shop(shop), await ready_shop(rival)
    visitor = Visitor(client, ours)
    await visitor.follow(await visitor.post("/cart/lines", {"variant_id": ours.tee["id"]}))
    other = Visitor(client, theirs)
    assert lines_of(await other.get("/cart")) == []
    # Another store's variant cannot go into this store's cart.
    refused = await visitor.post("/cart/lines", {"variant_id": theirs.mug["id"]})
    assert "Added to your cart." not in await visitor.follow(refused)
    assert lines_of(await visitor.get("/cart")) == ["1"]


async def test_voucher_form_applies_and_refuses(client: httpx.AsyncClient, shop: Store) -> None:
    ready = await ready_shop(shop)
    await shop.ok(
        "POST",
        "/vouchers",
        201,
        json={
            "channel_id": ready.channel["id"],
            "code": "TENOFF",
            "name": "Ten off",
            "kind": "percentage",
            "percentage": "10",
        },
    )
    visitor = Visitor(client, ready)
    await visitor.follow(await visitor.post("/cart/lines", {"variant_id": ready.tee["id"]}))
    unknown = await visitor.follow(
        await visitor.post("/cart/voucher", {"code": "NOPE"}, page="/cart")
    )
    assert "alert-error" in unknown and total_of(unknown) == "20.00 EUR"
    applied = await visitor.follow(
        await visitor.post("/cart/voucher", {"code": "tenoff"}, page="/cart")
    )
    assert "Voucher TENOFF applied." in applied and total_of(applied) == "18.00 EUR"
