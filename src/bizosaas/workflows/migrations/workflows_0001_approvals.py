"""Workflows: approval requests and their decisions, under tenant row-level security.

The module's first revision: it opens the `workflows` branch of the one history.

Revision ID: workflows_0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bizosaas.kit.db import UTCDateTime
from bizosaas.kit.tenancy import drop_rls_statements, rls_policy_statements

revision: str = "workflows_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("workflows",)
depends_on: str | Sequence[str] | None = "0002_identity"

TABLES = ("workflow_approvals", "workflow_approval_decisions")


def upgrade() -> None:
    op.create_table(
        "workflow_approvals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("subject_kind", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("requested_by_kind", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.String(length=64), nullable=False),
        sa.Column("assignee_role", sa.String(length=40), nullable=True),
        sa.Column("assignee_user_id", sa.Uuid(), nullable=True),
        sa.Column("min_approvers", sa.Integer(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("on_expiry", sa.String(length=20), nullable=False),
        sa.Column("escalate_to_role", sa.String(length=40), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_approvals")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_workflow_approvals_workflow_id")),
    )
    op.create_index(op.f("ix_workflow_approvals_tenant_id"), "workflow_approvals", ["tenant_id"])
    op.create_index(
        "ix_workflow_approvals_tenant_status", "workflow_approvals", ["tenant_id", "status"]
    )
    op.create_table(
        "workflow_approval_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("approval_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["workflow_approvals.id"],
            name=op.f("fk_workflow_approval_decisions_approval_id_workflow_approvals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_approval_decisions")),
        sa.UniqueConstraint(
            "approval_id",
            "user_id",
            name=op.f("uq_workflow_approval_decisions_approval_id_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_workflow_approval_decisions_tenant_id"),
        "workflow_approval_decisions",
        ["tenant_id"],
    )
    op.create_index(
        op.f("ix_workflow_approval_decisions_approval_id"),
        "workflow_approval_decisions",
        ["approval_id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in rls_policy_statements(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in drop_rls_statements(table):
                op.execute(statement)
    op.drop_table("workflow_approval_decisions")
    op.drop_table("workflow_approvals")
