"""The store's orders in the workspace: the list, an order with its timeline, and the actions a
member takes from it (confirm, send with a tracking number, note, cancel), which the timeline
then shows with who did them. Another store's order is a 404 and its forms change nothing."""

from __future__ import annotations

import re

import httpx

from tests.commerce.conftest import Store
from tests.commerce.selling import ready_cart, ready_shop
from tests.web.pages import Person, post_form, sign_in

HTML = {"Accept": "text/html"}


async def place_order(client: httpx.AsyncClient, store: Store) -> dict[str, object]:
    shop = await ready_shop(store)
    cart = await ready_cart(client, shop, quantity=2)
    response = await cart.complete()
    assert response.status_code == 201, response.text
    order: dict[str, object] = response.json()
    return order


async def signed_in(client: httpx.AsyncClient, store: Store) -> None:
    account = store.account
    person = Person(account.email, account.user_id, account.tenant_id, account.password)
    assert (await sign_in(client, person)).status_code == 303


def timeline_kinds(page: str) -> list[str]:
    return re.findall(r'<li data-kind="([a-z_]+)">', page)


async def test_a_member_confirms_sends_and_notes_an_order(
    client: httpx.AsyncClient, shop: Store
) -> None:
    order = await place_order(client, shop)
    await signed_in(client, shop)
    listing = await client.get("/app/commerce/orders", headers=HTML)
    assert listing.status_code == 200
    assert f'href="/app/commerce/orders/{order["id"]}">#{order["number"]}</a>' in listing.text
    here = f"/app/commerce/orders/{order['id']}"
    page = await client.get(here, headers=HTML)
    assert "unconfirmed" in page.text and timeline_kinds(page.text)[-1] == "placed"

    for action, data in (
        ("confirm", {}),
        ("fulfil", {"tracking_number": "TRACK-123", "notify_customer": "1"}),
        ("notes", {"message": "Left with the neighbour."}),
    ):
        response = await post_form(client, here, f"{here}/{action}", data)
        assert response.status_code == 303 and response.headers["location"] == here, action

    page = await client.get(here, headers=HTML)
    kinds = timeline_kinds(page.text)
    assert kinds[0] == "note_added" and "fulfilled" in kinds and "confirmed" in kinds
    assert "Tracking TRACK-123" in page.text and "Left with the neighbour." in page.text
    assert ">sent<" in page.text
    staff_view = await shop.ok("GET", f"/orders/{order['id']}")
    assert staff_view["status"] == "fulfilled"
    events = await shop.ok("GET", f"/orders/{order['id']}/timeline")
    confirmed = next(e for e in events if e["kind"] == "confirmed")
    assert confirmed["actor_kind"] == "user" and confirmed["actor_id"] == str(shop.account.user_id)


async def test_cancel_from_the_page_and_a_refused_action(
    client: httpx.AsyncClient, shop: Store
) -> None:
    order = await place_order(client, shop)
    await signed_in(client, shop)
    here = f"/app/commerce/orders/{order['id']}"
    cancelled = await post_form(client, here, f"{here}/cancel", {})
    assert cancelled.status_code == 303
    # A cancelled order cannot be sent: the refusal is shown and nothing changes.
    refused = await post_form(client, here, f"{here}/confirm", {})
    page = await client.get(refused.headers["location"], headers=HTML)
    assert "alert-error" in page.text
    assert (await shop.ok("GET", f"/orders/{order['id']}"))["status"] == "cancelled"


async def test_another_stores_order_is_not_found_and_unchanged(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    theirs = await place_order(client, rival)
    await signed_in(client, shop)
    path = f"/app/commerce/orders/{theirs['id']}"
    assert (await client.get(path, headers=HTML)).status_code == 404
    forged = await post_form(client, "/app/commerce/orders", f"{path}/cancel", {})
    assert forged.status_code == 303
    assert (await rival.ok("GET", f"/orders/{theirs['id']}"))["status"] == "unconfirmed"


async def test_the_order_page_marks_money_received(client: httpx.AsyncClient, shop: Store) -> None:
    order = await place_order(client, shop)
    started = await shop.client.post(
        f"/api/brain/commerce/orders/{order['id']}/payments",
        json={"provider": "manual"},
        headers={**shop.account.headers, "Idempotency-Key": "pay-1"},
    )
    assert started.status_code == 201, started.text
    payment = started.json()
    await signed_in(client, shop)
    here = f"/app/commerce/orders/{order['id']}"
    page = await client.get(here, headers=HTML)
    assert "Mark money received" in page.text
    received = await post_form(client, here, f"{here}/payments/{payment['id']}/capture", {})
    assert received.status_code == 303
    page = await client.get(here, headers=HTML)
    assert "Payment marked as received." in page.text
    assert (await shop.ok("GET", f"/orders/{order['id']}"))["payment_status"] == "paid"
    assert "payment_capture" in timeline_kinds(page.text)
