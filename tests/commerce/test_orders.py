"""Orders after placement: the status machine (allowed moves only), fulfilments with tracking and
the shipped mail, cancellation freeing stock, returns, notes, payments as the payments component
reports them, and the timeline that records it all; staff may work orders, not discounts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from bizosaas.commerce.exceptions import InvalidQuantity
from bizosaas.commerce.schemas_sales import PaymentEventKind
from bizosaas.commerce.service import orders
from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from tests.commerce.conftest import Store
from tests.commerce.selling import Shop, ready_cart, ready_shop
from tests.identity.conftest import Invite, mailbox


async def placed(client: httpx.AsyncClient, shop: Shop, quantity: int = 3, **kwargs: Any) -> Any:
    response = await (await ready_cart(client, shop, quantity=quantity, **kwargs)).complete()
    assert response.status_code == 201, response.text
    return response.json()


async def stock_of(shop: Shop) -> list[tuple[int, int]]:
    rows = await shop.store.ok("GET", f"/variants/{shop.tee['id']}/stock")
    return [(row["quantity"], row["allocated"]) for row in rows]


async def test_an_order_moves_through_the_machine_and_its_timeline_says_so(
    client: httpx.AsyncClient, shop: Store, database: Database
) -> None:
    ready = await ready_shop(shop)
    order = await placed(client, ready, email="fan@example.com")
    path = f"/orders/{order['id']}"
    line = order["lines"][0]["id"]
    # unconfirmed orders are not sent
    await shop.problem(
        "POST",
        f"{path}/fulfilments",
        409,
        "commerce.invalid_transition",
        json={"lines": [{"line_id": line, "quantity": 1}]},
    )
    assert (await shop.ok("POST", f"{path}/confirm"))["status"] == "unfulfilled"
    await shop.problem("POST", f"{path}/confirm", 409, "commerce.invalid_transition")
    await shop.problem(
        "POST",
        f"{path}/fulfilments",
        409,
        "commerce.invalid_quantity",
        json={"lines": [{"line_id": line, "quantity": 4}]},
    )
    first = await shop.ok(
        "POST",
        f"{path}/fulfilments",
        201,
        json={"lines": [{"line_id": line, "quantity": 1}], "tracking_number": "DHL-1"},
    )
    assert first["tracking_number"] == "DHL-1"
    assert (await shop.ok("GET", path))["status"] == "partially_fulfilled"
    assert await stock_of(ready) == [(7, 2)]  # one unit left the warehouse
    await shop.problem("POST", f"{path}/cancel", 409, "commerce.invalid_transition")
    await shop.ok(
        "POST",
        f"{path}/fulfilments",
        201,
        json={"lines": [{"line_id": line, "quantity": 2}], "notify_customer": False},
    )
    read = await shop.ok("GET", path)
    assert read["status"] == "fulfilled"
    assert read["lines"][0]["fulfilled_quantity"] == 3
    assert await stock_of(ready) == [(7, 0)]
    assert len(await shop.ok("GET", f"{path}/fulfilments")) == 2
    await shop.problem(
        "POST",
        f"{path}/returns",
        409,
        "commerce.invalid_quantity",
        json={"lines": [{"line_id": line, "quantity": 4}]},
    )
    returned = await shop.ok(
        "POST", f"{path}/returns", json={"lines": [{"line_id": line, "quantity": 1}]}
    )
    assert returned["status"] == "returned"
    assert returned["lines"][0]["returned_quantity"] == 1
    await shop.ok("POST", f"{path}/notes", 201, json={"message": "Customer called about size."})
    timeline = await shop.ok("GET", f"{path}/timeline")
    kinds = [event["kind"] for event in timeline]
    assert kinds == [
        "placed",
        "mail_queued",
        "status_changed",
        "confirmed",
        "status_changed",
        "fulfilled",
        "mail_queued",
        "status_changed",
        "fulfilled",
        "status_changed",
        "returned",
        "note_added",
    ]
    note = timeline[-1]
    assert note["actor_kind"] == "user"
    assert note["actor_id"] == str(shop.account.user_id)
    assert note["data"] == {"message": "Customer called about size."}
    assert timeline[2]["data"] == {"from": "unconfirmed", "to": "unfulfilled"}
    subjects = [mail.subject for mail in await mailbox(database, "fan@example.com")]
    assert sorted(subjects) == sorted(
        [f"Order {order['number']} confirmed", f"Order {order['number']} has shipped"]
    )


async def test_cancel_frees_the_allocated_stock(client: httpx.AsyncClient, shop: Store) -> None:
    ready = await ready_shop(shop)
    order = await placed(client, ready)
    assert await stock_of(ready) == [(7, 3)]
    cancelled = await shop.ok("POST", f"/orders/{order['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    assert await stock_of(ready) == [(10, 0)]
    await shop.problem("POST", f"/orders/{order['id']}/cancel", 409, "commerce.invalid_transition")
    await shop.problem("POST", f"/orders/{order['id']}/confirm", 409, "commerce.invalid_transition")
    assert await stock_of(ready) == [(10, 0)]


async def test_payment_events_drive_the_payment_status(
    client: httpx.AsyncClient, shop: Store, database: Database
) -> None:
    ready = await ready_shop(shop)
    order = await placed(client, ready, quantity=1)  # 20.00 + 4.90 shipping
    scope = trusted_scope(shop.account.tenant_id)

    async def report(kind: PaymentEventKind, amount_minor: int) -> Any:
        async with database.unit_of_work(scope) as session:
            return await orders.record_payment_event(
                session,
                scope=scope,
                order_id=uuid.UUID(order["id"]),
                kind=kind,
                amount_minor=amount_minor,
                reference=f"pi_{kind.value}",
            )

    assert (await report(PaymentEventKind.authorization, 2490)).payment_status == "authorized"
    assert (await report(PaymentEventKind.capture, 1000)).payment_status == "partially_paid"
    paid = await report(PaymentEventKind.capture, 1490)
    assert paid.payment_status == "paid" and str(paid.paid) == "24.90"
    with pytest.raises(InvalidQuantity):
        await report(PaymentEventKind.capture, 1)
    assert (await report(PaymentEventKind.refund, 490)).payment_status == "partially_refunded"
    with pytest.raises(InvalidQuantity):
        await report(PaymentEventKind.refund, 2001)
    refunded = await report(PaymentEventKind.refund, 2000)
    assert refunded.payment_status == "refunded"
    assert refunded.status == "unconfirmed"  # the machine has no unconfirmed -> refunded
    # a confirmed order whose payment is refunded in full becomes refunded
    second = await placed(client, ready, quantity=1)
    await shop.ok("POST", f"/orders/{second['id']}/confirm")
    order = second
    await report(PaymentEventKind.capture, 2490)
    assert (await report(PaymentEventKind.refund, 2490)).status == "refunded"
    await shop.problem("POST", f"/orders/{order['id']}/cancel", 409, "commerce.invalid_transition")
    timeline = await shop.ok("GET", f"/orders/{order['id']}/timeline")
    payments = [event for event in timeline if event["kind"].startswith("payment_")]
    assert [(event["kind"], event["data"]["amount"]) for event in payments] == [
        ("payment_capture", "24.90"),
        ("payment_refund", "24.90"),
    ]
    assert payments[0]["data"]["reference"] == "pi_capture"
    assert payments[0]["actor_kind"] == "system"


async def test_staff_work_orders_but_not_discounts(
    client: httpx.AsyncClient, shop: Store, invite: Invite
) -> None:
    ready = await ready_shop(shop)
    order = await placed(client, ready)
    staff = Store(client, await invite(shop.account, "staff"))
    assert [row["id"] for row in await staff.ok("GET", "/orders")] == [order["id"]]
    await staff.ok("POST", f"/orders/{order['id']}/confirm")
    await staff.ok("GET", "/vouchers")
    await staff.problem(
        "POST",
        "/vouchers",
        403,
        "auth.forbidden",
        json={"channel_id": ready.channel["id"], "code": "STAFF", "kind": "free_shipping"},
    )
    customer = Store(client, await invite(shop.account, "client"))
    await customer.problem("GET", "/orders", 403, "auth.forbidden")
