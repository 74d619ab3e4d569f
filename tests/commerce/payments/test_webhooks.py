"""Stripe webhooks: verified with the SDK's signature check against the store's signing
secret, each event applied once however often it is delivered; a bad signature changes
nothing."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import func, select

from bizosaas.commerce.payments.models import StripeEvent
from bizosaas.kit.tenancy import trusted_scope
from tests.commerce.payments.conftest import Desk
from tests.commerce.stripe_fake import StripeFake, sign


async def deliver(
    desk: Desk, payload: bytes, signature: str | None, *, slug: str | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await desk.store.client.post(
        f"/api/brain/commerce/webhooks/stripe/{slug or desk.store.account.tenant_slug}",
        content=payload,
        headers=headers,
    )


async def stored_events(desk: Desk) -> int:
    scope = trusted_scope(desk.store.account.tenant_id)
    async with desk.database.unit_of_work(scope) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(StripeEvent)
                .where(StripeEvent.tenant_id == desk.store.account.tenant_id)
            )
            or 0
        )


async def test_a_payment_confirmed_in_the_browser_is_paid_once_however_often_stripe_tells(
    stripe_desk: Desk, stripe_fake: StripeFake, webhook_secret: str
) -> None:
    started = await stripe_desk.start("stripe", amount_minor=4200)
    intent_id = started["provider_reference"]

    authorised = stripe_fake.event(
        "payment_intent.amount_capturable_updated", stripe_fake.authorise_intent(intent_id)
    )
    answer = await deliver(stripe_desk, authorised, sign(authorised, webhook_secret))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] is True
    assert (await stripe_desk.read(started["id"]))["status"] == "authorized"

    intent = {**stripe_fake.intents[intent_id], "status": "succeeded", "amount_received": 4200}
    succeeded = stripe_fake.event("payment_intent.succeeded", intent)
    answers = [
        await deliver(stripe_desk, succeeded, sign(succeeded, webhook_secret)) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [(a.json()["applied"], a.json()["duplicate"]) for a in answers] == [
        (True, False),
        (False, True),
        (False, True),
    ]
    payment = await stripe_desk.read(started["id"])
    assert (payment["status"], payment["captured"]) == ("captured", "42.00")
    assert [t["kind"] for t in payment["transactions"]].count("capture") == 1
    assert [e["amount"] for e in await stripe_desk.events("commerce.payment_captured")] == ["42.00"]
    assert len(await stripe_desk.events("commerce.payment_authorized")) == 1
    assert await stored_events(stripe_desk) == 2


async def test_a_bad_signature_is_refused_and_changes_nothing(
    stripe_desk: Desk, stripe_fake: StripeFake, webhook_secret: str
) -> None:
    started = await stripe_desk.start("stripe", payment_method="pm_card_visa")
    before = await stripe_desk.read(started["id"])
    intent = {**stripe_fake.intents[started["provider_reference"]], "status": "succeeded"}
    intent["amount_received"] = intent["amount"]
    payload = stripe_fake.event("payment_intent.succeeded", intent)

    forged: list[str | None] = [
        None,
        "t=1,v1=deadbeef",
        sign(payload, "whsec_someoneelsessecret0000"),
        sign(payload, webhook_secret, timestamp=int(time.time()) - 3600),  # replayed later
        sign(payload + b" ", webhook_secret),
    ]
    for signature in forged:
        answer = await deliver(stripe_desk, payload, signature)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "commerce.webhook_signature_invalid"
    tampered = payload.replace(b'"amount_received": 5000', b'"amount_received": 1')
    answer = await deliver(stripe_desk, tampered, sign(payload, webhook_secret))
    assert answer.json()["code"] == "commerce.webhook_signature_invalid"

    assert await stripe_desk.read(started["id"]) == before
    assert await stored_events(stripe_desk) == 0
    assert await stripe_desk.events("commerce.payment_captured") == []
    # The genuine delivery still applies afterwards.
    genuine = await deliver(stripe_desk, payload, sign(payload, webhook_secret))
    assert genuine.json()["applied"] is True


async def test_refunds_made_in_stripe_are_recorded_once_and_our_own_are_not_doubled(
    stripe_desk: Desk, stripe_fake: StripeFake, webhook_secret: str
) -> None:
    started = await stripe_desk.start("stripe", amount_minor=8000, payment_method="pm_card_visa")
    await stripe_desk.act(started["id"], "capture")
    await stripe_desk.act(started["id"], "refund", amount="20.00")
    intent_id = started["provider_reference"]

    ours = stripe_fake.event("charge.refunded", stripe_fake.charge_of(intent_id))
    answer = await deliver(stripe_desk, ours, sign(ours, webhook_secret))
    assert answer.json()["applied"] is False  # already recorded by our own refund
    assert (await stripe_desk.read(started["id"]))["refunded"] == "20.00"

    # Staff refund another 30.00 in Stripe's dashboard.
    stripe_fake.refunds["re_dashboard"] = {
        "id": "re_dashboard",
        "object": "refund",
        "amount": 3000,
        "payment_intent": intent_id,
        "currency": "eur",
        "status": "succeeded",
    }
    dashboard = stripe_fake.event("charge.refunded", stripe_fake.charge_of(intent_id))
    for _ in range(3):
        await deliver(stripe_desk, dashboard, sign(dashboard, webhook_secret))
    payment = await stripe_desk.read(started["id"])
    assert (payment["status"], payment["refunded"], payment["refundable"]) == (
        "partially_refunded",
        "50.00",
        "30.00",
    )
    refunds = [t for t in payment["transactions"] if t["kind"] == "refund"]
    assert [r["amount"] for r in refunds] == ["20.00", "30.00"]
    assert len(await stripe_desk.events("commerce.payment_refunded")) == 2


async def test_a_failed_confirmation_marks_the_payment_failed(
    stripe_desk: Desk, stripe_fake: StripeFake, webhook_secret: str
) -> None:
    started = await stripe_desk.start("stripe")
    intent: dict[str, Any] = dict(stripe_fake.intents[started["provider_reference"]])
    intent["last_payment_error"] = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }
    payload = stripe_fake.event("payment_intent.payment_failed", intent)
    await deliver(stripe_desk, payload, sign(payload, webhook_secret))
    payment = await stripe_desk.read(started["id"])
    assert (payment["status"], payment["error_code"]) == ("failed", "insufficient_funds")


async def test_unknown_stores_and_stores_without_a_signing_secret_are_refused(
    desk: Desk, stripe_fake: StripeFake
) -> None:
    payload = stripe_fake.event("payment_intent.succeeded", {"id": "pi_x"})
    unknown = await deliver(desk, payload, sign(payload, "whsec_x"), slug="no-such-store")
    assert unknown.status_code == 404 and unknown.json()["code"] == "commerce.not_found"
    unset = await deliver(desk, payload, sign(payload, "whsec_x"))
    assert unset.status_code == 409
    assert unset.json()["code"] == "commerce.payment_provider_not_configured"


async def test_an_intent_cancelled_in_stripe_voids_the_payment_once(
    stripe_desk: Desk, stripe_fake: StripeFake, webhook_secret: str
) -> None:
    started = await stripe_desk.start("stripe", payment_method="pm_card_visa")
    intent = {**stripe_fake.intents[started["provider_reference"]], "status": "canceled"}
    payload = stripe_fake.event("payment_intent.canceled", intent)
    answers = [
        (await deliver(stripe_desk, payload, sign(payload, webhook_secret))).json()
        for _ in range(2)
    ]
    assert [(a["applied"], a["duplicate"]) for a in answers] == [(True, False), (False, True)]
    payment = await stripe_desk.read(started["id"])
    assert payment["status"] == "voided"
    assert [t["kind"] for t in payment["transactions"]] == ["authorization", "void"]
