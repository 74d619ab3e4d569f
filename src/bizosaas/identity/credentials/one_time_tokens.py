"""Single-use, expiring tokens sent by e-mail (password reset, e-mail verification).

Links point at the web app: `<public url>/auth/reset-password?token=...` and
`<public url>/auth/verify-email?token=...`. A new token of a purpose cancels the user's older
unused ones of that purpose.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import runtime
from bizosaas.identity.exceptions import InvalidOneTimeToken
from bizosaas.identity.mail import request_mail
from bizosaas.identity.models import OneTimePurpose, OneTimeToken, User
from bizosaas.identity.tokens import ONE_TIME_PREFIX, hash_secret, new_secret
from bizosaas.kit.db import utcnow

RESET_PATH = "/auth/reset-password"
VERIFY_PATH = "/auth/verify-email"


async def issue(session: AsyncSession, *, user: User, purpose: OneTimePurpose, ttl: int) -> str:
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == purpose.value,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    token = new_secret(ONE_TIME_PREFIX)
    session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=hash_secret(token),
            expires_at=utcnow() + timedelta(seconds=ttl),
        )
    )
    await session.flush()
    return token


async def consume(session: AsyncSession, *, token: str, purpose: OneTimePurpose) -> User:
    """The token's user, with the token spent; `InvalidOneTimeToken` when unknown, expired,
    used, or of another purpose."""
    row = await session.scalar(
        select(OneTimeToken).where(OneTimeToken.token_hash == hash_secret(token))
    )
    now = utcnow()
    if (
        row is None
        or row.purpose != purpose.value
        or row.used_at is not None
        or row.expires_at <= now
    ):
        raise InvalidOneTimeToken()
    claimed = await session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise InvalidOneTimeToken()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidOneTimeToken()
    return user


async def send_verification(session: AsyncSession, *, user: User) -> None:
    settings = runtime.current().settings
    token = await issue(
        session,
        user=user,
        purpose=OneTimePurpose.email_verification,
        ttl=settings.email_verification_ttl,
    )
    link = f"{settings.base_url}{VERIFY_PATH}?token={token}"
    request_mail(
        session,
        to=user.email,
        subject="Confirm your e-mail address",
        body=(
            f"Hello {user.full_name or user.email},\n\n"
            f"Confirm your e-mail address for BizOSaaS by opening this link:\n{link}\n\n"
            f"Or enter this code: {token}\n\n"
            "If you did not sign up, ignore this message."
        ),
    )


async def send_password_reset(session: AsyncSession, *, user: User) -> None:
    settings = runtime.current().settings
    token = await issue(
        session, user=user, purpose=OneTimePurpose.password_reset, ttl=settings.password_reset_ttl
    )
    link = f"{settings.base_url}{RESET_PATH}?token={token}"
    minutes = settings.password_reset_ttl // 60
    request_mail(
        session,
        to=user.email,
        subject="Reset your BizOSaaS password",
        body=(
            f"Hello {user.full_name or user.email},\n\n"
            f"Someone asked to reset your password. To choose a new one, open this link within "
            f"{minutes} minutes:\n{link}\n\nOr enter this code: {token}\n\n"
            "If it was not you, ignore this message: your password stays as it is."
        ),
    )
