"""Registration, password login (API and browser, with the second factor), switching tenant
and the signed-in user's profile. Refresh-token rotation lives in rotation.py, a user's own
sessions in user_sessions.py."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import audit, challenges, mfa, onetime, repository, runtime
from bizosaas.identity.events import TENANT_CREATED, AuditAction, TenantCreated
from bizosaas.identity.exceptions import (
    EmailTaken,
    InvalidCredentials,
    InvalidMfaCode,
    SlugTaken,
    TenantNotFound,
    TenantSuspended,
)
from bizosaas.identity.models import (
    AuthSession,
    Membership,
    SessionChannel,
    Tenant,
    TenantStatus,
    User,
)
from bizosaas.identity.passwords import check_password_policy
from bizosaas.identity.rotation import (
    commit_before_failing,
    mint_pair,
    revoke_sessions,
)
from bizosaas.identity.schemas import (
    BrowserSession,
    Me,
    MembershipRead,
    MfaChallenge,
    Registration,
    TenantRead,
    TokenPair,
    UserRead,
)
from bizosaas.identity.tokens import (
    COOKIE_PREFIX,
    hash_secret,
    new_secret,
)
from bizosaas.kit.db import utcnow
from bizosaas.kit.outbox import record_event
from bizosaas.kit.permissions import Role

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        is_super_admin=user.is_super_admin,
        is_active=user.is_active,
        email_verified_at=user.email_verified_at,
        mfa_enabled=user.totp_enabled_at is not None,
        created_at=user.created_at,
    )


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _SLUG_CHARS.sub("-", ascii_name.lower()).strip("-")[:50]
    return slug or "tenant"


# -- tenants and users ---------------------------------------------------------------------


async def create_tenant(session: AsyncSession, *, name: str, slug: str | None = None) -> Tenant:
    """A new active tenant. Without `slug`, one is made from the name (unique)."""
    if slug is not None:
        slug = slug.strip().lower()
        if await repository.tenant_by_slug(session, slug) is not None:
            raise SlugTaken(f"The slug {slug!r} is taken.")
    else:
        base = slugify(name)
        slug = base
        while await repository.tenant_by_slug(session, slug) is not None:
            slug = f"{base}-{secrets.token_hex(2)}"
    tenant = Tenant(name=name.strip(), slug=slug, status=TenantStatus.active.value)
    session.add(tenant)
    await session.flush()
    record_event(
        session,
        TENANT_CREATED,
        TenantCreated(tenant_id=tenant.id, slug=tenant.slug, name=tenant.name),
        tenant_id=tenant.id,
    )
    return tenant


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    full_name: str,
    super_admin: bool = False,
    verified: bool = False,
) -> User:
    identity = runtime.current()
    email = repository.normalise_email(email)
    if await repository.user_by_email(session, email) is not None:
        raise EmailTaken("An account with this e-mail address exists; sign in instead.")
    password = check_password_policy(
        password, min_length=identity.settings.password_min_length, email=email
    )
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=await identity.passwords.hash(password),
        is_super_admin=super_admin,
        email_verified_at=utcnow() if verified else None,
        password_changed_at=utcnow(),
    )
    session.add(user)
    await session.flush()
    return user


async def add_membership(
    session: AsyncSession, *, tenant: Tenant, user: User, role: Role | str
) -> Membership:
    member = Membership(tenant_id=tenant.id, user_id=user.id, role=Role(role).value)
    session.add(member)
    await session.flush()
    return member


async def register(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    full_name: str,
    tenant_name: str,
    ip: str | None = None,
) -> Registration:
    """Sign-up: a new tenant and its first tenant admin (joining a tenant is by invitation)."""
    user = await create_user(session, email=email, password=password, full_name=full_name)
    tenant = await create_tenant(session, name=tenant_name)
    await add_membership(session, tenant=tenant, user=user, role=Role.tenant_admin)
    await audit.record(
        session,
        tenant_id=tenant.id,
        action=AuditAction.tenant_created,
        actor_id=user.id,
        target=tenant.slug,
        ip=ip,
    )
    await onetime.send_verification(session, user=user)
    return Registration(user=user_read(user), tenant=TenantRead.model_validate(tenant))


# -- sessions and tokens --------------------------------------------------------------------


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


async def choose_membership(
    session: AsyncSession, *, user: User, tenant_slug: str | None
) -> VerifiedLogin:
    rows = await repository.memberships_of(session, user.id)
    if tenant_slug:
        wanted = tenant_slug.strip().lower()
        for member, tenant in rows:
            if tenant.slug == wanted:
                if tenant.status != TenantStatus.active.value:
                    raise TenantSuspended()
                return VerifiedLogin(user=user, tenant=tenant, role=member.role)
        raise TenantNotFound(f"You are not a member of a tenant {wanted!r}.")
    for member, tenant in rows:
        if tenant.status == TenantStatus.active.value:
            return VerifiedLogin(user=user, tenant=tenant, role=member.role)
    if rows and not user.is_super_admin:
        raise TenantSuspended("Every tenant you belong to is suspended.")
    return VerifiedLogin(user=user, tenant=None, role=None)


async def verify_login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    tenant_slug: str | None = None,
    totp_code: str | None = None,
    ip: str | None = None,
    channel: SessionChannel = SessionChannel.api,
) -> VerifiedLogin | MfaChallenge:
    """Check password (and second factor) under throttling; pick the membership.

    An unknown address, a wrong password and a deactivated account give the same answer after
    the same work (one Argon2 verification). A user with two-factor authentication who sent no
    code gets an `MfaChallenge` for the chosen tenant, `channel` and `ip` (see challenges.py).
    """
    identity = runtime.current()
    email = repository.normalise_email(email)
    await identity.throttle.check(email=email, ip=ip)
    user = await repository.user_by_email(session, email)
    valid, new_hash = await identity.passwords.verify(
        password, user.password_hash if user else None
    )
    if user is None or not valid or not user.is_active:
        await identity.throttle.failed(email=email, ip=ip)
        if user is not None:
            await _audit_failure(
                session, user=user, tenant_slug=tenant_slug, ip=ip, reason="password"
            )
        raise InvalidCredentials("The e-mail address or password is wrong.")
    if new_hash:
        user.password_hash = new_hash
    login = await choose_membership(session, user=user, tenant_slug=tenant_slug)
    if user.totp_enabled_at is not None:
        if not totp_code:
            return await challenges.issue(
                session,
                user=user,
                tenant_slug=login.tenant.slug if login.tenant else None,
                channel=channel,
                ip=ip,
            )
        await check_second_factor(
            session, login=login, code=totp_code, tenant_slug=tenant_slug, ip=ip
        )
    await identity.throttle.succeeded(email=email)
    return login


async def check_second_factor(
    session: AsyncSession,
    *,
    login: VerifiedLogin,
    code: str,
    tenant_slug: str | None,
    ip: str | None,
) -> None:
    """Spend a TOTP or recovery code of `login.user`, or count a failed login (throttle and
    audit, committed) and raise `InvalidMfaCode`. A recovery code's use is audited."""
    user = login.user
    used = await mfa.verify_second_factor(session, user=user, code=code)
    if used is None:
        await runtime.current().throttle.failed(email=user.email, ip=ip)
        await _audit_failure(session, user=user, tenant_slug=tenant_slug, ip=ip, reason="mfa")
        raise InvalidMfaCode("The two-factor code is wrong or was already used.")
    if used == "recovery" and login.tenant is not None:
        await audit.record(
            session,
            tenant_id=login.tenant.id,
            action=AuditAction.mfa_recovery_used,
            actor_id=user.id,
            ip=ip,
        )


