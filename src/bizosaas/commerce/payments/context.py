"""What the payment use cases run with, one per process: the data-encryption keys that seal
the stores' provider secrets, the Stripe connection settings and HTTP client, and the optional
hook the orders code registers to follow payments.

Commerce's startup hook builds it (`build_payment_context`) and provides it as
`app.state.commerce_payments`; routes receive it through the `Payments` dependency.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, cast

import stripe
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.payments.schemas import PaymentRead
from bizosaas.commerce.settings import CommerceSettings
from bizosaas.kit.crypto import Keyring
from bizosaas.kit.tenancy import TenantScope
from bizosaas.settings import Settings

PROVIDED_AS = "commerce_payments"


class PaymentChangeKind(StrEnum):
    authorized = "authorized"
    captured = "captured"
    voided = "voided"
    refunded = "refunded"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class PaymentChange:
    """What the `on_payment_event` hook is told after a payment changed state."""

    scope: TenantScope
    change: PaymentChangeKind
    payment: PaymentRead
    """The payment as it now is."""
    amount_minor: int
    """What this change concerns (authorised, captured, refunded), in minor units."""


PaymentEventHook = Callable[[AsyncSession, PaymentChange], Awaitable[None]]
"""Called inside the unit of work that changed the payment (so what it writes commits with the
change, or not at all); an exception it raises undoes the change."""


@dataclass(slots=True)
class PaymentContext:
    data_keys: Keyring
    settings: CommerceSettings
    stripe_http: stripe.HTTPClient
    on_payment_event: PaymentEventHook | None = None

    def stripe_client(self, secret_key: str) -> stripe.StripeClient:
        return stripe.StripeClient(
            secret_key,
            base_addresses={"api": self.settings.stripe_api_base.rstrip("/")},
            http_client=self.stripe_http,
            max_network_retries=self.settings.stripe_network_retries,
        )

    async def close(self) -> None:
        await self.stripe_http.close_async()  # type: ignore[no-untyped-call]


def build_payment_context(
    settings: Settings,
    commerce_settings: CommerceSettings,
    *,
    on_payment_event: PaymentEventHook | None = None,
) -> PaymentContext:
    configured = settings.data_encryption_key
    return PaymentContext(
        data_keys=Keyring.open(
            settings.data_dir / "keys",
            configured=configured.get_secret_value() if configured else None,
        ),
        settings=commerce_settings,
        stripe_http=stripe.AIOHTTPClient(timeout=commerce_settings.stripe_timeout),
        on_payment_event=on_payment_event,
    )


async def payment_context(request: Request) -> PaymentContext:
    """The process's payment context, provided by commerce's startup hook."""
    return cast(PaymentContext, getattr(request.app.state, PROVIDED_AS))


Payments = Annotated[PaymentContext, Depends(payment_context)]
