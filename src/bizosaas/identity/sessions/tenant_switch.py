"""Switching tenant: credentials for another of the user's memberships. The current session
ends and a new one on the same channel starts, so tokens never mix tenants."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import TenantNotFound, TenantSuspended
from bizosaas.identity.models import SessionChannel, Tenant, TenantStatus
from bizosaas.identity.records import audit
from bizosaas.identity.repository import accounts, auth_sessions
from bizosaas.identity.schemas import BrowserSession, TokenPair
from bizosaas.identity.sessions.opening import (
    VerifiedLogin,
    open_browser_session,
    start_api_session,
)
from bizosaas.identity.sessions.rotation import revoke_sessions
from bizosaas.kit.db import utcnow


async def switch_tenant(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    tenant: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair | BrowserSession:
    """Credentials for another of the user's memberships (`tenant`: its slug or id)."""
    user = await accounts.user_by_id(session, user_id=user_id)
    current = await auth_sessions.auth_session_by_id(session, session_id=session_id)
    if user is None or current is None or current.user_id != user_id:
        raise TenantNotFound()
    target: Tenant | None
    try:
        target = await accounts.tenant_by_id(session, tenant_id=uuid.UUID(tenant))
    except ValueError:
        target = await accounts.tenant_by_slug(session, slug=tenant)
    member = (
        await accounts.membership(session, user_id=user_id, tenant_id=target.id) if target else None
    )
    if target is None or member is None:
        raise TenantNotFound(f"You are not a member of a tenant {tenant!r}.")
    if target.status != TenantStatus.active.value:
        raise TenantSuspended()
    await revoke_sessions(session, identity=identity, session_id=current.id, reason="tenant_switch")
    member.last_used_at = utcnow()
    login = VerifiedLogin(user=user, tenant=target, role=member.role)
    await audit.record(
        session,
        tenant_id=target.id,
        action=AuditAction.tenant_switched,
        actor_id=user.id,
        ip=ip,
    )
    if current.channel == SessionChannel.browser.value:
        return await open_browser_session(
            session, identity=identity, login=login, ip=ip, user_agent=user_agent
        )
    return await start_api_session(
        session, identity=identity, login=login, ip=ip, user_agent=user_agent
    )
