"""Payments under concurrency, against a database of their own (the writes really commit):
refunds racing on one payment never refund more than was captured, and one Stripe event
delivered many times at once is applied once."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bizosaas.commerce.payments import service, webhooks
from bizosaas.commerce.payments.context import PaymentContext, build_payment_context
from bizosaas.commerce.payments.exceptions import PaymentInvalidState, PaymentRefundExceedsCaptured
from bizosaas.commerce.payments.providers.base import Payable
from bizosaas.commerce.payments.schemas import PaymentSettingsUpdate
from bizosaas.commerce.payments.store_settings import update_settings
from bizosaas.commerce.settings import CommerceSettings
from bizosaas.identity import service as identity
from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxEvent
from bizosaas.kit.tenancy import TenantScope, trusted_scope
from bizosaas.settings import Settings
from tests.commerce.stripe_fake import StripeFake, sign
from tests.support.backends import DatabaseTarget

CONTENDERS = {"postgres": (12, 8), "sqlite": (6, 3)}


@pytest.fixture
async def own(
    fresh_target: DatabaseTarget, tmp_path: Path, stripe_fake: StripeFake
) -> AsyncIterator[tuple[Database, PaymentContext, int]]:
    contenders, pool = CONTENDERS[fresh_target.backend]
    database = Database.from_url(fresh_target.app_url, pool_size=pool)
    context = build_payment_context(
        Settings(data_dir=tmp_path / "data"),
        CommerceSettings(stripe_api_base=stripe_fake.url, stripe_network_retries=0),
    )
    try:
        yield database, context, contenders
    finally:
        await context.close()
        await database.dispose()


async def new_store(database: Database) -> tuple[TenantScope, str]:
    async with database.unit_of_work() as session:
        tenant = await identity.create_tenant(session, name="Race shop")
    return trusted_scope(tenant.id), tenant.slug


async def start(
    database: Database, context: PaymentContext, payable: Payable, provider: str
) -> str:
    async with database.unit_of_work(payable.scope) as session:
        payment = await service.start_payment(
            session,
            context=context,
            payable=payable,
            provider_name=provider,
            payment_method="pm_card_visa" if provider == "stripe" else None,
        )
    return str(payment.id)


async def count_events(database: Database, scope: TenantScope, name: str) -> int:
    async with database.unit_of_work(scope) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.name == name, OutboxEvent.tenant_id == scope.tenant_id)
            )
            or 0
        )


async def test_racing_refunds_never_exceed_what_was_captured(
    own: tuple[Database, PaymentContext, int],
) -> None:
    database, context, contenders = own
    scope, _ = await new_store(database)
    payable = Payable(scope, uuid.uuid4(), 5000, "EUR", "buyer@example.com")
    payment_id = uuid.UUID(await start(database, context, payable, "manual"))
    async with database.unit_of_work(scope) as session:
        await service.capture_payment(
            session, context=context, scope=scope, payment_id=payment_id, amount=None
        )
    go = asyncio.Event()

    async def refund_ten() -> bool:
        await go.wait()
        try:
            async with database.unit_of_work(scope) as session:
                await service.refund_payment(
                    session,
                    context=context,
                    scope=scope,
                    payment_id=payment_id,
                    amount=Decimal("10.00"),
                )
        except (PaymentRefundExceedsCaptured, PaymentInvalidState):
            return False  # more than is left, or nothing left at all
        return True

    tasks = [asyncio.create_task(refund_ten()) for _ in range(contenders)]
    await asyncio.sleep(0)
    go.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count(True) == 5
    async with database.unit_of_work(scope) as session:
        payment = await service.read_payment(session, scope=scope, payment_id=payment_id)
    assert (payment.status, str(payment.refunded)) == ("refunded", "50.00")
    assert await count_events(database, scope, "commerce.payment_refunded") == 5


async def test_one_event_delivered_many_times_at_once_applies_once(
    own: tuple[Database, PaymentContext, int], stripe_fake: StripeFake
) -> None:
    database, context, contenders = own
    scope, slug = await new_store(database)
    signing_secret = f"whsec_{secrets.token_hex(12)}"
    async with database.unit_of_work(scope) as session:
        await update_settings(
            session,
            context=context,
            scope=scope,
            data=PaymentSettingsUpdate.model_validate(
                {
                    "stripe_enabled": True,
                    "stripe_secret_key": stripe_fake.secret_key,
                    "stripe_webhook_secret": signing_secret,
                }
            ),
        )
    payable = Payable(scope, uuid.uuid4(), 2500, "EUR", "buyer@example.com")
    payment_id = uuid.UUID(await start(database, context, payable, "stripe"))
    async with database.unit_of_work(scope) as session:
        reference = (
            await service.read_payment(session, scope=scope, payment_id=payment_id)
        ).provider_reference
    assert reference is not None
    intent = {**stripe_fake.intents[reference], "status": "succeeded", "amount_received": 2500}
    payload = stripe_fake.event("payment_intent.succeeded", intent)
    go = asyncio.Event()

    async def deliver() -> webhooks.WebhookReceipt:
        await go.wait()
        async with database.unit_of_work() as session:
            return await webhooks.receive_stripe_event(
                session,
                context=context,
                store_slug=slug,
                payload=payload,
                signature=sign(payload, signing_secret),
            )

    tasks = [asyncio.create_task(deliver()) for _ in range(contenders)]
    await asyncio.sleep(0)
    go.set()
    receipts = await asyncio.gather(*tasks)
    assert [r.applied for r in receipts].count(True) == 1
    assert [r.duplicate for r in receipts].count(True) == contenders - 1
    async with database.unit_of_work(scope) as session:
        payment = await service.read_payment(session, scope=scope, payment_id=payment_id)
    assert (payment.status, str(payment.captured)) == ("captured", "25.00")
    assert [t.kind for t in payment.transactions].count("capture") == 1
    assert await count_events(database, scope, "commerce.payment_captured") == 1
