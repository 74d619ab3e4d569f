"""Commerce: product images (the files live in the media store; this is their order and text).

Revision ID: commerce_0003
Revises: commerce_0002
Create Date: 2026-12-03 16:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bizosaas.kit.db import UTCDateTime
from bizosaas.kit.tenancy import drop_rls_statements, rls_policy_statements

revision: str = "commerce_0003"
down_revision: str | None = "commerce_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "commerce_product_images"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alt_text", sa.String(length=300), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_images_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_images")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            "ix_commerce_product_images_tenant_product",
            ["tenant_id", "product_id", "position"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_product_images_tenant_id"), ["tenant_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_policy_statements(TABLE):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in drop_rls_statements(TABLE):
            op.execute(statement)
    op.drop_table(TABLE)
