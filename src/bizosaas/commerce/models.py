"""Commerce tables: the catalogue (product types, attributes, categories, collections, products,
variants), channels with their publications and prices, and inventory (warehouses, stock).

Every row is tenant-owned (`TenantOwned`: ORM filter everywhere, row-level security on
PostgreSQL). Money is stored as an integer count of the currency's minor unit (cents), exact on
every backend and comparable in SQL; the API speaks Decimal. Relationships are not declared:
every load is an explicit query in the repository.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
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


class AttributeKind(StrEnum):
    text = "text"
    number = "number"
    choice = "choice"
    boolean = "boolean"


class ProductType(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_product_types"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))


class Attribute(IdMixin, TenantOwned, Base):
    """An attribute a product type's variants carry (`size`, `colour`, `organic`)."""

    __tablename__ = "commerce_attributes"
    __table_args__ = (UniqueConstraint("product_type_id", "code"),)

    product_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_product_types.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)


class Category(IdMixin, TenantOwned, TimestampMixin, Base):
    """A node of the category tree; `parent_id` None is a root."""

    __tablename__ = "commerce_categories"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_categories.id"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    description_html: Mapped[str] = mapped_column(Text, default="")
    seo_title: Mapped[str | None] = mapped_column(String(200), default=None)
    seo_description: Mapped[str | None] = mapped_column(String(500), default=None)


class Collection(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_collections"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    description_html: Mapped[str] = mapped_column(Text, default="")
    seo_title: Mapped[str | None] = mapped_column(String(200), default=None)
    seo_description: Mapped[str | None] = mapped_column(String(500), default=None)


class Product(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        Index("ix_commerce_products_tenant_name", "tenant_id", "name", "id"),
        Index("ix_commerce_products_tenant_created", "tenant_id", "created_at", "id"),
    )

    product_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_product_types.id"), index=True
    )
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_categories.id"), index=True, default=None
    )
    name: Mapped[str] = mapped_column(String(250))
    slug: Mapped[str] = mapped_column(String(250))
    description_html: Mapped[str] = mapped_column(Text, default="")
    seo_title: Mapped[str | None] = mapped_column(String(200), default=None)
    seo_description: Mapped[str | None] = mapped_column(String(500), default=None)
    search_text: Mapped[str] = mapped_column(Text, default="")
    """Name, SKUs and the description as plain text: what full-text search indexes (a GIN
    index over its tsvector on PostgreSQL, an FTS5 table kept in step by triggers on SQLite)."""


class ProductCollection(TenantOwned, Base):
    __tablename__ = "commerce_product_collections"
    __table_args__ = (
        Index("ix_commerce_product_collections_tenant_product", "tenant_id", "product_id"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), primary_key=True
    )
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_collections.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Variant(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_variants"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        # The product search's correlated lookups carry the tenant filter too: with this index
        # (tenant, product) beats (tenant) alone, statistics or not (commerce_0004).
        Index("ix_commerce_variants_tenant_product", "tenant_id", "product_id"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(250), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    weight_grams: Mapped[int | None] = mapped_column(default=None)
    track_inventory: Mapped[bool] = mapped_column(default=True)
    low_stock_threshold: Mapped[int | None] = mapped_column(default=None)


class VariantAttributeValue(TenantOwned, Base):
    """One attribute value of a variant, denormalised from `Variant.attributes` so filters are
    an indexed lookup (values are kept as their canonical text: `true`, `42.5`, `red`)."""

    __tablename__ = "commerce_variant_attribute_values"
    __table_args__ = (
        Index("ix_commerce_variant_attribute_values_lookup", "code", "value"),
        Index(
            "ix_commerce_variant_attribute_values_tenant_product",
            "tenant_id",
            "product_id",
            "code",
            "value",
        ),
    )

    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), index=True
    )


class Channel(IdMixin, TenantOwned, TimestampMixin, Base):
    """Where products are sold (a web store, a market stall): its currency and its prices."""

    __tablename__ = "commerce_channels"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    is_active: Mapped[bool] = mapped_column(default=True)


