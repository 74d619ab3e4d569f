"""Commerce: indexes that keep the product search's correlated lookups on the product.

Every query of a tenant table carries `tenant_id = ?` (the ORM filter), subqueries included.
Without statistics (SQLite runs no ANALYZE of its own) the planner took the single-column
tenant index for "a variant of this product ..." and read every row of the store once per
product: seconds at a few thousand products. The same for a page's variants, prices,
publications, collections and stock, read by `... IN (ids of the page)`. With (tenant, product)
and (tenant, variant) indexes those lookups have two equality columns to match, and the
planner takes them on SQLite and PostgreSQL alike.

Revision ID: commerce_0004
Revises: commerce_0003
Create Date: 2026-12-03 16:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "commerce_0004"
down_revision: str | None = "commerce_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEXES = (
    ("ix_commerce_variants_tenant_product", "commerce_variants", ["tenant_id", "product_id"]),
    (
        "ix_commerce_variant_attribute_values_tenant_product",
        "commerce_variant_attribute_values",
        ["tenant_id", "product_id", "code", "value"],
    ),
    (
        "ix_commerce_variant_prices_tenant_variant",
        "commerce_variant_prices",
        ["tenant_id", "variant_id"],
    ),
    ("ix_commerce_stock_tenant_variant", "commerce_stock", ["tenant_id", "variant_id"]),
    (
        "ix_commerce_product_publications_tenant_product",
        "commerce_product_publications",
        ["tenant_id", "product_id"],
    ),
    (
        "ix_commerce_product_collections_tenant_product",
        "commerce_product_collections",
        ["tenant_id", "product_id"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
