"""Platform administration (super admins): tenants, users, the mail sink.

Routers and pages guard these with `require_super_admin`; changes also check the actor.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import audit, mail
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import TenantNotFound
from bizosaas.identity.login import create_tenant, user_read
from bizosaas.identity.models import AuthSession, Tenant, TenantStatus, User
from bizosaas.identity.rotation import revoke_sessions
from bizosaas.identity.schemas import MailRead, TenantRead, UserRead
from bizosaas.kit.auth import Principal
from bizosaas.kit.errors import PermissionDenied


def _require_super_admin(actor: Principal | None) -> None:
    if actor is not None and not actor.is_super_admin:
        raise PermissionDenied("This action is for platform administrators.")


async def admin_list_tenants(session: AsyncSession) -> list[TenantRead]:
    rows = await session.scalars(select(Tenant).order_by(Tenant.created_at))
    return [TenantRead.model_validate(row) for row in rows]


async def admin_create_tenant(
    session: AsyncSession, *, name: str, slug: str | None = None, actor: Principal | None = None
) -> TenantRead:
    _require_super_admin(actor)
    tenant = await create_tenant(session, name=name, slug=slug)
    await audit.record(
        session,
        tenant_id=tenant.id,
        action=AuditAction.tenant_created,
        actor_id=actor.subject if actor else None,
        target=tenant.slug,
    )
    return TenantRead.model_validate(tenant)


async def admin_set_tenant_status(
    session: AsyncSession, *, tenant_id: uuid.UUID, suspended: bool, actor: Principal | None = None
) -> TenantRead:
    """Suspend (every member's session in it ends, its API keys stop working) or reactivate."""
    _require_super_admin(actor)
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantNotFound()
    status = TenantStatus.suspended if suspended else TenantStatus.active
    if tenant.status != status.value:
        tenant.status = status.value
        if suspended:
            await revoke_sessions(
                session, AuthSession.tenant_id == tenant.id, reason="tenant_suspended"
            )
        await audit.record(
            session,
            tenant_id=tenant.id,
            action=AuditAction.tenant_suspended if suspended else AuditAction.tenant_reactivated,
            actor_id=actor.subject if actor else None,
            target=tenant.slug,
        )
    await session.flush()
    return TenantRead.model_validate(tenant)


async def admin_list_users(
    session: AsyncSession, *, query: str | None = None, limit: int = 100
) -> list[UserRead]:
    statement = select(User).order_by(User.created_at).limit(limit)
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(or_(User.email.like(pattern), User.full_name.ilike(pattern)))
    return [user_read(row) for row in await session.scalars(statement)]


async def list_mail(
    session: AsyncSession, *, to: str | None = None, limit: int = 100
) -> list[MailRead]:
    return [
        MailRead.model_validate(row)
        for row in await mail.list_messages(session, to=to, limit=limit)
    ]


async def get_mail(session: AsyncSession, *, message_id: uuid.UUID) -> MailRead:
    return MailRead.model_validate(await mail.get_message(session, message_id=message_id))