async def _audit_failure(
    session: AsyncSession, *, user: User, tenant_slug: str | None, ip: str | None, reason: str
) -> None:
    """Record a failed login in the tenant it aimed at (or the user's latest one), then commit:
    the request fails, but its record must stay."""
    rows = await repository.memberships_of(session, user.id)
    wanted = (tenant_slug or "").strip().lower()
    target = next((t for _m, t in rows if t.slug == wanted), rows[0][1] if rows else None)
    if target is None:
        return
    await audit.record(
        session,
        tenant_id=target.id,
        action=AuditAction.login_failed,
        actor_id=user.id,
        ip=ip,
        details={"reason": reason},
    )
    await commit_before_failing(session)


async def complete_login(
    session: AsyncSession, *, login: VerifiedLogin, ip: str | None, channel: SessionChannel
) -> None:
    """Record a successful login (last use, audit) before its session opens."""
    now = utcnow()
    login.user.last_login_at = now
    if login.tenant is not None:
        member = await repository.membership(
            session, user_id=login.user.id, tenant_id=login.tenant.id
        )
        if member is not None:
            member.last_used_at = now
        await audit.record(
            session,
            tenant_id=login.tenant.id,
            action=AuditAction.login_succeeded,
            actor_id=login.user.id,
            ip=ip,
            details={"channel": channel.value},
        )


async def _password_login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    tenant_slug: str | None,
    totp_code: str | None,
    ip: str | None,
    channel: SessionChannel,
) -> VerifiedLogin | MfaChallenge:
    """`verify_login` then, unless it answered an MFA challenge, `complete_login`: the shared
    first half of a password login on either channel."""
    outcome = await verify_login(
        session,
        email=email,
        password=password,
        tenant_slug=tenant_slug,
        totp_code=totp_code,
        ip=ip,
        channel=channel,
    )
    if not isinstance(outcome, MfaChallenge):
        await complete_login(session, login=outcome, ip=ip, channel=channel)
    return outcome


