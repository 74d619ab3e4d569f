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

from bizosaas.kit.db import Base, IdMixin, TimestampMixin
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
