"""The storefront checkout through the public API: a guest's cart priced on the server, its
addresses, shipping and voucher, and completion into an order with an Idempotency-Key."""

from __future__ import annotations

import uuid

import httpx

from bizosaas.kit.db import Database
from tests.commerce.conftest import API, Store
from tests.commerce.selling import ADDRESS, open_cart, ready_cart, ready_shop
from tests.identity.conftest import mailbox


async def test_guest_checkout_is_priced_line_by_line(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop)
    cart, created = await open_cart(
        client, ready.slug, lines=[{"variant_id": ready.tee["id"], "quantity": 2}]
    )
    assert created["totals"] == {
        "subtotal": "40.00",
        "discount": "0.00",
        "shipping": "0.00",
        "tax": "6.39",  # 19 % contained in 40.00, before an address sets the country
        "total": "40.00",
    }
    body = await cart.ok("POST", "/lines", json={"variant_id": ready.mug["id"], "quantity": 1})
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in body["lines"]] == [
        ("TEE-M", 2, "20.00"),
        ("MUG", 1, "9.99"),
    ]
    assert body["shipping_options"] == []  # no address yet
    austria = {**ADDRESS, "country": "AT", "city": "Wien"}
    body = await cart.ok("PATCH", json={"shipping_address": austria, "billing_address": austria})
    assert body["shipping_address"]["country"] == "AT"
    # 800 g: standard only (freight starts at 5 kg); free from 50.00, the goods cost 49.99
    assert [(o["name"], o["price"]) for o in body["shipping_options"]] == [("Standard", "4.90")]
    body = await cart.ok("PATCH", json={"shipping_method_id": ready.standard["id"]})
    assert body["totals"] == {
        "subtotal": "49.99",
        "discount": "0.00",
        "shipping": "4.90",
        # AT 20 % contained: tee line 40.00 -> 6.67, mug 9.99 -> 1.67, shipping 4.90 -> 0.82
        "tax": "9.16",
        "total": "54.89",
    }
    assert [line["tax"] for line in body["lines"]] == ["6.67", "1.67"]
    line_id = body["lines"][1]["id"]
    body = await cart.ok("PATCH", f"/lines/{line_id}", json={"quantity": 2})
    assert body["totals"]["subtotal"] == "59.98"
    assert body["totals"]["shipping"] == "0.00"  # free over 50.00 now
    body = await cart.ok("DELETE", f"/lines/{line_id}")
    assert [line["sku"] for line in body["lines"]] == ["TEE-M"]


async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop)
    cart, _ = await open_cart(client, ready.slug, lines=[{"variant_id": ready.tee["id"]}])
    before = await cart.ok("GET")
    await cart.problem(
        "PATCH",
        "",
        422,
        "request.validation_failed",
        json={"shipping_address": {**ADDRESS, "country": "XX"}},
    )
    await cart.problem(
        "POST",
        "/lines",
        422,
        "request.validation_failed",
        json={"variant_id": ready.tee["id"], "quantity": 0},
    )
    await cart.problem(
        "POST", "/lines", 404, "commerce.not_found", json={"variant_id": str(uuid.uuid4())}
    )
    # a shipping method that does not serve the address (none set yet) is refused
    await cart.problem(
        "PATCH",
        "",
        409,
        "commerce.shipping_unavailable",
        json={"shipping_method_id": ready.freight["id"]},
    )
    await cart.problem("PUT", "/voucher", 409, "commerce.voucher_invalid", json={"code": "NOPE"})
    response = await cart.complete()
    assert response.status_code == 409 and response.json()["code"] == "commerce.checkout_incomplete"
    assert set(response.json()["missing"]) == {
        "billing_address",
        "shipping_address",
        "shipping_method",
    }
    assert await cart.ok("GET") == before
    unknown = await client.get(f"{API}/storefront/no-such-store/checkouts/{cart.token}")
    assert unknown.status_code == 404


