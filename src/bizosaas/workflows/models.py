"""The workflows module's tables: approval requests and their decisions.

Both are projections of the approval workflows' state, written only by the activities of the
approval workflow that owns the request (see approvals/workflow.py): they exist for listing
and search, never to decide anything.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, IdMixin, TimestampMixin, utcnow
from bizosaas.kit.tenancy import TenantOwned


class ApprovalRequest(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "workflow_approvals"
    __table_args__ = (Index("ix_workflow_approvals_tenant_status", "tenant_id", "status"),)

    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    preview: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by_kind: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[str] = mapped_column(String(64))
    assignee_role: Mapped[str | None] = mapped_column(String(40), default=None)
    assignee_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    min_approvers: Mapped[int] = mapped_column(default=1)
    deadline: Mapped[datetime]
    on_expiry: Mapped[str] = mapped_column(String(20))
    escalate_to_role: Mapped[str | None] = mapped_column(String(40), default=None)
    escalated: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class ApprovalDecision(IdMixin, TenantOwned, Base):
    __tablename__ = "workflow_approval_decisions"
    __table_args__ = (UniqueConstraint("approval_id", "user_id"),)

    approval_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflow_approvals.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    verdict: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
