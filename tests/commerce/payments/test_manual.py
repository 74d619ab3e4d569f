"""Manual payments (bank transfer, cash on delivery): offline, staff mark the money received
and record refunds; the state machine refuses what does not fit and changes nothing."""

from __future__ import annotations

import uuid

import pytest

from bizosaas.commerce.payments import service
from bizosaas.commerce.payments.context import PaymentChange
from bizosaas.commerce.payments.exceptions import (
    InvalidPayable,
    PaymentProviderNotConfigured,
    PaymentProviderUnknown,
)
from bizosaas.commerce.payments.providers.base import Payable
from bizosaas.kit.tenancy import trusted_scope
from tests.commerce.payments.conftest import Desk
from tests.commerce.payments.orders import order_totalling


async def test_a_manual_payment_is_received_in_part_then_refunded_in_steps(desk: Desk) -> None:
    order_id = await order_totalling(desk.store, 5000)
    started = await desk.start(order_id=order_id, amount_minor=5000)
    assert started["status"] == "pending" and started["amount"] == "50.00"
    assert started["provider"] == "manual" and started["client_secret"] is None

    captured = await desk.act(started["id"], "capture", amount="30.00")
    assert captured.status_code == 200, captured.text
    assert captured.json()["status"] == "captured"
    assert (captured.json()["captured"], captured.json()["refundable"]) == ("30.00", "30.00")

    first = await desk.act(started["id"], "refund", amount="10.00")
    assert first.json()["status"] == "partially_refunded"
    assert (first.json()["refunded"], first.json()["refundable"]) == ("10.00", "20.00")
    rest = await desk.act(started["id"], "refund")  # no amount: everything left
    assert rest.json()["status"] == "refunded" and rest.json()["refunded"] == "30.00"

    payment = await desk.read(started["id"])
    assert [(t["kind"], t["status"], t["amount"]) for t in payment["transactions"]] == [
        ("authorization", "pending", "50.00"),
        ("capture", "succeeded", "30.00"),
        ("refund", "succeeded", "10.00"),
        ("refund", "succeeded", "20.00"),
    ]
    listed = await desk.store.ok("GET", f"/payments?order_id={order_id}")
    assert [p["id"] for p in listed] == [started["id"]]
    assert await desk.store.ok("GET", f"/payments?order_id={uuid.uuid4()}") == []

    paid = await desk.events("commerce.payment_captured")
    assert [(e["order_id"], e["amount"], e["amount_requested"], e["currency"]) for e in paid] == [
        (str(order_id), "30.00", "50.00", "EUR")
    ]
    refunded = await desk.events("commerce.payment_refunded")
    assert [(e["amount"], e["total_refunded"], e["fully_refunded"]) for e in refunded] == [
        ("10.00", "10.00", False),
        ("20.00", "30.00", True),
    ]
    assert await desk.events("commerce.payment_authorized") == []


async def test_the_state_machine_refuses_and_changes_nothing(desk: Desk) -> None:
    pending = await desk.start(amount_minor=5000)
    before = await desk.read(pending["id"])
    refusals = [
        ("refund", {}, "commerce.payment_invalid_state"),
        ("capture", {"amount": "50.01"}, "commerce.payment_capture_exceeds_authorized"),
        ("capture", {"amount": "0.001"}, "commerce.payment_amount_invalid"),
    ]
    for action, body, code in refusals:
        answer = await desk.act(pending["id"], action, **body)
        assert answer.status_code in {409, 422}, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == code
    assert await desk.read(pending["id"]) == before
    assert before["status"] == "pending" and len(before["transactions"]) == 1

    captured = (await desk.act(pending["id"], "capture")).json()
    assert captured["captured"] == "50.00"
    for action, body, code in [
        ("capture", {}, "commerce.payment_invalid_state"),
        ("void", {}, "commerce.payment_invalid_state"),
        ("refund", {"amount": "50.01"}, "commerce.payment_refund_exceeds_captured"),
        ("refund", {"amount": "-1"}, "request.validation_failed"),
    ]:
        answer = await desk.act(pending["id"], action, **body)
        assert answer.status_code in {409, 422}, answer.text
        assert answer.json()["code"] == code
    after = await desk.read(pending["id"])
    assert after == captured
    assert await desk.events("commerce.payment_refunded") == []


async def test_void_cancels_an_unpaid_payment_for_good(desk: Desk) -> None:
    pending = await desk.start()
    voided = await desk.act(pending["id"], "void")
    assert voided.json()["status"] == "voided"
    again = await desk.act(pending["id"], "capture")
    assert again.status_code == 409 and again.json()["code"] == "commerce.payment_invalid_state"
    assert (await desk.read(pending["id"]))["status"] == "voided"
    assert await desk.events("commerce.payment_captured") == []


async def test_the_orders_hook_hears_every_change_in_the_same_unit_of_work(desk: Desk) -> None:
    heard: list[tuple[str, str, int, bool]] = []

    async def on_payment_event(session: object, change: PaymentChange) -> None:
        heard.append(
            (change.change.value, change.payment.status, change.amount_minor, session is not None)
        )

    desk.context.on_payment_event = on_payment_event
    try:
        started = await desk.start(amount_minor=2000)
        await desk.act(started["id"], "capture")
        await desk.act(started["id"], "refund", amount="5")
        other = await desk.start(amount_minor=1000)
        await desk.act(other["id"], "void")
    finally:
        desk.context.on_payment_event = None
    assert heard == [
        ("captured", "captured", 2000, True),
        ("refunded", "partially_refunded", 500, True),
        ("voided", "voided", 0, True),
    ]


async def test_start_payment_refuses_what_it_cannot_charge(desk: Desk) -> None:
    scope = trusted_scope(desk.store.account.tenant_id)

    async def start(provider: str, **overrides: object) -> None:
        fields: dict[str, object] = {
            "scope": scope,
            "order_id": uuid.uuid4(),
            "amount_minor": 100,
            "currency": "EUR",
            "customer_email": "buyer@example.com",
        }
        payable = Payable(**(fields | overrides))  # type: ignore[arg-type]
        async with desk.database.unit_of_work() as session:
            await service.start_payment(
                session, context=desk.context, payable=payable, provider_name=provider
            )

    with pytest.raises(PaymentProviderUnknown):
        await start("paypal")
    with pytest.raises(PaymentProviderNotConfigured):
        await start("stripe")
    with pytest.raises(InvalidPayable):
        await start("manual", amount_minor=0)
    with pytest.raises(InvalidPayable):
        await start("manual", currency="XXX")
    await desk.store.ok("PUT", "/payment-settings", json={"manual_enabled": False})
    with pytest.raises(PaymentProviderNotConfigured):
        await start("manual")
    assert await desk.store.ok("GET", "/payments") == []
