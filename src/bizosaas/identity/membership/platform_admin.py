"""Platform administration (super admins): tenants, users, login unlocks, the mail sink.

Routers and pages guard these with `require_super_admin`; changes also check the actor.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import TenantNotFound, UserNotFound
from bizosaas.identity.membership.registration import create_tenant, user_read
from bizosaas.identity.models import TenantStatus
from bizosaas.identity.records import audit, mail
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import LoginUnlock, MailRead, TenantRead, UserRead
from bizosaas.identity.sessions.rotation import revoke_sessions
from bizosaas.kit.auth import Principal
from bizosaas.kit.errors import PermissionDenied

log = structlog.get_logger(__name__)


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


async def admin_unlock_login(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    user_id: uuid.UUID,
    actor: Principal | None = None,
) -> LoginUnlock:
    """Forget the account's failed logins, so it is not made to wait any more (the address
    counters stay: they hold back a guesser, not this account). Audited in the user's most
    recently used tenant (one session serves one tenant), and logged (a platform administrator
    may belong to none)."""
    _require_super_admin(actor)
    user = await accounts.user_by_id(session, user_id=user_id)
    if user is None:
        raise UserNotFound()
    before = await identity.throttle.unlock(email=user.email)
    actor_id = actor.subject if actor else None
    rows = await accounts.memberships_of(session, user_id=user.id)
    if rows:
        await audit.record(
            session,
            tenant_id=rows[0][1].id,
            action=AuditAction.login_unlocked,
            actor_id=actor_id,
            target=str(user.id),
            details={"failures_cleared": before.failures},
        )
    log.info(
        "login_unlocked",
        user_id=str(user.id),
        actor_id=str(actor_id) if actor_id else "command line",
        failures_cleared=before.failures,
    )
    return LoginUnlock(user_id=user.id, email=user.email, failures_cleared=before.failures)


async def admin_failed_logins(
    identity: IdentityContext, *, users: list[UserRead]
) -> dict[uuid.UUID, int]:
    """How many failed logins count against each of `users` that has any (for the console)."""
    counts: dict[uuid.UUID, int] = {}
    for user in users:
        status = await identity.throttle.account_status(email=user.email)
        if status.failures:
            counts[user.id] = status.failures
    return counts


async def list_mail(
    session: AsyncSession, *, to: str | None = None, limit: int = 100
) -> list[MailRead]:
    return [
        MailRead.model_validate(row)
        for row in await mail.list_messages(session, to=to, limit=limit)
    ]


async def get_mail(session: AsyncSession, *, message_id: uuid.UUID) -> MailRead:
    return MailRead.model_validate(await mail.get_message(session, message_id=message_id))
