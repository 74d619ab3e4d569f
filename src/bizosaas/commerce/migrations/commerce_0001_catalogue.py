"""Commerce: the catalogue, channels and inventory, under tenant row-level security.

The module's first revision opens the `commerce` branch. Besides the tables it sets up product
search: on PostgreSQL a GIN index over `to_tsvector('simple', search_text)`; on SQLite an FTS5
table kept in step with `commerce_products` by triggers (search.py queries both).

Revision ID: commerce_0001
Revises:
Create Date: 2026-12-03 13:20:53.997580
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bizosaas.kit.db import UTCDateTime
from bizosaas.kit.tenancy import drop_rls_statements, rls_policy_statements

revision: str = "commerce_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("commerce",)
depends_on: str | Sequence[str] | None = "0002_identity"

TENANT_TABLES = (
    "commerce_product_types",
    "commerce_attributes",
    "commerce_categories",
    "commerce_collections",
    "commerce_products",
    "commerce_product_collections",
    "commerce_variants",
    "commerce_variant_attribute_values",
    "commerce_channels",
    "commerce_product_publications",
    "commerce_variant_prices",
    "commerce_warehouses",
    "commerce_stock",
)

SEARCH_INDEX = (
    "CREATE INDEX ix_commerce_products_search ON commerce_products "
    "USING gin (to_tsvector('simple', search_text))"
)

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE commerce_product_search USING fts5("
    "product_id UNINDEXED, search_text, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER commerce_product_search_insert AFTER INSERT ON commerce_products BEGIN "
    "INSERT INTO commerce_product_search (product_id, search_text) "
    "VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER commerce_product_search_update AFTER UPDATE OF search_text "
    "ON commerce_products BEGIN "
    "DELETE FROM commerce_product_search WHERE product_id = old.id; "
    "INSERT INTO commerce_product_search (product_id, search_text) "
    "VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER commerce_product_search_delete AFTER DELETE ON commerce_products BEGIN "
    "DELETE FROM commerce_product_search WHERE product_id = old.id; END",
)


def upgrade() -> None:  # noqa: PLR0915 - one statement per table and index
    op.create_table(
        "commerce_categories",
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("seo_title", sa.String(length=200), nullable=True),
        sa.Column("seo_description", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["commerce_categories.id"],
            name=op.f("fk_commerce_categories_parent_id_commerce_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_categories")),
        sa.UniqueConstraint(
            "tenant_id", "slug", name=op.f("uq_commerce_categories_tenant_id_slug")
        ),
    )
    with op.batch_alter_table("commerce_categories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_categories_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_categories_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_channels",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_channels")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_commerce_channels_tenant_id_slug")),
    )
    with op.batch_alter_table("commerce_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_channels_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_collections",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("seo_title", sa.String(length=200), nullable=True),
        sa.Column("seo_description", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_collections")),
        sa.UniqueConstraint(
            "tenant_id", "slug", name=op.f("uq_commerce_collections_tenant_id_slug")
        ),
    )
    with op.batch_alter_table("commerce_collections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_collections_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_product_types",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_types")),
        sa.UniqueConstraint(
            "tenant_id", "name", name=op.f("uq_commerce_product_types_tenant_id_name")
        ),
    )
    with op.batch_alter_table("commerce_product_types", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_product_types_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_warehouses",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_warehouses")),
        sa.UniqueConstraint(
            "tenant_id", "code", name=op.f("uq_commerce_warehouses_tenant_id_code")
        ),
    )
    with op.batch_alter_table("commerce_warehouses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_warehouses_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_attributes",
        sa.Column("product_type_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_type_id"],
            ["commerce_product_types.id"],
            name=op.f("fk_commerce_attributes_product_type_id_commerce_product_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_attributes")),
        sa.UniqueConstraint(
            "product_type_id", "code", name=op.f("uq_commerce_attributes_product_type_id_code")
        ),
    )
    with op.batch_alter_table("commerce_attributes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_attributes_product_type_id"), ["product_type_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_attributes_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_products",
        sa.Column("product_type_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("slug", sa.String(length=250), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("seo_title", sa.String(length=200), nullable=True),
        sa.Column("seo_description", sa.String(length=500), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["commerce_categories.id"],
            name=op.f("fk_commerce_products_category_id_commerce_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["product_type_id"],
            ["commerce_product_types.id"],
            name=op.f("fk_commerce_products_product_type_id_commerce_product_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_products")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_commerce_products_tenant_id_slug")),
    )
    with op.batch_alter_table("commerce_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_products_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_products_product_type_id"), ["product_type_id"], unique=False
        )
        batch_op.create_index(
            "ix_commerce_products_tenant_created", ["tenant_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_products_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_commerce_products_tenant_name", ["tenant_id", "name", "id"], unique=False
        )

    op.create_table(
        "commerce_product_collections",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["commerce_collections.id"],
            name=op.f("fk_commerce_product_collections_collection_id_commerce_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_collections_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "product_id", "collection_id", name=op.f("pk_commerce_product_collections")
        ),
    )
    with op.batch_alter_table("commerce_product_collections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_product_collections_collection_id"),
            ["collection_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_product_collections_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_product_publications",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("published_from", UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_product_publications_channel_id_commerce_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_publications_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_publications")),
        sa.UniqueConstraint(
            "product_id",
            "channel_id",
            name=op.f("uq_commerce_product_publications_product_id_channel_id"),
        ),
    )
    with op.batch_alter_table("commerce_product_publications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_product_publications_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_product_publications_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_product_publications_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_variants",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("track_inventory", sa.Boolean(), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_variants_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_variants")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_commerce_variants_tenant_id_sku")),
    )
    with op.batch_alter_table("commerce_variants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_variants_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_variants_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_stock",
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("allocated >= 0", name=op.f("ck_commerce_stock_allocated_not_negative")),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_commerce_stock_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_stock_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["commerce_warehouses.id"],
            name=op.f("fk_commerce_stock_warehouse_id_commerce_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_stock")),
        sa.UniqueConstraint(
            "variant_id", "warehouse_id", name=op.f("uq_commerce_stock_variant_id_warehouse_id")
        ),
    )
    with op.batch_alter_table("commerce_stock", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_stock_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_stock_variant_id"), ["variant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_stock_warehouse_id"), ["warehouse_id"], unique=False
        )

    op.create_table(
        "commerce_variant_attribute_values",
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_variant_attribute_values_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_variant_attribute_values_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "variant_id", "code", name=op.f("pk_commerce_variant_attribute_values")
        ),
    )
    with op.batch_alter_table("commerce_variant_attribute_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commerce_variant_attribute_values_lookup", ["code", "value"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_variant_attribute_values_product_id"),
            ["product_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_variant_attribute_values_tenant_id"),
            ["tenant_id"],
            unique=False,
        )

    op.create_table(
        "commerce_variant_prices",
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("is_available", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "amount_minor >= 0", name=op.f("ck_commerce_variant_prices_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["commerce_channels.id"],
            name=op.f("fk_commerce_variant_prices_channel_id_commerce_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_variant_prices_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_variant_prices")),
        sa.UniqueConstraint(
            "variant_id",
            "channel_id",
            name=op.f("uq_commerce_variant_prices_variant_id_channel_id"),
        ),
    )
    with op.batch_alter_table("commerce_variant_prices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commerce_variant_prices_channel_amount",
            ["channel_id", "amount_minor"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_variant_prices_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_variant_prices_variant_id"), ["variant_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            for statement in rls_policy_statements(table):
                op.execute(statement)
        op.execute(SEARCH_INDEX)
    else:
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_commerce_products_search")
        for table in TENANT_TABLES:
            for statement in drop_rls_statements(table):
                op.execute(statement)
    else:
        op.execute("DROP TABLE IF EXISTS commerce_product_search")
    # Dropping the products table drops its triggers on SQLite; tables go children first.
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
