"""Payment test fixtures: a Stripe fake on a local port that the app's Stripe SDK talks to,
and a desk to start payments (as the checkout will) and work them through the staff API."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bizosaas.commerce.currencies import MINOR_UNITS
from bizosaas.commerce.payments import service
from bizosaas.commerce.payments.context import PROVIDED_AS, PaymentContext
from bizosaas.commerce.payments.providers.base import Payable
from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxEvent
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.settings import Settings
from tests.commerce.conftest import Store
from tests.commerce.payments.orders import order_totalling
from tests.commerce.stripe_fake import StripeFake
from tests.support.lifespan import app_lifespan


@pytest.fixture
async def stripe_fake() -> AsyncIterator[StripeFake]:
    fake = StripeFake(secret_key=f"sk_test_{secrets.token_hex(16)}")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def webhook_secret() -> str:
    return f"whsec_{secrets.token_hex(16)}"


@pytest.fixture
async def app(
    settings: Settings,
    database: Database,
    stripe_fake: StripeFake,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[FastAPI]:
    """The app with its Stripe SDK pointed at the fake; no SDK-level retries, so each test
    decides what is retried."""
    monkeypatch.setenv("BIZOSAAS_COMMERCE_STRIPE_API_BASE", stripe_fake.url)
    monkeypatch.setenv("BIZOSAAS_COMMERCE_STRIPE_NETWORK_RETRIES", "0")
    monkeypatch.setenv("BIZOSAAS_COMMERCE_STRIPE_TIMEOUT", "5")
    application = create_app(settings, database=database)
    async with app_lifespan(application):
        yield application


@pytest.fixture
def payments_context(app: FastAPI) -> PaymentContext:
    context: PaymentContext = getattr(app.state, PROVIDED_AS)
    return context


@dataclass
class Desk:
    """One store's payments: started through the service (the checkout's entry point) for a
    real order of the store, then worked through the staff API."""

    store: Store
    database: Database
    context: PaymentContext

    async def start(
        self,
        provider: str = "manual",
        *,
        amount_minor: int = 5000,
        currency: str = "EUR",
        order_id: uuid.UUID | None = None,
        payment_method: str | None = None,
    ) -> dict[str, Any]:
        if order_id is None:
            # A payable the service refuses (no amount, an unknown currency) needs no order.
            valid = amount_minor > 0 and currency in MINOR_UNITS
            order_id = (
                await order_totalling(self.store, amount_minor, currency) if valid else uuid.uuid4()
            )
        payable = Payable(
            scope=trusted_scope(self.store.account.tenant_id),
            order_id=order_id,
            amount_minor=amount_minor,
            currency=currency,
            customer_email="buyer@example.com",
            description="Order 1001",
        )
        async with self.database.unit_of_work() as session:
            payment = await service.start_payment(
                session,
                context=self.context,
                payable=payable,
                provider_name=provider,
                payment_method=payment_method,
            )
        return payment.model_dump(mode="json")

    async def act(
        self, payment_id: str, action: str, *, key: str | None = None, **body: Any
    ) -> httpx.Response:
        headers = dict(self.store.account.headers)
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
        return await self.store.client.post(
            f"/api/brain/commerce/payments/{payment_id}/{action}",
            headers=headers,
            json=body or None,
        )

    async def read(self, payment_id: str) -> dict[str, Any]:
        return dict(await self.store.ok("GET", f"/payments/{payment_id}"))

    async def events(self, name: str) -> list[dict[str, Any]]:
        async with self.database.unit_of_work() as session:
            rows = await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.name == name)
                .where(OutboxEvent.tenant_id == self.store.account.tenant_id)
                .order_by(OutboxEvent.id)
            )
            return [row.payload for row in rows]

    async def use_stripe(self, fake: StripeFake, webhook_secret: str | None = None) -> Any:
        body: dict[str, Any] = {"stripe_enabled": True, "stripe_secret_key": fake.secret_key}
        if webhook_secret:
            body["stripe_webhook_secret"] = webhook_secret
        return await self.store.ok("PUT", "/payment-settings", json=body)


@pytest.fixture
def desk(shop: Store, database: Database, payments_context: PaymentContext) -> Desk:
    return Desk(shop, database, payments_context)


@pytest.fixture
async def stripe_desk(desk: Desk, stripe_fake: StripeFake, webhook_secret: str) -> Desk:
    await desk.use_stripe(stripe_fake, webhook_secret)
    return desk