class ProductPublication(IdMixin, TenantOwned, Base):
    """A product's publication in a channel, optionally between two dates."""

    __tablename__ = "commerce_product_publications"
    __table_args__ = (
        UniqueConstraint("product_id", "channel_id"),
        Index("ix_commerce_product_publications_tenant_product", "tenant_id", "product_id"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_channels.id", ondelete="CASCADE"), index=True
    )
    is_published: Mapped[bool] = mapped_column(default=False)
    published_from: Mapped[datetime | None] = mapped_column(default=None)
    published_until: Mapped[datetime | None] = mapped_column(default=None)


class VariantPrice(IdMixin, TenantOwned, Base):
    __tablename__ = "commerce_variant_prices"
    __table_args__ = (
        UniqueConstraint("variant_id", "channel_id"),
        Index("ix_commerce_variant_prices_channel_amount", "channel_id", "amount_minor"),
        Index("ix_commerce_variant_prices_tenant_variant", "tenant_id", "variant_id"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    )

    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_channels.id", ondelete="CASCADE")
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    """The price in the channel currency's minor unit (cents for EUR, yen for JPY)."""
    is_available: Mapped[bool] = mapped_column(default=True)


class Warehouse(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_warehouses"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(60))


class Stock(IdMixin, TenantOwned, Base):
    """What a warehouse holds of a variant. `quantity` is what can still be allocated;
    `allocated` what allocations hold. Both only move through conditional UPDATEs (see
    service/inventory.py), and the database refuses a negative value besides."""

    __tablename__ = "commerce_stock"
    __table_args__ = (
        UniqueConstraint("variant_id", "warehouse_id"),
        Index("ix_commerce_stock_tenant_variant", "tenant_id", "variant_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("allocated >= 0", name="allocated_not_negative"),
    )

    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE"), index=True
    )
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_warehouses.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)


# -- checkout, discounts, shipping, tax and orders (revision commerce_0002) -------------------
# Percentages are stored as basis points (hundredths of a percent: 2000 = 20.00 %), money as
# minor units: both exact integers on every backend.


class DiscountKind(StrEnum):
    percentage = "percentage"
    fixed = "fixed"
    free_shipping = "free_shipping"


class ShippingZone(IdMixin, TenantOwned, TimestampMixin, Base):
    """Countries a channel ships to with the same methods."""

    __tablename__ = "commerce_shipping_zones"

    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_channels.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)


class ShippingMethod(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_shipping_methods"
    __table_args__ = (CheckConstraint("price_minor >= 0", name="price_not_negative"),)

    zone_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_shipping_zones.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    free_over_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """Free when the order's goods, after discounts, cost at least this much."""
    min_weight_grams: Mapped[int | None] = mapped_column(default=None)
    max_weight_grams: Mapped[int | None] = mapped_column(default=None)


class TaxConfig(IdMixin, TenantOwned, TimestampMixin, Base):
    """A channel's tax settings: whether its prices include tax, and the rate per country."""

    __tablename__ = "commerce_tax_configs"
    __table_args__ = (UniqueConstraint("channel_id"),)

    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_channels.id", ondelete="CASCADE")
    )
    prices_include_tax: Mapped[bool] = mapped_column(default=True)
    default_rate_bp: Mapped[int] = mapped_column(default=0)
    country_rates_bp: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class Voucher(IdMixin, TenantOwned, TimestampMixin, Base):
    """A discount a customer enters by code. `used` only moves by a conditional UPDATE."""

    __tablename__ = "commerce_vouchers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("used >= 0", name="used_not_negative"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_channels.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20))
    percent_bp: Mapped[int | None] = mapped_column(default=None)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    min_spend_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    usage_limit: Mapped[int | None] = mapped_column(default=None)
    usage_limit_per_customer: Mapped[int | None] = mapped_column(default=None)
    used: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True)


