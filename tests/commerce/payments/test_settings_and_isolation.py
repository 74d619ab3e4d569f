"""Payment settings keep Stripe's secrets sealed: never in an answer, never in a log; and a
store never sees, captures, voids or refunds another store's payment."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bizosaas.commerce.payments.models import PaymentSettings
from bizosaas.kit.tenancy import trusted_scope
from tests.commerce.conftest import Store
from tests.commerce.payments.conftest import Desk
from tests.commerce.stripe_fake import StripeFake, sign
from tests.identity.conftest import Invite


async def test_secrets_are_sealed_and_never_shown_or_logged(
    desk: Desk,
    stripe_fake: StripeFake,
    webhook_secret: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_key = stripe_fake.secret_key
    answers = []

    defaults = await desk.store.ok("GET", "/payment-settings")
    assert defaults["stripe"]["configured"] is False and defaults["manual"]["enabled"] is True
    saved = await desk.store.call(
        "PUT",
        "/payment-settings",
        json={
            "stripe_enabled": True,
            "stripe_secret_key": secret_key,
            "stripe_webhook_secret": webhook_secret,
            "stripe_publishable_key": "pk_test_abc123",
            "manual_instructions": "IBAN DE00 1234",
        },
    )
    answers.append(saved)
    stripe = saved.json()["stripe"]
    assert stripe["configured"] is True and stripe["enabled"] is True
    assert stripe["secret_key_last4"] == secret_key[-4:]
    assert stripe["webhook_secret_last4"] == webhook_secret[-4:]
    assert stripe["webhook_path"] == (
        f"/api/brain/commerce/webhooks/stripe/{desk.store.account.tenant_slug}"
    )
    answers.append(await desk.store.call("GET", "/payment-settings"))
    assert answers[-1].json() == saved.json()

    # Work that uses both secrets: a payment through Stripe, captured, and a webhook.
    started = await desk.start("stripe", payment_method="pm_card_visa")
    answers.append(await desk.act(started["id"], "capture"))
    payload = stripe_fake.event(
        "charge.refunded", stripe_fake.charge_of(started["provider_reference"])
    )
    answers.append(
        await desk.store.client.post(
            f"/api/brain/commerce/webhooks/stripe/{desk.store.account.tenant_slug}",
            content=payload,
            headers={"Stripe-Signature": sign(payload, webhook_secret)},
        )
    )
    # A key of the wrong kind is refused without echoing it.
    wrong = await desk.store.call(
        "PUT", "/payment-settings", json={"stripe_secret_key": "pk_live_notasecret99"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "commerce.invalid_payment_settings"
    answers.append(wrong)

    printed = capsys.readouterr()
    for text in [caplog.text, printed.out, printed.err, *(a.text for a in answers)]:
        assert secret_key not in text
        assert webhook_secret not in text
    assert "notasecret" not in wrong.text

    async with desk.database.unit_of_work(trusted_scope(desk.store.account.tenant_id)) as session:
        row = await session.scalar(select(PaymentSettings))
        assert row is not None and row.stripe_secret_key_sealed is not None
        assert row.stripe_secret_key_sealed.startswith("bze1:")
        assert secret_key[8:] not in row.stripe_secret_key_sealed
        assert webhook_secret[6:] not in (row.stripe_webhook_secret_sealed or "")


async def test_stripe_cannot_be_enabled_without_a_key_and_keys_can_be_removed(
    desk: Desk, stripe_fake: StripeFake
) -> None:
    refused = await desk.store.call("PUT", "/payment-settings", json={"stripe_enabled": True})
    assert refused.status_code == 422
    assert refused.json()["code"] == "commerce.invalid_payment_settings"
    assert (await desk.store.ok("GET", "/payment-settings"))["stripe"]["enabled"] is False

    await desk.use_stripe(stripe_fake)
    cleared = await desk.store.ok(
        "PUT", "/payment-settings", json={"stripe_enabled": False, "stripe_secret_key": ""}
    )
    assert cleared["stripe"]["configured"] is False
    assert cleared["stripe"]["secret_key_last4"] is None


async def test_staff_see_payments_but_cannot_work_them(desk: Desk, invite: Invite) -> None:
    started = await desk.start()
    staff = Store(desk.store.client, await invite(desk.store.account, "staff"))
    assert [p["id"] for p in await staff.ok("GET", "/payments")] == [started["id"]]
    await staff.ok("GET", "/payment-settings")
    await staff.problem("PUT", "/payment-settings", 403, "auth.forbidden", json={})
    await staff.problem(
        "POST", f"/payments/{started['id']}/capture", 403, "auth.forbidden", json={}
    )
    assert (await desk.read(started["id"]))["status"] == "pending"


async def test_another_stores_payment_is_not_found_and_unchanged(
    desk: Desk, rival: Store, stripe_fake: StripeFake
) -> None:
    pending = await desk.start(amount_minor=5000)
    before = await desk.read(pending["id"])
    for method, path in [
        ("GET", f"/payments/{pending['id']}"),
        ("POST", f"/payments/{pending['id']}/capture"),
        ("POST", f"/payments/{pending['id']}/void"),
        ("POST", f"/payments/{pending['id']}/refund"),
    ]:
        await rival.problem(method, path, 404, "commerce.not_found")
    assert await rival.ok("GET", "/payments") == []
    assert await rival.ok("GET", f"/payments?order_id={pending['order_id']}") == []
    assert await desk.read(pending["id"]) == before

    # The rival's settings are its own: configuring Stripe there touches nothing here.
    await Desk(rival, desk.database, desk.context).use_stripe(stripe_fake)
    assert (await desk.store.ok("GET", "/payment-settings"))["stripe"]["configured"] is False
