"""MFA challenges: the opaque token that carries a login from the password to the code.

After a correct password for a user with two-factor authentication, the caller gets a random
`bzm_` token (stored as its SHA-256 hash) instead of a session. It lives `CHALLENGE_TTL`
seconds, is bound to the tenant chosen at the password step, the channel (api or browser) and
the client address, completes one login, and dies after `MAX_ATTEMPTS` wrong codes. Nobody
keeps the password between the two steps.

Dead challenges (past their expiry, used or not) are swept when a new one is issued: up to
`SWEEP_BATCH` of them, of any user, in the same transaction. Identity runs no periodic jobs
(its startup hook runs once per process), and challenges only come into being at a password
step, so sweeping there keeps the table at about the challenges of the last `CHALLENGE_TTL`
seconds, including those of users who never sign in again: each new row takes up to
`SWEEP_BATCH` dead ones with it. That small table is also why `expires_at` needs no index.
The table is global (no tenant id, no row-level security: see models.py), so the sweep needs
no tenant scope and sees every row on PostgreSQL as on SQLite. Rows another transaction holds
(a completion in flight) are skipped, not waited for, so concurrent password steps never queue
or deadlock on each other's sweep.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.credentials.tokens import MFA_CHALLENGE_PREFIX, hash_secret, new_secret
from bizosaas.identity.exceptions import MfaChallengeInvalid
from bizosaas.identity.models import MfaChallengeToken, SessionChannel, User
from bizosaas.identity.repository import credentials
from bizosaas.identity.schemas import MfaChallenge
from bizosaas.kit.db import utcnow

CHALLENGE_TTL = 300
MAX_ATTEMPTS = 5
SWEEP_BATCH = 100


async def issue(
    session: AsyncSession,
    *,
    user: User,
    tenant_slug: str | None,
    channel: SessionChannel,
    ip: str | None,
) -> MfaChallenge:
    now = utcnow()
    await sweep_expired(session, now=now)
    token = new_secret(MFA_CHALLENGE_PREFIX)
    session.add(
        MfaChallengeToken(
            user_id=user.id,
            token_hash=hash_secret(token),
            tenant_slug=tenant_slug,
            channel=channel.value,
            ip=ip,
            attempts=0,
            expires_at=now + timedelta(seconds=CHALLENGE_TTL),
        )
    )
    await session.flush()
    return MfaChallenge(mfa_token=token, expires_in=CHALLENGE_TTL)


async def sweep_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete up to `SWEEP_BATCH` challenges of any user that expired by `now`, used or not,
    skipping rows locked by another transaction. Answers how many went."""
    return await credentials.delete_expired_challenges(session, now=now, limit=SWEEP_BATCH)


async def pending(
    session: AsyncSession, *, token: str, channel: SessionChannel, ip: str | None
) -> MfaChallengeToken:
    """The live challenge for `token` on this channel and address; `MfaChallengeInvalid` when
    it is unknown, expired, used up, or was issued to another channel or address."""
    row = await credentials.challenge_by_hash(session, token_hash=hash_secret(token))
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= utcnow()
        or row.attempts >= MAX_ATTEMPTS
        or row.channel != channel.value
        or (row.ip is not None and row.ip != ip)
    ):
        raise MfaChallengeInvalid()
    return row


async def record_wrong_code(
    session: AsyncSession, *, challenge_id: uuid.UUID, attempts_before: int
) -> int:
    """Count a wrong code; the last allowed one ends the challenge. Answers attempts left."""
    attempts = attempts_before + 1
    await credentials.count_wrong_code(
        session, challenge_id=challenge_id, end_challenge=attempts >= MAX_ATTEMPTS
    )
    return max(0, MAX_ATTEMPTS - attempts)


async def consume(session: AsyncSession, *, challenge: MfaChallengeToken) -> None:
    """Spend the challenge; a concurrent completion of the same challenge loses."""
    if not await credentials.claim_challenge(
        session, challenge_id=challenge.id, max_attempts=MAX_ATTEMPTS
    ):
        raise MfaChallengeInvalid()
