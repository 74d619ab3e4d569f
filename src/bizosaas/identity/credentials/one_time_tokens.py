"""Single-use, expiring tokens sent by e-mail (password reset, e-mail verification).

Links point at the web app: `<public url>/auth/reset-password?token=...` and
`<public url>/auth/verify-email?token=...`. A new token of a purpose cancels the user's older
unused ones of that purpose.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.credentials.tokens import ONE_TIME_PREFIX, hash_secret, new_secret
from bizosaas.identity.exceptions import InvalidOneTimeToken
from bizosaas.identity.models import OneTimePurpose, OneTimeToken, User
from bizosaas.identity.records.mail import request_mail
from bizosaas.identity.repository import accounts, credentials
from bizosaas.kit.db import utcnow
from bizosaas.kit.text import unlinkable
from bizosaas.settings import Settings

RESET_PATH = "/auth/reset-password"
VERIFY_PATH = "/auth/verify-email"


async def issue(session: AsyncSession, *, user: User, purpose: OneTimePurpose, ttl: int) -> str:
    await credentials.retire_one_time_tokens(session, user_id=user.id, purpose=purpose)
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
    row = await credentials.one_time_token_by_hash(session, token_hash=hash_secret(token))
    now = utcnow()
    if (
        row is None
        or row.purpose != purpose.value
        or row.used_at is not None
        or row.expires_at <= now
    ):
        raise InvalidOneTimeToken()
    if not await credentials.claim_one_time_token(session, token_id=row.id, now=now):
        raise InvalidOneTimeToken()
    user = await accounts.user_by_id(session, user_id=row.user_id)
    if user is None or not user.is_active:
        raise InvalidOneTimeToken()
    return user


async def send_verification(
    session: AsyncSession, *, settings: Settings, user: User, event_id: uuid.UUID | None = None
) -> None:
    """Mail a new verification link (`event_id`: see `request_mail`)."""
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
            f"Hello {unlinkable(user.full_name or user.email)},\n\n"
            f"Confirm your e-mail address for BizOSaaS by opening this link:\n{link}\n\n"
            f"Or enter this code: {token}\n\n"
            "If you did not sign up, ignore this message."
        ),
        event_id=event_id,
    )


async def send_password_reset(
    session: AsyncSession, *, settings: Settings, user: User, event_id: uuid.UUID | None = None
) -> None:
    """Mail a new reset link (`event_id`: see `request_mail`)."""
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
            f"Hello {unlinkable(user.full_name or user.email)},\n\n"
            f"Someone asked to reset your password. To choose a new one, open this link within "
            f"{minutes} minutes:\n{link}\n\nOr enter this code: {token}\n\n"
            "If it was not you, ignore this message: your password stays as it is."
        ),
        event_id=event_id,
    )
