"""The store's Discounts page: vouchers listed with their use, created from a form (a bad form
comes back with the input and a message, changing nothing), switched off and on; staff read
but do not change, and another store's voucher is out of reach."""

from __future__ import annotations

import httpx

from tests.commerce.conftest import Store
from tests.commerce.selling import ready_shop
from tests.commerce.test_order_pages import HTML, signed_in
from tests.web.pages import post_form

PAGE = "/app/commerce/discounts"


async def test_owner_creates_and_switches_a_voucher(client: httpx.AsyncClient, shop: Store) -> None:
    ready = await ready_shop(shop)
    await signed_in(client, shop)
    form = {"code": "spring15", "name": "Spring", "channel_id": ready.channel["id"]}
    refused = await post_form(client, PAGE, PAGE, {**form, "kind": "percentage", "value": "abc"})
    assert refused.status_code == 422
    assert 'value="spring15"' in refused.text and "Enter a number" in refused.text
    assert await shop.ok("GET", "/vouchers") == []

    created = await post_form(client, PAGE, PAGE, {**form, "kind": "percentage", "value": "15"})
    assert created.status_code == 303
    (voucher,) = await shop.ok("GET", "/vouchers")
    assert (voucher["code"], voucher["percentage"], voucher["is_active"]) == (
        "SPRING15",
        "15.00",
        True,
    )
    page = await client.get(PAGE, headers=HTML)
    assert "Voucher SPRING15 created." in page.text and "15.00% off" in page.text

    taken = await post_form(client, PAGE, PAGE, {**form, "kind": "percentage", "value": "5"})
    assert "alert-error" in (await client.get(taken.headers["location"], headers=HTML)).text
    assert len(await shop.ok("GET", "/vouchers")) == 1

    off = await post_form(
        client, PAGE, f"{PAGE}/vouchers/{voucher['id']}/active", {"is_active": "0"}
    )
    assert off.status_code == 303
    assert (await shop.ok("GET", "/vouchers"))[0]["is_active"] is False


async def test_another_stores_voucher_is_out_of_reach(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    theirs = await ready_shop(rival)
    voucher = await rival.ok(
        "POST",
        "/vouchers",
        201,
        json={"channel_id": theirs.channel["id"], "code": "THEIRS", "kind": "free_shipping"},
    )
    await ready_shop(shop)
    await signed_in(client, shop)
    page = await client.get(PAGE, headers=HTML)
    assert "THEIRS" not in page.text
    forged = await post_form(
        client, PAGE, f"{PAGE}/vouchers/{voucher['id']}/active", {"is_active": "0"}
    )
    assert "alert-error" in (await client.get(forged.headers["location"], headers=HTML)).text
    assert (await rival.ok("GET", "/vouchers"))[0]["is_active"] is True
