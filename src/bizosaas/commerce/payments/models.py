"""Payment tables: a payment per attempt to pay an order, its transactions (what was asked of
the provider and what it answered), each store's payment settings, and the Stripe events a
store has applied.

Amounts are integer counts of the currency's minor unit, like every commerce amount. A payment
names its order by id without a foreign key: the orders tables are not part of this revision.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, IdMixin, TimestampMixin, utcnow
from bizosaas.kit.tenancy import TenantOwned


class PaymentStatus(StrEnum):
    pending = "pending"
    """Created; waiting for the customer (a card to confirm, a bank transfer to arrive)."""
    authorized = "authorized"
    """The money is held by the provider and can be captured or voided."""
    captured = "captured"
    """Paid (fully or partly captured): what was captured can be refunded."""
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    voided = "voided"
    failed = "failed"


class TransactionKind(StrEnum):
    authorization = "authorization"
    capture = "capture"
    void = "void"
    refund = "refund"


class TransactionStatus(StrEnum):
    succeeded = "succeeded"
    pending = "pending"
    failed = "failed"


class Payment(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "captured_minor >= 0 AND captured_minor <= amount_minor", name="captured_in_range"
        ),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= captured_minor", name="refunded_in_range"
        ),
        Index("ix_commerce_payments_provider_reference", "provider", "provider_reference"),
        # Two payments of one order never share an attempt number (and so a provider key).
        UniqueConstraint("tenant_id", "order_id", "attempt"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    provider: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30), default=PaymentStatus.pending.value)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    """What the customer is asked to pay (and, once authorized, what is held)."""
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_email: Mapped[str] = mapped_column(String(320))
    description: Mapped[str] = mapped_column(String(500), default="")
    provider_reference: Mapped[str | None] = mapped_column(String(255), default=None)
    """The provider's id of the payment (a Stripe PaymentIntent id); none for manual ones."""
    attempt: Mapped[int] = mapped_column(default=0)
    """Which payment of its order this is (0 first): part of the provider idempotency key."""
    error_code: Mapped[str | None] = mapped_column(String(100), default=None)
    error_message: Mapped[str | None] = mapped_column(String(500), default=None)


class PaymentTransaction(IdMixin, TenantOwned, Base):
    """One exchange with the provider: what was asked (kind, amount) and what it answered."""

    __tablename__ = "commerce_payment_transactions"

    payment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_payments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    provider_reference: Mapped[str | None] = mapped_column(String(255), default=None)
    operation_key: Mapped[str | None] = mapped_column(String(255), default=None)
    """The idempotency key the provider was sent: a retry sends the same one."""
    error_code: Mapped[str | None] = mapped_column(String(100), default=None)
    error_message: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentSettings(IdMixin, TenantOwned, TimestampMixin, Base):
    """A store's payment providers. Secrets are sealed (kit/crypto, bound to the store and the
    field); only their last four characters are kept in the clear, to tell keys apart."""

    __tablename__ = "commerce_payment_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    manual_enabled: Mapped[bool] = mapped_column(default=True)
    manual_instructions: Mapped[str] = mapped_column(Text, default="")
    stripe_enabled: Mapped[bool] = mapped_column(default=False)
    stripe_publishable_key: Mapped[str | None] = mapped_column(String(255), default=None)
    stripe_secret_key_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    stripe_secret_key_last4: Mapped[str | None] = mapped_column(String(4), default=None)
    stripe_webhook_secret_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    stripe_webhook_secret_last4: Mapped[str | None] = mapped_column(String(4), default=None)


class StripeEvent(IdMixin, TenantOwned, Base):
    """A Stripe event a store has applied: a delivery seen again applies nothing. Unique per
    store (two stores may share one Stripe account, and so its event ids)."""

    __tablename__ = "commerce_stripe_events"
    __table_args__ = (UniqueConstraint("tenant_id", "event_id"),)

    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