async def start_api_session(
    session: AsyncSession,
    *,
    login: VerifiedLogin,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    auth_session = await _new_session(
        session,
        login=login,
        channel=SessionChannel.api,
        ttl=runtime.current().settings.refresh_token_ttl,
        ip=ip,
        user_agent=user_agent,
    )
    return await _issue_pair(session, login=login, auth_session=auth_session)


async def authenticate_password(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    tenant_slug: str | None = None,
    totp_code: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair | MfaChallenge:
    """Password login for API clients: a new session and its token pair, or an MFA challenge
    to complete with `complete_mfa_login` (mfa_login.py)."""
    outcome = await _password_login(
        session,
        email=email,
        password=password,
        tenant_slug=tenant_slug,
        totp_code=totp_code,
        ip=ip,
        channel=SessionChannel.api,
    )
    if isinstance(outcome, MfaChallenge):
        return outcome
    return await start_api_session(session, login=outcome, ip=ip, user_agent=user_agent)


async def open_browser_session(
    session: AsyncSession,
    *,
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
        ttl=runtime.current().settings.browser_session_ttl,
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


async def login_browser(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    tenant_slug: str | None = None,
    totp_code: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> BrowserSession | MfaChallenge:
    """Password login for the web apps: a browser session (cookie) or an MFA challenge to
    complete with `complete_mfa_browser_login` (mfa_login.py)."""
    outcome = await _password_login(
        session,
        email=email,
        password=password,
        tenant_slug=tenant_slug,
        totp_code=totp_code,
        ip=ip,
        channel=SessionChannel.browser,
    )
    if isinstance(outcome, MfaChallenge):
        return outcome
    return await open_browser_session(session, login=outcome, ip=ip, user_agent=user_agent)


async def switch_tenant(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    tenant: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair | BrowserSession:
    """Credentials for another of the user's memberships (by slug or id). The current session
    ends and a new one on the same channel starts, so tokens never mix tenants."""
    user = await session.get(User, user_id)
    current = await session.get(AuthSession, session_id)
    if user is None or current is None or current.user_id != user_id:
        raise TenantNotFound()
    target: Tenant | None
    try:
        target = await session.get(Tenant, uuid.UUID(tenant))
    except ValueError:
        target = await repository.tenant_by_slug(session, tenant)
    member = (
        await repository.membership(session, user_id=user_id, tenant_id=target.id)
        if target
        else None
    )
    if target is None or member is None:
        raise TenantNotFound(f"You are not a member of a tenant {tenant!r}.")
    if target.status != TenantStatus.active.value:
        raise TenantSuspended()
    await revoke_sessions(session, AuthSession.id == current.id, reason="tenant_switch")
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
        return await open_browser_session(session, login=login, ip=ip, user_agent=user_agent)
    return await start_api_session(session, login=login, ip=ip, user_agent=user_agent)


async def verified_login_for(
    session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID | None
) -> VerifiedLogin:
    """A `VerifiedLogin` for a user whose identity was proved another way (just registered,
    accepted an invitation), to open a session with."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    if tenant_id is None:
        return VerifiedLogin(user=user, tenant=None, role=None)
    member = await repository.active_tenant_membership(
        session, user_id=user_id, tenant_id=tenant_id
    )
    tenant = await session.get(Tenant, tenant_id)
    if member is None or tenant is None:
        raise TenantNotFound()
    return VerifiedLogin(user=user, tenant=tenant, role=member.role)


async def me(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    roles: list[str],
    permissions: list[str],
) -> Me:
    user = await session.get(User, user_id)
    if user is None:
        raise InvalidCredentials()
    rows = await repository.memberships_of(session, user_id)
    memberships = [
        MembershipRead(tenant=TenantRead.model_validate(tenant), role=member.role)
        for member, tenant in rows
    ]
    current = next((m.tenant for m in memberships if m.tenant.id == tenant_id), None)
    return Me(
        user=user_read(user),
        tenant=current,
        roles=sorted(roles),
        permissions=sorted(permissions),
        session_id=session_id,
        memberships=memberships,
    )


async def _issue_pair(
    session: AsyncSession, *, login: VerifiedLogin, auth_session: AuthSession
) -> TokenPair:
    return await mint_pair(
        session,
        user_id=login.user.id,
        tenant_id=login.tenant.id if login.tenant else None,
        role=login.role,
        super_admin=login.user.is_super_admin,
        session_id=auth_session.id,
        expires_at=auth_session.expires_at,
    )
