"""Tenant isolation of every checkout, order, discount and shipping endpoint: another store's
ids and checkout tokens answer 404 `commerce.not_found`, and nothing of theirs changes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.commerce.conftest import API, Store
from tests.commerce.selling import Cart, ready_cart, ready_shop


async def test_another_stores_rows_are_not_found_and_unchanged(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    ready = await ready_shop(shop)
    order = (await (await ready_cart(client, ready)).complete()).json()
    voucher = await shop.ok(
        "POST",
        "/vouchers",
        201,
        json={"channel_id": ready.channel["id"], "code": "MINE", "kind": "free_shipping"},
    )
    promotion = await shop.ok(
        "POST",
        "/promotions",
        201,
        json={
            "channel_id": ready.channel["id"],
            "name": "Mine",
            "kind": "percentage",
            "percentage": "5",
        },
    )
    zone = (await shop.ok("GET", "/shipping-zones"))[0]
    line = {"lines": [{"line_id": order["lines"][0]["id"], "quantity": 1}]}
    before = await snapshot(shop, order, voucher, promotion, zone)

    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/orders/{order['id']}", None),
        ("GET", f"/orders/{order['id']}/timeline", None),
        ("GET", f"/orders/{order['id']}/fulfilments", None),
        ("POST", f"/orders/{order['id']}/confirm", None),
        ("POST", f"/orders/{order['id']}/cancel", None),
        ("POST", f"/orders/{order['id']}/fulfilments", line),
        ("POST", f"/orders/{order['id']}/returns", line),
        ("POST", f"/orders/{order['id']}/notes", {"message": "hello"}),
        ("GET", f"/vouchers/{voucher['id']}", None),
        ("PATCH", f"/vouchers/{voucher['id']}", {"is_active": False}),
        ("DELETE", f"/vouchers/{voucher['id']}", None),
        ("GET", f"/promotions/{promotion['id']}", None),
        ("DELETE", f"/promotions/{promotion['id']}", None),
        ("GET", f"/shipping-zones/{zone['id']}", None),
        ("DELETE", f"/shipping-zones/{zone['id']}", None),
        ("POST", f"/shipping-zones/{zone['id']}/methods", {"name": "X", "price": "1"}),
        ("DELETE", f"/shipping-methods/{ready.standard['id']}", None),
        ("GET", f"/channels/{ready.channel['id']}/tax", None),
        ("PUT", f"/channels/{ready.channel['id']}/tax", {"prices_include_tax": False}),
        (
            "POST",
            "/vouchers",
            {"channel_id": ready.channel["id"], "code": "THEIRS", "kind": "free_shipping"},
        ),
        (
            "POST",
            "/shipping-zones",
            {"channel_id": ready.channel["id"], "name": "X", "countries": ["DE"]},
        ),
    ]
    for method, path, body in attempts:
        await rival.problem(method, path, 404, "commerce.not_found", json=body)
    assert await rival.ok("GET", "/orders") == []
    assert await rival.ok("GET", "/vouchers") == []
    assert await rival.ok("GET", "/promotions") == []
    assert await rival.ok("GET", "/shipping-zones") == []
    assert await snapshot(shop, order, voucher, promotion, zone) == before


async def snapshot(shop: Store, order: Any, voucher: Any, promotion: Any, zone: Any) -> Any:
    return (
        await shop.ok("GET", f"/orders/{order['id']}"),
        await shop.ok("GET", f"/orders/{order['id']}/timeline"),
        await shop.ok("GET", f"/vouchers/{voucher['id']}"),
        await shop.ok("GET", f"/promotions/{promotion['id']}"),
        await shop.ok("GET", f"/shipping-zones/{zone['id']}"),
        await shop.ok("GET", f"/channels/{zone['channel_id']}/tax"),
    )


async def test_a_checkout_token_works_only_in_its_own_store(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    ready = await ready_shop(shop)
    await ready_shop(rival)
    cart = await ready_cart(client, ready)
    before = await cart.ok("GET")
    elsewhere = Cart(client, rival.account.tenant_slug, cart.token)
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"email": "thief@example.com"}),
        ("POST", "/lines", {"variant_id": ready.tee["id"]}),
        ("PATCH", f"/lines/{before['lines'][0]['id']}", {"quantity": 5}),
        ("DELETE", f"/lines/{before['lines'][0]['id']}", None),
        ("PUT", "/voucher", {"code": "ANY-CODE"}),
        ("DELETE", "/voucher", None),
    ):
        await elsewhere.problem(method, suffix, 404, "commerce.not_found", json=body)
    refused = await elsewhere.complete()
    assert refused.status_code == 404 and refused.json()["code"] == "commerce.not_found"
    unknown = Cart(client, ready.slug, "x" * 43)
    await unknown.problem("GET", "", 404, "commerce.not_found")
    assert await cart.ok("GET") == before
    order = (await cart.complete()).json()
    # the order is the shop's: the rival's customers and staff cannot see it
    assert await rival.ok("GET", "/orders") == []
    await rival.problem("GET", f"/orders/{order['id']}", 404, "commerce.not_found")
    mine = f"{API}/storefront/{rival.account.tenant_slug}/my/orders/{order['id']}"
    response = await client.get(mine, headers=rival.account.headers)
    assert response.status_code == 404
    random = await client.get(f"{API}/storefront/{ready.slug}/checkouts/{uuid.uuid4().hex}")
    assert random.status_code == 404