async def test_completion_places_one_order_and_retries_replay_it(
    client: httpx.AsyncClient, shop: Store, database: Database
) -> None:
    ready = await ready_shop(shop)
    cart = await ready_cart(client, ready, quantity=3, email="buyer@example.com")
    key = str(uuid.uuid4())
    first = await cart.complete(key)
    assert first.status_code == 201, first.text
    order = first.json()
    assert order["number"] == 1
    assert order["status"] == "unconfirmed" and order["payment_status"] == "not_charged"
    assert order["totals"] == {
        "subtotal": "60.00",
        "discount": "0.00",
        "shipping": "0.00",
        "tax": "9.58",
        "total": "60.00",
    }
    assert order["shipping_address"]["city"] == "Berlin"
    assert order["shipping_method_name"] == "Standard"
    again = await cart.complete(key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == order
    # the checkout is an order now: completing with a new key is refused, changes nothing
    other = await cart.complete()
    assert other.status_code == 409 and other.json()["code"] == "commerce.checkout_completed"
    # the same key on another checkout is another request: refused
    second = await ready_cart(client, ready)
    reused = await second.complete(key)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency.key_reused"
    orders = await shop.ok("GET", "/orders")
    assert [summary["number"] for summary in orders] == [1]
    stock = await shop.ok("GET", f"/variants/{ready.tee['id']}/stock")
    assert [(row["quantity"], row["allocated"]) for row in stock] == [(7, 3)]
    assert (await cart.ok("GET"))["order_id"] == order["id"]
    mails = await mailbox(database, "buyer@example.com")
    assert [mail.subject for mail in mails] == ["Order 1 confirmed"]
    timeline = await shop.ok("GET", f"/orders/{order['id']}/timeline")
    assert [event["kind"] for event in timeline] == ["placed", "mail_queued"]
    assert timeline[0]["actor_kind"] == "customer"


async def test_insufficient_stock_refuses_and_writes_nothing(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop, stock=2)
    cart = await ready_cart(client, ready, quantity=3)
    response = await cart.complete()
    assert response.status_code == 409
    assert response.json()["code"] == "commerce.insufficient_stock"
    assert await shop.ok("GET", "/orders") == []
    stock = await shop.ok("GET", f"/variants/{ready.tee['id']}/stock")
    assert [(row["quantity"], row["allocated"]) for row in stock] == [(2, 0)]
    assert (await cart.ok("GET"))["order_id"] is None
    await cart.ok(
        "PATCH", f"/lines/{(await cart.ok('GET'))['lines'][0]['id']}", json={"quantity": 2}
    )
    assert (await cart.complete()).status_code == 201


async def test_changed_price_is_refused_until_the_line_is_updated(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop)
    cart = await ready_cart(client, ready)
    await shop.ok(
        "PUT", f"/variants/{ready.tee['id']}/prices/{ready.channel['id']}", json={"amount": "25.00"}
    )
    refused = await cart.complete()
    assert refused.status_code == 409 and refused.json()["code"] == "commerce.price_changed"
    line = (await cart.ok("GET"))["lines"][0]
    assert line["unit_price"] == "20.00"
    updated = await cart.ok("PATCH", f"/lines/{line['id']}", json={"quantity": 1})
    assert updated["lines"][0]["unit_price"] == "25.00"
    placed = await cart.complete()
    assert placed.status_code == 201 and placed.json()["totals"]["total"] == "29.90"


async def test_signed_in_customer_sees_only_their_own_orders(
    client: httpx.AsyncClient, shop: Store, invite: object
) -> None:
    ready = await ready_shop(shop)
    customer = await invite(shop.account, "client")  # type: ignore[operator]
    cart = await ready_cart(client, ready, headers=customer.headers, email=None)
    assert (await cart.ok("GET"))["customer_user_id"] == str(customer.user_id)
    await cart.ok("PATCH", json={"email": customer.email})
    mine = (await cart.complete()).json()
    guest = await ready_cart(client, ready)
    theirs = (await guest.complete()).json()
    base = f"{API}/storefront/{ready.slug}/my/orders"
    listed = await client.get(base, headers=customer.headers)
    assert [row["id"] for row in listed.json()] == [mine["id"]]
    assert (await client.get(f"{base}/{mine['id']}", headers=customer.headers)).status_code == 200
    other = await client.get(f"{base}/{theirs['id']}", headers=customer.headers)
    assert other.status_code == 404
    assert (await client.get(base)).status_code == 401


async def test_net_prices_add_tax_and_heavy_parcels_get_freight(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop, stock=50)
    await shop.ok(
        "PUT",
        f"/channels/{ready.channel['id']}/tax",
        json={"prices_include_tax": False, "default_rate": "7.5"},
    )
    cart, _ = await open_cart(
        client, ready.slug, lines=[{"variant_id": ready.mug["id"], "quantity": 3}]
    )
    body = await cart.ok("PATCH", json={"shipping_address": ADDRESS, "billing_address": ADDRESS})
    assert [o["name"] for o in body["shipping_options"]] == ["Standard"]  # 1.5 kg
    body = await cart.ok("PATCH", f"/lines/{body['lines'][0]['id']}", json={"quantity": 10})
    # 5 kg: freight too; standard is free over 50.00 of goods (99.90)
    assert [(o["name"], o["price"]) for o in body["shipping_options"]] == [
        ("Standard", "0.00"),
        ("Freight", "30.00"),
    ]
    body = await cart.ok("PATCH", json={"shipping_method_id": ready.freight["id"]})
    assert body["prices_include_tax"] is False
    assert body["totals"] == {
        "subtotal": "99.90",
        "discount": "0.00",
        "shipping": "30.00",
        "tax": "9.74",  # 7.5 % of 99.90 (7.49) and of 30.00 (2.25), added
        "total": "139.64",
    }
    assert body["lines"][0]["total"] == "107.39"
    # a shipping address the zone does not serve drops the method and offers nothing
    body = await cart.ok("PATCH", json={"shipping_address": {**ADDRESS, "country": "FR"}})
    assert body["shipping_options"] == [] and body["shipping_method_id"] is None
    response = await cart.complete()
    assert response.status_code == 409
    assert response.json()["code"] == "commerce.shipping_unavailable"


async def test_a_deleted_product_leaves_carts_and_orders_keep_their_snapshot(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop)
    order = (await (await ready_cart(client, ready)).complete()).json()
    cart, _ = await open_cart(
        client,
        ready.slug,
        lines=[{"variant_id": ready.tee["id"]}, {"variant_id": ready.mug["id"]}],
    )
    await shop.ok("DELETE", f"/products/{ready.product['id']}", 204)
    assert (await cart.ok("GET"))["lines"] == []
    kept = await shop.ok("GET", f"/orders/{order['id']}")
    assert [(line["sku"], line["product_name"]) for line in kept["lines"]] == [
        ("TEE-M", "Plain tee")
    ]
