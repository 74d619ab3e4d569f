"""The second step of a login with two-factor authentication: challenge token plus code.

`verify_login` answers an `MfaChallenge` after a correct password; these functions take its
`mfa_token` and a TOTP or recovery code, under the same throttling and audit as the password
step, spend the challenge and open the session on the channel it was issued for.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import mfa_challenges
from bizosaas.identity.credentials.device_cookies import LoginDevice
from bizosaas.identity.exceptions import InvalidMfaCode, MfaChallengeInvalid
from bizosaas.identity.models import SessionChannel
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import BrowserSession, TokenPair
from bizosaas.identity.sessions import login_attempts
from bizosaas.identity.sessions.opening import (
    VerifiedLogin,
    open_browser_session,
    start_api_session,
)
from bizosaas.identity.sessions.password_login import (
    check_second_factor,
    choose_membership,
    complete_login,
)
from bizosaas.identity.sessions.rotation import commit_before_failing


async def _verify(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    challenge_token: str,
    code: str,
    channel: SessionChannel,
    tenant_slug: str | None,
    ip: str | None,
    device: LoginDevice | None,
) -> VerifiedLogin:
    challenge = await mfa_challenges.pending(session, token=challenge_token, channel=channel, ip=ip)
    if tenant_slug is not None and tenant_slug.strip().lower() != challenge.tenant_slug:
        raise MfaChallengeInvalid("This sign-in was started for another tenant.")
    user = await accounts.user_by_id(session, user_id=challenge.user_id)
    if user is None or not user.is_active or user.totp_enabled_at is None:
        raise MfaChallengeInvalid()
    attempt = await login_attempts.begin(
        identity, user=user, email=user.email, ip=ip, device=device
    )
    login = await choose_membership(session, user=user, tenant_slug=challenge.tenant_slug)
    challenge_id, attempts_before = challenge.id, challenge.attempts
    try:
        await check_second_factor(
            session,
            identity=identity,
            login=login,
            code=code,
            tenant_slug=challenge.tenant_slug,
            attempt=attempt,
        )
    except InvalidMfaCode as wrong:
        # The failed login was committed above: count the attempt in a transaction of its own.
        left = await mfa_challenges.record_wrong_code(
            session, challenge_id=challenge_id, attempts_before=attempts_before
        )
        await commit_before_failing(session)
        raise InvalidMfaCode(wrong.detail, attempts_left=left) from None
    await mfa_challenges.consume(session, challenge=challenge)
    await login_attempts.succeeded(identity, attempt=attempt, user=user, device=device)
    await complete_login(session, login=login, ip=ip, channel=channel)
    return login


async def complete_mfa_login(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    challenge_token: str,
    code: str,
    tenant_slug: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    device: LoginDevice | None = None,
) -> TokenPair:
    """API channel: the token pair of a new session. `tenant_slug`, when given, must be the
    tenant the password step chose."""
    login = await _verify(
        session,
        identity=identity,
        challenge_token=challenge_token,
        code=code,
        channel=SessionChannel.api,
        tenant_slug=tenant_slug,
        ip=ip,
        device=device,
    )
    return await start_api_session(
        session, identity=identity, login=login, ip=ip, user_agent=user_agent
    )


async def complete_mfa_browser_login(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    challenge_token: str,
    code: str,
    ip: str | None = None,
    user_agent: str | None = None,
    device: LoginDevice | None = None,
) -> BrowserSession:
    """Browser channel: a new browser session (its cookie token)."""
    login = await _verify(
        session,
        identity=identity,
        challenge_token=challenge_token,
        code=code,
        channel=SessionChannel.browser,
        tenant_slug=None,
        ip=ip,
        device=device,
    )
    return await open_browser_session(
        session, identity=identity, login=login, ip=ip, user_agent=user_agent
    )


async def mfa_challenge_pending(
    session: AsyncSession, *, challenge_token: str, channel: SessionChannel, ip: str | None = None
) -> bool:
    """Whether the challenge can still complete a login (for showing the code form)."""
    try:
        await mfa_challenges.pending(session, token=challenge_token, channel=channel, ip=ip)
    except MfaChallengeInvalid:
        return False
    return True
