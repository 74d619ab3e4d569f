"""Notes (test module): the notes table, under tenant row-level security.

The module's first revision: it opens the `notes` branch of the one history and needs the
platform's identity tables (tenants) to exist first.

Revision ID: notes_0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bizosaas.kit.tenancy import drop_rls_statements, rls_policy_statements

revision: str = "notes_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("notes",)
depends_on: str | Sequence[str] | None = "0002_identity"


def upgrade() -> None:
    op.create_table(
        "test_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_notes")),
    )
    op.create_index(op.f("ix_test_notes_tenant_id"), "test_notes", ["tenant_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls_policy_statements("test_notes"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in drop_rls_statements("test_notes"):
            op.execute(statement)
    op.drop_index(op.f("ix_test_notes_tenant_id"), table_name="test_notes")
    op.drop_table("test_notes")
