"""Queries over approval requests. Every function takes the verified `TenantScope` and binds the
session to it, so the ORM filter (and row-level security on PostgreSQL) keeps tenants apart."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.tenancy import TenantScope, bind_tenant
from bizosaas.workflows.models import ApprovalDecision, ApprovalRequest

LIST_LIMIT = 200


async def get_approval(
    session: AsyncSession, *, scope: TenantScope, approval_id: uuid.UUID
) -> ApprovalRequest | None:
    await bind_tenant(session, scope)
    return await session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == approval_id))


async def list_approvals(
    session: AsyncSession,
    *,
    scope: TenantScope,
    assignee_user_id: uuid.UUID | None = None,
    assignee_roles: Collection[str] | None = None,
    statuses: Collection[str] | None = None,
    limit: int = LIST_LIMIT,
) -> Sequence[ApprovalRequest]:
    """Newest first. With both assignee filters, a request matching either is listed."""
    await bind_tenant(session, scope)
    query = select(ApprovalRequest).order_by(ApprovalRequest.id.desc()).limit(limit)
    assigned = []
    if assignee_user_id is not None:
        assigned.append(ApprovalRequest.assignee_user_id == assignee_user_id)
    if assignee_roles is not None:
        assigned.append(ApprovalRequest.assignee_role.in_(list(assignee_roles)))
    if assigned:
        query = query.where(or_(*assigned))
    if statuses:
        query = query.where(ApprovalRequest.status.in_(list(statuses)))
    return (await session.scalars(query)).all()


async def decisions_of(
    session: AsyncSession, *, scope: TenantScope, approval_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[ApprovalDecision]]:
    await bind_tenant(session, scope)
    found: dict[uuid.UUID, list[ApprovalDecision]] = defaultdict(list)
    if not approval_ids:
        return found
    rows = await session.scalars(
        select(ApprovalDecision)
        .where(ApprovalDecision.approval_id.in_(list(approval_ids)))
        .order_by(ApprovalDecision.decided_at, ApprovalDecision.id)
    )
    for row in rows:
        found[row.approval_id].append(row)
    return found


async def find_decision(
    session: AsyncSession, *, scope: TenantScope, approval_id: uuid.UUID, user_id: uuid.UUID
) -> ApprovalDecision | None:
    await bind_tenant(session, scope)
    return await session.scalar(
        select(ApprovalDecision).where(
            ApprovalDecision.approval_id == approval_id, ApprovalDecision.user_id == user_id
        )
    )


async def add(session: AsyncSession, *, scope: TenantScope, row: object) -> None:
    await bind_tenant(session, scope)
    session.add(row)
    await session.flush()
