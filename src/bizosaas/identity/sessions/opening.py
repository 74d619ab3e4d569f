"""Opening a session for a verified login: a token pair on the API channel, an opaque cookie
on the browser channel. Every way of signing in ends here (password, second factor, switching
tenant, sign-up, accepting an invitation)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.tokens import COOKIE_PREFIX, hash_secret, new_secret
from bizosaas.identity.exceptions import InvalidCredentials, TenantNotFound
from bizosaas.identity.models import AuthSession, SessionChannel, Tenant, User
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import BrowserSession, TokenPair
from bizosaas.identity.sessions.rotation import mint_pair
from bizosaas.kit.db import utcnow


@dataclass(frozen=True, slots=True)
class VerifiedLogin:
    """A user whose credentials were checked, and the membership they sign in to."""

    user: User
    tenant: Tenant | None
    role: str | None


async def _new_session(
    session: AsyncSession,
    *,
    login: VerifiedLogin,
    channel: SessionChannel,
    ttl: int,
    ip: str | None,
    user_agent: str | None,
    cookie_hash: str | None = None,
) -> AuthSession:
    now = utcnow()
    record = AuthSession(
        user_id=login.user.id,
        tenant_id=login.tenant.id if login.tenant else None,
        channel=channel.value,
        cookie_hash=cookie_hash,
        ip=ip,
        user_agent=(user_agent or "")[:400] or None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    session.add(record)
    await session.flush()
    return record


async def start_api_session(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    login: VerifiedLogin,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    auth_session = await _new_session(
        session,
        login=login,
        channel=SessionChannel.api,
        ttl=identity.settings.refresh_token_ttl,
        ip=ip,
        user_agent=user_agent,
    )
    return await mint_pair(
        session,
        identity=identity,
        user_id=login.user.id,
        tenant_id=login.tenant.id if login.tenant else None,
        role=login.role,
        super_admin=login.user.is_super_admin,
        session_id=auth_session.id,
        expires_at=auth_session.expires_at,
    )


async def open_browser_session(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    login: VerifiedLogin,
    ip: str | None = None,
    user_agent: str | None = None,
) -> BrowserSession:
    """A session on the browser channel; its opaque cookie token is returned once and stored
    hashed. Revoking the session signs the browser out everywhere."""
    cookie_token = new_secret(COOKIE_PREFIX)
    auth_session = await _new_session(
        session,
        login=login,
        channel=SessionChannel.browser,
        ttl=identity.settings.browser_session_ttl,
        ip=ip,
        user_agent=user_agent,
        cookie_hash=hash_secret(cookie_token),
    )
    return BrowserSession(
        cookie_token=cookie_token,
        session_id=auth_session.id,
        tenant_id=auth_session.tenant_id,
        expires_at=auth_session.expires_at,
    )


async def verified_login_for(
    session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID | None
) -> VerifiedLogin:
    """A `VerifiedLogin` for a user whose identity was proved another way (just registered,
    accepted an invitation), to open a session with."""
    user = await accounts.user_by_id(session, user_id=user_id)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    if tenant_id is None:
        return VerifiedLogin(user=user, tenant=None, role=None)
    member = await accounts.active_tenant_membership(session, user_id=user_id, tenant_id=tenant_id)
    tenant = await accounts.tenant_by_id(session, tenant_id=tenant_id)
    if member is None or tenant is None:
        raise TenantNotFound()
    return VerifiedLogin(user=user, tenant=tenant, role=member.role)
