"""Commerce selling: shipping zones and methods, tax settings, vouchers (with per-customer use
counters) and promotions, checkouts and their lines, orders with their lines, fulfilments and
timeline, and the per-tenant order number counter; all under tenant row-level security.

Revision ID: commerce_0002
Revises: commerce_0001
Create Date: 2026-12-03 16:11:59.205814
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bizosaas.kit.db import UTCDateTime
from bizosaas.kit.tenancy import drop_rls_statements, rls_policy_statements

revision: str = "commerce_0002"
down_revision: str | None = "commerce_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "commerce_shipping_zones",
    "commerce_shipping_methods",
    "commerce_tax_configs",
    "commerce_vouchers",
    "commerce_voucher_customer_uses",
    "commerce_promotions",
    "commerce_checkouts",
    "commerce_checkout_lines",
    "commerce_order_counters",
    "commerce_orders",
    "commerce_order_lines",
    "commerce_fulfilments",
    "commerce_order_events",
)


def upgrade() -> None:
    op.create_table(
        "commerce_order_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_commerce_order_counters")),
    )
    op.create_table(
        "commerce_orders",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("checkout_id", sa.Uuid(), nullable=True),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("customer_user_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("payment_status", sa.String(length=30), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("billing_address", sa.JSON(), nullable=False),
        sa.Column("shipping_address", sa.JSON(), nullable=False),
        sa.Column("shipping_method_name", sa.String(length=200), nullable=False),
        sa.Column("voucher_code", sa.String(length=60), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_orders_channel_id_commerce_channels"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_orders")),
        sa.UniqueConstraint("checkout_id", name=op.f("uq_commerce_orders_checkout_id")),
        sa.UniqueConstraint(
            "tenant_id", "number", name=op.f("uq_commerce_orders_tenant_id_number")
        ),
    )
    with op.batch_alter_table("commerce_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_orders_customer_user_id"), ["customer_user_id"], unique=False
        )
        batch_op.create_index(
            "ix_commerce_orders_tenant_created", ["tenant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_orders_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_shipping_zones",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_shipping_zones_channel_id_commerce_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_shipping_zones")),
    )
    with op.batch_alter_table("commerce_shipping_zones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_shipping_zones_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_shipping_zones_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_tax_configs",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("default_rate_bp", sa.Integer(), nullable=False),
        sa.Column("country_rates_bp", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_tax_configs_channel_id_commerce_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_tax_configs")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_commerce_tax_configs_channel_id")),
    )
    with op.batch_alter_table("commerce_tax_configs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_tax_configs_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_vouchers",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("percent_bp", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("min_spend_minor", sa.BigInteger(), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("usage_limit_per_customer", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_commerce_vouchers_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_vouchers_channel_id_commerce_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_vouchers")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_commerce_vouchers_tenant_id_code")),
    )
    with op.batch_alter_table("commerce_vouchers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_vouchers_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_vouchers_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_fulfilments",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commerce_orders.id"],
            name=op.f("fk_commerce_fulfilments_order_id_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_fulfilments")),
    )
    with op.batch_alter_table("commerce_fulfilments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_fulfilments_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_fulfilments_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_order_events",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commerce_orders.id"],
            name=op.f("fk_commerce_order_events_order_id_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_events")),
    )
    with op.batch_alter_table("commerce_order_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commerce_order_events_order", ["order_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_order_events_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_order_lines",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("product_name", sa.String(length=250), nullable=False),
        sa.Column("variant_name", sa.String(length=250), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("fulfilled_quantity", sa.Integer(), nullable=False),
        sa.Column("returned_quantity", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commerce_orders.id"],
            name=op.f("fk_commerce_order_lines_order_id_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_lines")),
    )
    with op.batch_alter_table("commerce_order_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_order_lines_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_order_lines_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_promotions",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("percent_bp", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["commerce_categories.id"],
            name=op.f("fk_commerce_promotions_category_id_commerce_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_promotions_channel_id_commerce_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_promotions_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_promotions")),
    )
    with op.batch_alter_table("commerce_promotions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_promotions_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_promotions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_shipping_methods",
        sa.Column("zone_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("free_over_minor", sa.BigInteger(), nullable=True),
        sa.Column("min_weight_grams", sa.Integer(), nullable=True),
        sa.Column("max_weight_grams", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "price_minor >= 0", name=op.f("ck_commerce_shipping_methods_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["commerce_shipping_zones.id"],
            name=op.f("fk_commerce_shipping_methods_zone_id_commerce_shipping_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_shipping_methods")),
    )
    with op.batch_alter_table("commerce_shipping_methods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_shipping_methods_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_shipping_methods_zone_id"), ["zone_id"], unique=False
        )

    op.create_table(
        "commerce_voucher_customer_uses",
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("customer", sa.String(length=320), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["commerce_vouchers.id"],
            name=op.f("fk_commerce_voucher_customer_uses_voucher_id_commerce_vouchers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "voucher_id", "customer", name=op.f("pk_commerce_voucher_customer_uses")
        ),
    )
    with op.batch_alter_table("commerce_voucher_customer_uses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_voucher_customer_uses_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_checkouts",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("customer_user_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("billing_address", sa.JSON(), nullable=True),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("shipping_method_id", sa.Uuid(), nullable=True),
        sa.Column("voucher_code", sa.String(length=60), nullable=True),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_checkouts_channel_id_commerce_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["shipping_method_id"],
            ["commerce_shipping_methods.id"],
            name=op.f("fk_commerce_checkouts_shipping_method_id_commerce_shipping_methods"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_checkouts")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_commerce_checkouts_token_hash")),
    )
    with op.batch_alter_table("commerce_checkouts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_checkouts_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_checkouts_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_checkout_lines",
        sa.Column("checkout_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_commerce_checkout_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["checkout_id"],
            ["commerce_checkouts.id"],
            name=op.f("fk_commerce_checkout_lines_checkout_id_commerce_checkouts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_checkout_lines_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_checkout_lines")),
        sa.UniqueConstraint(
            "checkout_id",
            "variant_id",
            name=op.f("uq_commerce_checkout_lines_checkout_id_variant_id"),
        ),
    )
    with op.batch_alter_table("commerce_checkout_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_checkout_lines_checkout_id"), ["checkout_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_checkout_lines_tenant_id"), ["tenant_id"], unique=False
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
    with op.batch_alter_table("commerce_checkout_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_checkout_lines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_checkout_lines_checkout_id"))

    op.drop_table("commerce_checkout_lines")
    with op.batch_alter_table("commerce_checkouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_checkouts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_checkouts_channel_id"))

    op.drop_table("commerce_checkouts")
    with op.batch_alter_table("commerce_voucher_customer_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_voucher_customer_uses_tenant_id"))

    op.drop_table("commerce_voucher_customer_uses")
    with op.batch_alter_table("commerce_shipping_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_shipping_methods_zone_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_shipping_methods_tenant_id"))

    op.drop_table("commerce_shipping_methods")
    with op.batch_alter_table("commerce_promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_promotions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_promotions_channel_id"))

    op.drop_table("commerce_promotions")
    with op.batch_alter_table("commerce_order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_order_lines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_order_lines_order_id"))

    op.drop_table("commerce_order_lines")
    with op.batch_alter_table("commerce_order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_order_events_tenant_id"))
        batch_op.drop_index("ix_commerce_order_events_order")

    op.drop_table("commerce_order_events")
    with op.batch_alter_table("commerce_fulfilments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_fulfilments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_fulfilments_order_id"))

    op.drop_table("commerce_fulfilments")
    with op.batch_alter_table("commerce_vouchers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_vouchers_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_vouchers_channel_id"))

    op.drop_table("commerce_vouchers")
    with op.batch_alter_table("commerce_tax_configs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_tax_configs_tenant_id"))

    op.drop_table("commerce_tax_configs")
    with op.batch_alter_table("commerce_shipping_zones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_shipping_zones_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_shipping_zones_channel_id"))

    op.drop_table("commerce_shipping_zones")
    with op.batch_alter_table("commerce_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_orders_tenant_id"))
        batch_op.drop_index("ix_commerce_orders_tenant_created")
        batch_op.drop_index(batch_op.f("ix_commerce_orders_customer_user_id"))

    op.drop_table("commerce_orders")
    op.drop_table("commerce_order_counters")
