"""Payments API input and output. Amounts are Decimal in the payment's currency (JSON strings
on output), like every commerce amount; secrets go in and never come out."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, StringConstraints

from bizosaas.commerce.schemas import Money
from bizosaas.kit.text import PlainText

PositiveMoney = Annotated[Money, Field(gt=0)]


class PaymentTransactionRead(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="authorization, capture, void or refund.")
    status: str = Field(description="succeeded, pending or failed.")
    amount: Decimal
    provider_reference: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime


class PaymentRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    provider: str = Field(description="stripe or manual.")
    status: str = Field(
        description="pending, authorized, captured, partially_refunded, refunded, voided or failed."
    )
    currency: str
    amount: Decimal = Field(description="What the customer is asked to pay.")
    captured: Decimal
    refunded: Decimal
    refundable: Decimal = Field(description="Captured and not yet refunded.")
    customer_email: str
    description: str
    provider_reference: str | None = Field(description="The Stripe PaymentIntent id, if any.")
    client_secret: str | None = Field(
        default=None,
        description="Only when a card payment is started: what Stripe.js confirms it with. "
        "Never stored, never listed.",
    )
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    transactions: list[PaymentTransactionRead] = Field(default_factory=list)


class OrderPaymentStart(BaseModel):
    provider: Literal["manual", "stripe"] = Field(
        description="manual: bank transfer or cash on delivery, captured when the money is in; "
        "stripe: a PaymentIntent, authorised now when `payment_method` is given."
    )
    payment_method: str | None = Field(
        default=None, max_length=255, description="Stripe: a PaymentMethod id to confirm with."
    )


class CaptureRequest(BaseModel):
    amount: PositiveMoney | None = Field(
        default=None, description="Part of the authorised amount; everything when left out."
    )


class RefundRequest(BaseModel):
    amount: PositiveMoney | None = Field(
        default=None, description="Part of what is refundable; everything when left out."
    )


class StripeSettingsRead(BaseModel):
    enabled: bool
    configured: bool = Field(description="A secret key is stored.")
    secret_key_last4: str | None
    webhook_secret_configured: bool
    webhook_secret_last4: str | None
    publishable_key: str | None
    webhook_path: str = Field(description="Where Stripe is to send this store's events.")


class ManualSettingsRead(BaseModel):
    enabled: bool
    instructions: str


class PaymentSettingsRead(BaseModel):
    stripe: StripeSettingsRead
    manual: ManualSettingsRead


SecretKey = Annotated[SecretStr, Field(max_length=255)]


class PaymentSettingsUpdate(BaseModel):
    """Fields left out stay as they are. A secret set to an empty string is removed."""

    stripe_enabled: bool | None = None
    stripe_secret_key: SecretKey | None = Field(
        default=None, description="`sk_...` or `rk_...` (a restricted key); write-only."
    )
    stripe_webhook_secret: SecretKey | None = Field(
        default=None, description="The endpoint's signing secret, `whsec_...`; write-only."
    )
    stripe_publishable_key: (
        Annotated[str, StringConstraints(max_length=255, pattern=r"^(pk_[A-Za-z0-9_]+)?$")] | None
    ) = None
    manual_enabled: bool | None = None
    manual_instructions: Annotated[PlainText, StringConstraints(max_length=5000)] | None = Field(
        default=None, description="Shown to buyers who pick a manual payment (bank details ...)."
    )
