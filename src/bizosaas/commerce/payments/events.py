"""Payment events, written to the outbox with the change that caused them. Amounts are Decimal
in the payment's currency (JSON strings)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from bizosaas.kit.module import EventType


class PaymentAuthorizedPayload(BaseModel):
    order_id: uuid.UUID = Field(description="The order the payment is for.")
    payment_id: uuid.UUID
    provider: str = Field(max_length=30, description="stripe or manual.")
    amount: Decimal = Field(description="What the provider holds for the order.")
    currency: str = Field(min_length=3, max_length=3)


class PaymentCapturedPayload(BaseModel):
    order_id: uuid.UUID = Field(description="The order the payment is for.")
    payment_id: uuid.UUID
    provider: str = Field(max_length=30, description="stripe or manual.")
    amount: Decimal = Field(description="What was captured (may be less than was asked).")
    amount_requested: Decimal = Field(description="What the payment asked for.")
    currency: str = Field(min_length=3, max_length=3)


class PaymentRefundedPayload(BaseModel):
    order_id: uuid.UUID = Field(description="The order the refunded payment paid.")
    payment_id: uuid.UUID
    provider: str = Field(max_length=30, description="stripe or manual.")
    amount: Decimal = Field(description="This refund.")
    total_refunded: Decimal = Field(description="Everything refunded of the payment so far.")
    captured: Decimal = Field(description="What the payment captured.")
    fully_refunded: bool
    currency: str = Field(min_length=3, max_length=3)


PAYMENT_AUTHORIZED = EventType(
    "commerce.payment_authorized",
    PaymentAuthorizedPayload,
    description="A card payment for an order was authorised: the money is held, to be "
    "captured or voided.",
)
PAYMENT_CAPTURED = EventType(
    "commerce.payment_captured",
    PaymentCapturedPayload,
    description="A payment of an order was captured (by staff, or confirmed by Stripe); "
    "`commerce.order_paid` follows once the order's captured payments reach its total.",
)
PAYMENT_REFUNDED = EventType(
    "commerce.payment_refunded",
    PaymentRefundedPayload,
    description="Part or all of an order's payment was refunded (by staff, or in Stripe).",
)

PAYMENT_EVENTS: list[EventType[Any]] = [PAYMENT_AUTHORIZED, PAYMENT_CAPTURED, PAYMENT_REFUNDED]
