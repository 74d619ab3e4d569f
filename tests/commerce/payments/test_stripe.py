"""Stripe through the official SDK against a local fake of its API: authorise, capture in
full or part, void, refund in steps; Stripe's errors and an unreachable Stripe answer clear
problems and record nothing; a retry never charges twice."""

from __future__ import annotations

import uuid

import pytest

from bizosaas.commerce.payments.exceptions import PaymentProviderUnavailable
from tests.commerce.payments.conftest import Desk
from tests.commerce.payments.orders import order_totalling
from tests.commerce.stripe_fake import StripeFake


async def test_a_card_is_authorised_captured_in_part_and_refunded_in_steps(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    order_id = await order_totalling(stripe_desk.store, 5000)
    started = await stripe_desk.start(
        "stripe", order_id=order_id, amount_minor=5000, payment_method="pm_card_visa"
    )
    assert started["status"] == "authorized" and started["provider"] == "stripe"
    intent_id = started["provider_reference"]
    intent = stripe_fake.intents[intent_id]
    assert (intent["amount"], intent["currency"], intent["capture_method"]) == (
        5000,
        "eur",
        "manual",
    )
    assert intent["metadata"]["order_id"] == str(order_id)
    assert (await stripe_desk.events("commerce.payment_authorized"))[0]["amount"] == "50.00"

    captured = await stripe_desk.act(started["id"], "capture", amount="30.00")
    assert captured.status_code == 200, captured.text
    assert captured.json()["captured"] == "30.00"
    assert stripe_fake.intents[intent_id]["amount_received"] == 3000
    assert [c.params["amount_to_capture"] for c in stripe_fake.calls("/capture")] == ["3000"]

    partial = await stripe_desk.act(started["id"], "refund", amount="12.50")
    assert partial.json()["status"] == "partially_refunded"
    rest = await stripe_desk.act(started["id"], "refund")
    assert rest.json()["status"] == "refunded" and rest.json()["refunded"] == "30.00"
    assert sorted(r["amount"] for r in stripe_fake.refunds.values()) == [1250, 1750]

    refused = await stripe_desk.act(started["id"], "refund", amount="0.01")
    assert refused.json()["code"] == "commerce.payment_invalid_state"
    assert len(stripe_fake.calls("/v1/refunds")) == 2  # refused here, never asked of Stripe

    payment = await stripe_desk.read(started["id"])
    assert [
        (t["kind"], t["amount"], bool(t["provider_reference"])) for t in payment["transactions"]
    ] == [
        ("authorization", "50.00", True),
        ("capture", "30.00", True),
        ("refund", "12.50", True),
        ("refund", "17.50", True),
    ]
    assert [e["amount"] for e in await stripe_desk.events("commerce.payment_captured")] == ["30.00"]
    assert [e["total_refunded"] for e in await stripe_desk.events("commerce.payment_refunded")] == [
        "12.50",
        "30.00",
    ]


async def test_a_payment_without_a_card_waits_for_the_buyer_and_can_be_voided(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    started = await stripe_desk.start("stripe", amount_minor=1999)
    assert started["status"] == "pending"
    assert started["client_secret"].startswith(started["provider_reference"] + "_secret_")
    listed = await stripe_desk.store.ok("GET", f"/payments?order_id={started['order_id']}")
    assert listed[0]["client_secret"] is None  # handed to the checkout once, never listed

    voided = await stripe_desk.act(started["id"], "void")
    assert voided.json()["status"] == "voided"
    assert stripe_fake.intents[started["provider_reference"]]["status"] == "canceled"


async def test_a_declined_card_is_a_failed_payment(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    started = await stripe_desk.start("stripe", payment_method="pm_card_chargeDeclined")
    assert started["status"] == "failed"
    assert started["error_code"] == "generic_decline"
    assert started["error_message"] == "Your card was declined."
    assert started["transactions"][0]["status"] == "failed"
    assert await stripe_desk.events("commerce.payment_authorized") == []
    refused = await stripe_desk.act(started["id"], "capture")
    assert refused.json()["code"] == "commerce.payment_invalid_state"


async def test_capture_more_than_authorised_is_refused_before_stripe_is_asked(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    started = await stripe_desk.start("stripe", amount_minor=5000, payment_method="pm_card_visa")
    answer = await stripe_desk.act(started["id"], "capture", amount="50.01")
    assert answer.status_code == 409
    assert answer.json()["code"] == "commerce.payment_capture_exceeds_authorized"
    assert stripe_fake.calls("/capture") == []
    assert (await stripe_desk.read(started["id"]))["status"] == "authorized"


async def test_stripe_errors_are_clear_problems_and_change_nothing(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    started = await stripe_desk.start("stripe", payment_method="pm_card_visa")
    before = await stripe_desk.read(started["id"])

    stripe_fake.fail_next(
        400,
        {
            "type": "invalid_request_error",
            "code": "payment_intent_unexpected_state",
            "message": "This PaymentIntent could not be captured because it has expired.",
        },
    )
    refused = await stripe_desk.act(started["id"], "capture")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["code"] == "commerce.payment_provider_refused"
    assert body["provider_code"] == "payment_intent_unexpected_state"
    assert "expired" in body["detail"]

    stripe_fake.fail_next(500, {"type": "api_error", "message": "An unknown error occurred"})
    failed = await stripe_desk.act(started["id"], "capture")
    assert failed.status_code == 502
    assert failed.json()["code"] == "commerce.payment_provider_error"

    assert await stripe_desk.read(started["id"]) == before
    assert await stripe_desk.events("commerce.payment_captured") == []


async def test_a_wrong_secret_key_is_a_provider_error_that_does_not_quote_the_key(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    started = await stripe_desk.start("stripe", payment_method="pm_card_visa")
    await stripe_desk.store.ok(
        "PUT", "/payment-settings", json={"stripe_secret_key": "sk_test_wrongwrongwrong1234"}
    )
    answer = await stripe_desk.act(started["id"], "capture")
    assert answer.status_code == 502
    assert answer.json()["code"] == "commerce.payment_provider_error"
    assert "1234" not in answer.text and "wrong" not in answer.text
    assert (await stripe_desk.read(started["id"]))["status"] == "authorized"


async def test_an_unreachable_stripe_is_a_502_and_nothing_is_recorded_as_paid(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    started = await stripe_desk.start("stripe", payment_method="pm_card_visa")
    before = await stripe_desk.read(started["id"])
    await stripe_fake.stop()

    answer = await stripe_desk.act(started["id"], "capture", key="capture-while-down")
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "commerce.payment_provider_unavailable"
    assert await stripe_desk.read(started["id"]) == before
    assert await stripe_desk.events("commerce.payment_captured") == []

    with pytest.raises(PaymentProviderUnavailable):
        await stripe_desk.start("stripe", order_id=uuid.UUID(started["order_id"]))
    assert len(await stripe_desk.store.ok("GET", "/payments")) == 1


async def test_retried_requests_never_charge_twice(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    started = await stripe_desk.start("stripe", payment_method="pm_card_visa")

    first = await stripe_desk.act(started["id"], "capture", key="capture-1", amount="40.00")
    again = await stripe_desk.act(started["id"], "capture", key="capture-1", amount="40.00")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert len(stripe_fake.calls("/capture")) == 1
    other_body = await stripe_desk.act(started["id"], "capture", key="capture-1", amount="1")
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency.key_reused"

    # Stripe refunds, but the answer is lost on the way back: nothing is recorded here, and
    # the retry sends Stripe the same key, which answers from its record: one refund.
    stripe_fake.drop_next_answer()
    lost = await stripe_desk.act(started["id"], "refund", key="refund-1", amount="15.00")
    assert lost.status_code == 502
    assert lost.json()["code"] == "commerce.payment_provider_unavailable"
    assert (await stripe_desk.read(started["id"]))["refunded"] == "0.00"
    retried = await stripe_desk.act(started["id"], "refund", key="refund-1", amount="15.00")
    assert retried.status_code == 200, retried.text
    assert retried.json()["refunded"] == "15.00"
    refund_calls = stripe_fake.calls("/v1/refunds")
    assert len(refund_calls) == 2 and refund_calls[1].replayed
    assert refund_calls[0].idempotency_key == refund_calls[1].idempotency_key
    assert [r["amount"] for r in stripe_fake.refunds.values()] == [1500]
    assert len(await stripe_desk.events("commerce.payment_refunded")) == 1


async def test_a_checkout_retried_after_a_lost_answer_opens_one_intent(
    stripe_desk: Desk, stripe_fake: StripeFake
) -> None:
    order_id = await order_totalling(stripe_desk.store, 5000)
    stripe_fake.drop_next_answer()
    with pytest.raises(PaymentProviderUnavailable):
        await stripe_desk.start("stripe", order_id=order_id, payment_method="pm_card_visa")
    assert await stripe_desk.store.ok("GET", f"/payments?order_id={order_id}") == []

    retried = await stripe_desk.start("stripe", order_id=order_id, payment_method="pm_card_visa")
    assert retried["status"] == "authorized"
    creates = stripe_fake.calls("/v1/payment_intents")
    assert len(creates) == 2 and creates[1].replayed
    assert creates[0].idempotency_key == creates[1].idempotency_key
    assert list(stripe_fake.intents) == [retried["provider_reference"]]  # one intent, one hold
