"""Commerce: payments (their transactions), stores' payment settings and applied Stripe
events, under tenant row-level security.

`commerce_payments.order_id` names the order (commerce_0002) without a foreign key: payments
are only ever opened for an order found in the caller's store (service/order_payments.py), and
orders are never deleted.

Revision ID: commerce_0005
Revises: commerce_0004
Create Date: 2026-12-03 16:14:29.053643
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bizosaas.kit.db import UTCDateTime
from bizosaas.kit.tenancy import drop_rls_statements, rls_policy_statements

revision: str = "commerce_0005"
down_revision: str | None = "commerce_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "commerce_payment_settings",
    "commerce_payments",
    "commerce_payment_transactions",
    "commerce_stripe_events",
)


def upgrade() -> None:
    op.create_table(
        "commerce_payment_settings",
        sa.Column("manual_enabled", sa.Boolean(), nullable=False),
        sa.Column("manual_instructions", sa.Text(), nullable=False),
        sa.Column("stripe_enabled", sa.Boolean(), nullable=False),
        sa.Column("stripe_publishable_key", sa.String(length=255), nullable=True),
        sa.Column("stripe_secret_key_sealed", sa.Text(), nullable=True),
        sa.Column("stripe_secret_key_last4", sa.String(length=4), nullable=True),
        sa.Column("stripe_webhook_secret_sealed", sa.Text(), nullable=True),
        sa.Column("stripe_webhook_secret_last4", sa.String(length=4), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_payment_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_commerce_payment_settings_tenant_id")),
    )
    with op.batch_alter_table("commerce_payment_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_payment_settings_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_payments",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_commerce_payments_amount_positive")),
        sa.CheckConstraint(
            "captured_minor >= 0 AND captured_minor <= amount_minor",
            name=op.f("ck_commerce_payments_captured_in_range"),
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= captured_minor",
            name=op.f("ck_commerce_payments_refunded_in_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_payments")),
        sa.UniqueConstraint(
            "tenant_id",
            "order_id",
            "attempt",
            name=op.f("uq_commerce_payments_tenant_id_order_id_attempt"),
        ),
    )
    with op.batch_alter_table("commerce_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_payments_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            "ix_commerce_payments_provider_reference",
            ["provider", "provider_reference"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_payments_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_payment_transactions",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("operation_key", sa.String(length=255), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["commerce_payments.id"],
            name=op.f("fk_commerce_payment_transactions_payment_id_commerce_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_payment_transactions")),
    )
    with op.batch_alter_table("commerce_payment_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_payment_transactions_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_payment_transactions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_stripe_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_stripe_events")),
        sa.UniqueConstraint(
            "tenant_id", "event_id", name=op.f("uq_commerce_stripe_events_tenant_id_event_id")
        ),
    )
    with op.batch_alter_table("commerce_stripe_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_stripe_events_tenant_id"), ["tenant_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            for statement in rls_policy_statements(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            for statement in drop_rls_statements(table):
                op.execute(statement)
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
