"""Password login on either channel: the password (and, when sent, the second factor) under
the login throttle, the membership chosen, the login recorded, the session opened. A user with
two-factor authentication who sent no code gets an MFA challenge instead (mfa_login.py takes
it from there)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import mfa_challenges, totp
from bizosaas.identity.credentials.device_cookies import LoginDevice
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import (
    InvalidCredentials,
    InvalidMfaCode,
    TenantNotFound,
    TenantSuspended,
)
from bizosaas.identity.models import SessionChannel, TenantStatus, User
from bizosaas.identity.records import audit
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import BrowserSession, MfaChallenge, TokenPair
from bizosaas.identity.sessions import login_attempts
from bizosaas.identity.sessions.opening import (
    VerifiedLogin,
    open_browser_session,
    start_api_session,
)
from bizosaas.kit.db import utcnow


async def choose_membership(
    session: AsyncSession, *, user: User, tenant_slug: str | None
) -> VerifiedLogin:
    rows = await accounts.memberships_of(session, user_id=user.id)
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
    identity: IdentityContext,
    email: str,
    password: str,
    tenant_slug: str | None = None,
    totp_code: str | None = None,
    ip: str | None = None,
    channel: SessionChannel = SessionChannel.api,
    device: LoginDevice | None = None,
) -> VerifiedLogin | MfaChallenge:
    """Check password (and second factor) under throttling; pick the membership.

    An unknown address, a wrong password and a deactivated account give the same answer after
    the same work (one Argon2 verification, see sessions/login_attempts.py). `device` carries
    the request's device cookie, which exempts the account's owner from the delays a guesser
    causes, and receives the renewed cookie on success. A user with two-factor authentication
    who sent no code gets an `MfaChallenge` for the chosen tenant, `channel` and `ip` (see
    credentials/mfa_challenges.py).
    """
    email = accounts.normalise_email(email)
    user = await accounts.user_by_email(session, email=email)
    attempt = await login_attempts.begin(identity, user=user, email=email, ip=ip, device=device)
    valid, new_hash = await identity.passwords.verify(
        password, user.password_hash if user else None
    )
    if user is None or not valid or not user.is_active:
        await login_attempts.failed(
            session,
            identity=identity,
            attempt=attempt,
            user=user,
            tried=password,
            tenant_slug=tenant_slug,
            reason="password",
        )
        raise InvalidCredentials("The e-mail address or password is wrong.")
    if new_hash:
        user.password_hash = new_hash
    login = await choose_membership(session, user=user, tenant_slug=tenant_slug)
    if user.totp_enabled_at is not None:
        if not totp_code:
            return await mfa_challenges.issue(
                session,
                user=user,
                tenant_slug=login.tenant.slug if login.tenant else None,
                channel=channel,
                ip=ip,
            )
        await check_second_factor(
            session,
            identity=identity,
            login=login,
            code=totp_code,
            tenant_slug=tenant_slug,
            attempt=attempt,
        )
    await login_attempts.succeeded(identity, attempt=attempt, user=user, device=device)
    return login


async def check_second_factor(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    login: VerifiedLogin,
    code: str,
    tenant_slug: str | None,
    attempt: login_attempts.Attempt,
) -> None:
    """Spend a TOTP or recovery code of `login.user`, or count a failed login (throttle and
    audit, committed) and raise `InvalidMfaCode`. A recovery code's use is audited."""
    user = login.user
    used = await totp.verify_second_factor(
        session, data_keys=identity.data_keys, user=user, code=code
    )
    if used is None:
        await login_attempts.failed(
            session,
            identity=identity,
            attempt=attempt,
            user=user,
            tried=code,
            tenant_slug=tenant_slug,
            reason="mfa",
        )
        raise InvalidMfaCode("The two-factor code is wrong or was already used.")
    if used == "recovery" and login.tenant is not None:
        await audit.record(
            session,
            tenant_id=login.tenant.id,
            action=AuditAction.mfa_recovery_used,
            actor_id=user.id,
            ip=attempt.throttled.ip,
        )


async def complete_login(
    session: AsyncSession, *, login: VerifiedLogin, ip: str | None, channel: SessionChannel
) -> None:
    """Record a successful login (last use, audit) before its session opens."""
    now = utcnow()
    login.user.last_login_at = now
    if login.tenant is not None:
        member = await accounts.membership(
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
    identity: IdentityContext,
    email: str,
    password: str,
    tenant_slug: str | None,
    totp_code: str | None,
    ip: str | None,
    channel: SessionChannel,
    device: LoginDevice | None,
) -> VerifiedLogin | MfaChallenge:
    """`verify_login` then, unless it answered an MFA challenge, `complete_login`: the shared
    first half of a password login on either channel."""
    outcome = await verify_login(
        session,
        identity=identity,
        email=email,
        password=password,
        tenant_slug=tenant_slug,
        totp_code=totp_code,
        ip=ip,
        channel=channel,
        device=device,
    )
    if not isinstance(outcome, MfaChallenge):
        await complete_login(session, login=outcome, ip=ip, channel=channel)
    return outcome


async def authenticate_password(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    email: str,
    password: str,
    tenant_slug: str | None = None,
    totp_code: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    device: LoginDevice | None = None,
) -> TokenPair | MfaChallenge:
    """Password login for API clients: a new session and its token pair, or an MFA challenge
    to complete with `complete_mfa_login` (mfa_login.py)."""
    outcome = await _password_login(
        session,
        identity=identity,
        email=email,
        password=password,
        tenant_slug=tenant_slug,
        totp_code=totp_code,
        ip=ip,
        channel=SessionChannel.api,
        device=device,
    )
    if isinstance(outcome, MfaChallenge):
        return outcome
    return await start_api_session(
        session, identity=identity, login=outcome, ip=ip, user_agent=user_agent
    )


async def login_browser(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    email: str,
    password: str,
    tenant_slug: str | None = None,
    totp_code: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    device: LoginDevice | None = None,
) -> BrowserSession | MfaChallenge:
    """Password login for the web apps: a browser session (cookie) or an MFA challenge to
    complete with `complete_mfa_browser_login` (mfa_login.py)."""
    outcome = await _password_login(
        session,
        identity=identity,
        email=email,
        password=password,
        tenant_slug=tenant_slug,
        totp_code=totp_code,
        ip=ip,
        channel=SessionChannel.browser,
        device=device,
    )
    if isinstance(outcome, MfaChallenge):
        return outcome
    return await open_browser_session(
        session, identity=identity, login=outcome, ip=ip, user_agent=user_agent
    )
