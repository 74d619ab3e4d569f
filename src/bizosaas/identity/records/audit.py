"""The append-only, tenant-scoped audit log of authentication and access events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.events import AuditAction
from bizosaas.identity.models import AuditEvent
from bizosaas.identity.repository import records
from bizosaas.identity.schemas import AuditEventRead
from bizosaas.kit.tenancy import TenantScope, bind_tenant, current_tenant, trusted_scope


async def record(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    action: AuditAction,
    actor_id: uuid.UUID | None = None,
    target: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
    record_id: uuid.UUID | None = None,
) -> None:
    """Add an audit event to the session's transaction (it commits with the change it records).

    `tenant_id` must come from verified data (a token, a membership row). An unscoped session is
    bound to that tenant; a session already serving another tenant is an error. `record_id`,
    when given, names the record (an event handler derives it from its event, so handling the
    event twice cannot commit two records).
    """
    if current_tenant(session) is None:
        await bind_tenant(session, trusted_scope(tenant_id))
    session.add(
        AuditEvent(
            tenant_id=tenant_id,
            action=action.value,
            actor_id=actor_id,
            target=target,
            ip=ip,
            details=details or {},
            **({"id": record_id} if record_id is not None else {}),
        )
    )


async def list_events(
    session: AsyncSession,
    *,
    scope: TenantScope,
    limit: int = 100,
    before: datetime | None = None,
    action: str | None = None,
) -> Sequence[AuditEvent]:
    await bind_tenant(session, scope)
    return await records.audit_events_in_scope(
        session, scope=scope, limit=limit, before=before, action=action
    )


async def list_audit_events(
    session: AsyncSession,
    *,
    scope: TenantScope,
    limit: int = 100,
    before: datetime | None = None,
    action: str | None = None,
) -> list[AuditEventRead]:
    """The tenant's audit log, newest first."""
    rows = await list_events(session, scope=scope, limit=limit, before=before, action=action)
    return [AuditEventRead.model_validate(row) for row in rows]
