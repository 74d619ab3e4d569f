"""Queries of the audit log and the mail sink."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.models import AuditEvent, MailMessage
from bizosaas.kit.tenancy import TenantScope


async def audit_events_in_scope(
    session: AsyncSession,
    *,
    scope: TenantScope,
    limit: int,
    before: datetime | None = None,
    action: str | None = None,
) -> Sequence[AuditEvent]:
    """The tenant's audit events, newest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.tenant_id == scope.tenant_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if before is not None:
        query = query.where(AuditEvent.created_at < before)
    if action:
        query = query.where(AuditEvent.action == action)
    return (await session.scalars(query.limit(limit))).all()


async def mail_messages(
    session: AsyncSession, *, to: str | None, limit: int
) -> Sequence[MailMessage]:
    """Messages in the sink, newest first; with `to`, those to that address."""
    query = select(MailMessage).order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
    if to:
        query = query.where(MailMessage.to_address == to.strip().lower())
    return (await session.scalars(query.limit(limit))).all()


async def mail_message_by_id(session: AsyncSession, *, message_id: uuid.UUID) -> MailMessage | None:
    return await session.get(MailMessage, message_id)


async def mail_message_by_event(
    session: AsyncSession, *, event_id: uuid.UUID
) -> MailMessage | None:
    return await session.scalar(select(MailMessage).where(MailMessage.event_id == event_id))
