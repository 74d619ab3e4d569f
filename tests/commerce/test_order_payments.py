"""Orders and their payments: staff open a payment for an order, and every change of a payment
lands on its order (payment status, timeline, `commerce.order_paid` once, the refund mail)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxEvent
from tests.commerce.conftest import API, Store
from tests.commerce.selling import ready_cart, ready_shop


async def placed_order(client: httpx.AsyncClient, store: Store) -> dict[str, Any]:
    cart = await ready_cart(client, await ready_shop(store))
    response = await cart.complete()
    assert response.status_code == 201, response.text
    return dict(response.json())


async def outbox(database: Database, store: Store, name: str) -> list[dict[str, Any]]:
    async with database.unit_of_work() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.name == name, OutboxEvent.tenant_id == store.account.tenant_id
            )
        )
        return [row.payload for row in rows]


async def post(store: Store, path: str, key: str, **kwargs: Any) -> httpx.Response:
    headers = {**store.account.headers, "Idempotency-Key": key}
    return await store.client.post(f"{API}{path}", headers=headers, **kwargs)


async def pay(store: Store, order_id: str, key: str) -> httpx.Response:
    return await post(store, f"/orders/{order_id}/payments", key, json={"provider": "manual"})


async def test_a_manual_payment_of_an_order_is_received_then_refunded(
    client: httpx.AsyncClient, shop: Store, database: Database
) -> None:
    order = await placed_order(client, shop)
    assert order["payment_status"] == "not_charged"
    key = str(uuid.uuid4())
    started = await pay(shop, order["id"], key)
    assert started.status_code == 201, started.text
    payment = started.json()
    assert (payment["status"], payment["amount"]) == ("pending", order["totals"]["total"])
    # The same key again: the first answer, no second payment.
    again = await pay(shop, order["id"], key)
    assert again.json()["id"] == payment["id"]
    assert len(await shop.ok("GET", f"/payments?order_id={order['id']}")) == 1

    captured = await post(shop, f"/payments/{payment['id']}/capture", str(uuid.uuid4()))
    assert captured.status_code == 200, captured.text
    paid = await shop.ok("GET", f"/orders/{order['id']}")
    assert (paid["payment_status"], paid["paid"]) == ("paid", order["totals"]["total"])
    assert [e["order_id"] for e in await outbox(database, shop, "commerce.order_paid")] == [
        order["id"]
    ]

    refunded = await post(shop, f"/payments/{payment['id']}/refund", str(uuid.uuid4()))
    assert refunded.status_code == 200, refunded.text
    after = await shop.ok("GET", f"/orders/{order['id']}")
    assert after["payment_status"] == "refunded"
    kinds = [e["kind"] for e in await shop.ok("GET", f"/orders/{order['id']}/timeline")]
    assert kinds.index("payment_capture") < kinds.index("payment_refund")


async def test_another_stores_order_cannot_be_paid(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    theirs = await placed_order(client, rival)
    refused = await pay(shop, theirs["id"], str(uuid.uuid4()))
    assert refused.status_code == 404 and refused.json()["code"] == "commerce.not_found"
    assert await rival.ok("GET", f"/payments?order_id={theirs['id']}") == []
