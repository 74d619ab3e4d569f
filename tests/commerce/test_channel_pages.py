"""The store's Channels page: a channel, a delivery zone, a method and the tax set from forms,
which the checkout then uses; bad input is refused with a message and changes nothing, and
another store's channel is out of reach."""

from __future__ import annotations

import re

import httpx

from tests.commerce.conftest import Store
from tests.commerce.test_order_pages import HTML, signed_in
from tests.web.pages import post_form

PAGE = "/app/commerce/channels"


async def test_owner_sets_up_delivery_and_tax(client: httpx.AsyncClient, shop: Store) -> None:
    await signed_in(client, shop)
    made = await post_form(client, PAGE, PAGE, {"name": "Web", "slug": "web", "currency": "EUR"})
    assert made.status_code == 303
    (channel,) = await shop.ok("GET", "/channels")
    zone = await post_form(
        client, PAGE, f"{PAGE}/{channel['id']}/zones", {"name": "DACH", "countries": "de, at ch"}
    )
    assert zone.status_code == 303
    (created,) = await shop.ok("GET", "/shipping-zones")
    assert created["countries"] == ["AT", "CH", "DE"]
    method = await post_form(
        client,
        PAGE,
        f"{PAGE}/zones/{created['id']}/methods",
        {"name": "Standard", "price": "4.90", "free_over": "50"},
    )
    assert method.status_code == 303
    tax = await post_form(
        client,
        PAGE,
        f"{PAGE}/{channel['id']}/tax",
        {"default_rate": "19", "prices_include_tax": "1"},
    )
    assert tax.status_code == 303
    page = await client.get(PAGE, headers=HTML)
    assert "Standard · 4.90 EUR · free from 50.00" in page.text
    assert "Tax: 19.00% included in prices" in page.text
    (zone_read,) = await shop.ok("GET", "/shipping-zones")
    assert [(m["name"], m["price"], m["free_over"]) for m in zone_read["methods"]] == [
        ("Standard", "4.90", "50.00")
    ]

    # A country that is not one, and a price that is not a number: refused, nothing added.
    for action, data in (
        (f"{PAGE}/{channel['id']}/zones", {"name": "Nowhere", "countries": "XX"}),
        (f"{PAGE}/zones/{created['id']}/methods", {"name": "Odd", "price": "lots"}),
    ):
        refused = await post_form(client, PAGE, action, data)
        assert "alert-error" in (await client.get(refused.headers["location"], headers=HTML)).text
    zones = await shop.ok("GET", "/shipping-zones")
    assert len(zones) == 1 and len(zones[0]["methods"]) == 1


async def test_another_stores_channel_is_out_of_reach(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    theirs = await rival.ok(
        "POST", "/channels", 201, json={"name": "Theirs", "slug": "theirs", "currency": "USD"}
    )
    await signed_in(client, shop)
    page = await client.get(PAGE, headers=HTML)
    assert "Theirs" not in page.text and not re.search(r"USD</span>", page.text)
    forged = await post_form(
        client, PAGE, f"{PAGE}/{theirs['id']}/zones", {"name": "Sneaky", "countries": "DE"}
    )
    assert "alert-error" in (await client.get(forged.headers["location"], headers=HTML)).text
    assert await rival.ok("GET", "/shipping-zones") == []