class VoucherCustomerUse(TenantOwned, Base):
    """How often one customer (a user id or a lower-cased e-mail) used a voucher: the counter
    the per-customer limit is enforced on, with the same conditional UPDATE as `used`."""

    __tablename__ = "commerce_voucher_customer_uses"

    voucher_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_vouchers.id", ondelete="CASCADE"), primary_key=True
    )
    customer: Mapped[str] = mapped_column(String(320), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


class Promotion(IdMixin, TenantOwned, TimestampMixin, Base):
    """A discount applied without a code to the lines it matches (a category, a product, or
    everything in the channel)."""

    __tablename__ = "commerce_promotions"

    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_channels.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    percent_bp: Mapped[int | None] = mapped_column(default=None)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_categories.id", ondelete="CASCADE"), default=None
    )
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), default=None
    )
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True)


class Checkout(IdMixin, TenantOwned, TimestampMixin, Base):
    """A cart on its way to becoming an order, addressed by an unguessable token (only its
    SHA-256 is stored)."""

    __tablename__ = "commerce_checkouts"
    __table_args__ = (UniqueConstraint("token_hash"),)

    token_hash: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_channels.id"), index=True)
    customer_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    shipping_method_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_shipping_methods.id", ondelete="SET NULL"), default=None
    )
    voucher_code: Mapped[str | None] = mapped_column(String(60), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class CheckoutLine(IdMixin, TenantOwned, Base):
    __tablename__ = "commerce_checkout_lines"
    __table_args__ = (
        UniqueConstraint("checkout_id", "variant_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    checkout_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_checkouts.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="CASCADE")
    )
    """A deleted variant leaves the carts it was in (orders keep their own snapshot)."""
    quantity: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    """The channel's price when the line was added or last changed; completion re-checks it."""
    position: Mapped[int] = mapped_column(default=0)


class OrderCounter(TenantOwned, Base):
    """The last order number a tenant gave. Taken by `UPDATE ... SET last = last + 1` in the
    order's own transaction, so a rolled-back order gives its number back: no gaps."""

    __tablename__ = "commerce_order_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Order(IdMixin, TenantOwned, TimestampMixin, Base):
    """A placed order: a snapshot of what was bought, for how much, sent where."""

    __tablename__ = "commerce_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("checkout_id"),
        Index("ix_commerce_orders_tenant_created", "tenant_id", "created_at"),
    )

    number: Mapped[int]
    checkout_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_channels.id"))
    customer_user_id: Mapped[uuid.UUID | None] = mapped_column(index=True, default=None)
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(30))
    payment_status: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool]
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    billing_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    shipping_method_name: Mapped[str] = mapped_column(String(200))
    voucher_code: Mapped[str | None] = mapped_column(String(60), default=None)


class OrderLine(IdMixin, TenantOwned, Base):
    __tablename__ = "commerce_order_lines"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    """Where the line's stock is allocated (None for a variant that tracks no inventory)."""
    sku: Mapped[str] = mapped_column(String(100))
    product_name: Mapped[str] = mapped_column(String(250))
    variant_name: Mapped[str] = mapped_column(String(250), default="")
    quantity: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int]
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    fulfilled_quantity: Mapped[int] = mapped_column(default=0)
    returned_quantity: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)


class Fulfilment(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "commerce_fulfilments"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    tracking_number: Mapped[str | None] = mapped_column(String(100), default=None)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """`[{"line_id": ..., "quantity": n}]`: what this parcel holds."""


class OrderEvent(IdMixin, TenantOwned, Base):
    """One entry of an order's timeline: what changed, who did it, when."""

    __tablename__ = "commerce_order_events"
    __table_args__ = (Index("ix_commerce_order_events_order", "order_id", "created_at"),)

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(40))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductImage(IdMixin, TenantOwned, TimestampMixin, Base):
    """A product image: the original and its thumbnails live in the media store under
    `commerce/<tenant>/<image id>/` (`original.<extension>`, `200.webp`, `600.webp`)."""

    __tablename__ = "commerce_product_images"
    __table_args__ = (
        Index("ix_commerce_product_images_tenant_product", "tenant_id", "product_id", "position"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    alt_text: Mapped[str] = mapped_column(String(300), default="")
    extension: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    byte_size: Mapped[int] = mapped_column()
