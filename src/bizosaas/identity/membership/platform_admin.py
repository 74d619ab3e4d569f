"""Platform administration (super admins): tenants, users, the mail sink.

Routers and pages guard these with `require_super_admin`; changes also check the actor.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import TenantNotFound
from bizosaas.identity.membership.registration import create_tenant, user_read
from bizosaas.identity.models import TenantStatus
from bizosaas.identity.records import audit, mail
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import MailRead, TenantRead, UserRead
from bizosaas.identity.sessions.rotation import revoke_sessions
from bizosaas.kit.auth import Principal
from bizosaas.kit.errors import PermissionDenied


def _require_super_admin(actor: Principal | None) -> None:
    if actor is not None and not actor.is_super_admin:
        raise PermissionDenied("This action is for platform administrators.")


async def admin_list_tenants(session: AsyncSession) -> list[TenantRead]:
    return [TenantRead.model_validate(row) for row in await accounts.all_tenants(session)]


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
    session: AsyncSession,
    *,
    identity: IdentityContext,
    tenant_id: uuid.UUID,
    suspended: bool,
    actor: Principal | None = None,
) -> TenantRead:
    """Suspend (every member's session in it ends, its API keys stop working) or reactivate."""
    _require_super_admin(actor)
    tenant = await accounts.tenant_by_id(session, tenant_id=tenant_id)
    if tenant is None:
        raise TenantNotFound()
    status = TenantStatus.suspended if suspended else TenantStatus.active
    if tenant.status != status.value:
        tenant.status = status.value
        if suspended:
            await revoke_sessions(
                session, identity=identity, tenant_id=tenant.id, reason="tenant_suspended"
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
    return [
        user_read(row) for row in await accounts.search_users(session, query=query, limit=limit)
    ]


async def list_mail(
    session: AsyncSession, *, to: str | None = None, limit: int = 100
) -> list[MailRead]:
    return [
        MailRead.model_validate(row)
        for row in await mail.list_messages(session, to=to, limit=limit)
    ]


async def get_mail(session: AsyncSession, *, message_id: uuid.UUID) -> MailRead:
    return MailRead.model_validate(await mail.get_message(session, message_id=message_id))
