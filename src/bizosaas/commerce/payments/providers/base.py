"""The payment provider interface.

A provider does one thing per call (authorise, capture, void, refund) and answers with a typed
`ProviderResult`; it keeps no state of its own. What a payment may do next (the state machine)
is the service's business, not the provider's. A provider raises the payment exceptions
(`PaymentDeclined`, `PaymentProviderRefused`, `PaymentProviderError`,
`PaymentProviderUnavailable`) for answers that change nothing; a declined authorisation is a
result (`ProviderOutcome.failed`), so the failed attempt is recorded.

Every call carries an idempotency key derived from our own operation (the payment's id and the
operation's sequence number): a retry of an operation whose answer was lost sends the same key,
and the provider answers it without moving money twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol

from bizosaas.kit.tenancy import TenantScope


@dataclass(frozen=True, slots=True)
class Payable:
    """What the payment service charges: an order's amount due, as the checkout hands it over."""

    scope: TenantScope
    order_id: uuid.UUID
    amount_minor: int
    """In the currency's minor unit (cents), more than zero."""
    currency: str
    """ISO 4217, upper case (EUR)."""
    customer_email: str
    description: str = ""


class ProviderOutcome(StrEnum):
    pending = "pending"
    """Accepted; the money is not there yet (a card still to confirm, a transfer to arrive)."""
    authorized = "authorized"
    captured = "captured"
    voided = "voided"
    refunded = "refunded"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class ProviderResult:
    outcome: ProviderOutcome
    amount_minor: int
    """What the outcome concerns: authorised, captured, refunded (minor units)."""
    reference: str | None = None
    """The provider's id of what it did (PaymentIntent, refund)."""
    client_secret: str | None = None
    """For a pending card payment: what the buyer's browser confirms it with (Stripe.js)."""
    error_code: str | None = None
    error_message: str | None = None


class PaymentProvider(Protocol):
    name: ClassVar[str]
    captures_pending: ClassVar[bool]
    """Whether a pending payment can be captured directly (money received by hand) rather
    than only an authorised one."""

    async def authorise(
        self, *, payable: Payable, idempotency_key: str, payment_method: str | None = None
    ) -> ProviderResult:
        """Open a payment for `payable` (and confirm it with `payment_method` when given)."""
        ...

    async def capture(
        self, *, reference: str | None, amount_minor: int, idempotency_key: str
    ) -> ProviderResult: ...

    async def void(self, *, reference: str | None, idempotency_key: str) -> ProviderResult: ...

    async def refund(
        self, *, reference: str | None, amount_minor: int, idempotency_key: str
    ) -> ProviderResult: ...
