"""Queries of API keys, one-time tokens, MFA challenges, recovery codes and TOTP secrets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.models import (
    ApiKey,
    MfaChallengeToken,
    OneTimePurpose,
    OneTimeToken,
    RecoveryCode,
    Tenant,
    User,
)
from bizosaas.kit import crypto
from bizosaas.kit.db import utcnow
from bizosaas.kit.tenancy import TenantScope


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0))


# -- API keys (tenant-owned) ---------------------------------------------------------------


async def api_keys_in_scope(session: AsyncSession, *, scope: TenantScope) -> Sequence[ApiKey]:
    """The tenant's API keys, newest first."""
    rows = await session.scalars(
        select(ApiKey).where(ApiKey.tenant_id == scope.tenant_id).order_by(ApiKey.created_at.desc())
    )
    return rows.all()


async def api_key_in_scope(
    session: AsyncSession, *, scope: TenantScope, key_id: uuid.UUID
) -> ApiKey | None:
    return await session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == scope.tenant_id)
    )


async def api_key_by_hash(
    session: AsyncSession, *, scope: TenantScope, key_hash: str
) -> tuple[ApiKey, str] | None:
    """The key with its tenant's status."""
    row = (
        await session.execute(
            select(ApiKey, Tenant.status)
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.key_hash == key_hash, ApiKey.tenant_id == scope.tenant_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def revoke_api_keys_created_by(
    session: AsyncSession, *, scope: TenantScope, user_id: uuid.UUID
) -> None:
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.tenant_id == scope.tenant_id,
            ApiKey.created_by == user_id,
            ApiKey.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# -- one-time tokens ------------------------------------------------------------------------


async def retire_one_time_tokens(
    session: AsyncSession, *, user_id: uuid.UUID, purpose: OneTimePurpose
) -> None:
    """Spend the user's unused tokens of `purpose` (a new one replaces them)."""
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose.value,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def one_time_token_by_hash(session: AsyncSession, *, token_hash: str) -> OneTimeToken | None:
    return await session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == token_hash))


async def claim_one_time_token(
    session: AsyncSession, *, token_id: uuid.UUID, now: datetime
) -> bool:
    """Spend the token, atomically: False when another request spent it first."""
    claimed = await session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == token_id, OneTimeToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return _count(claimed) == 1


# -- MFA challenges -------------------------------------------------------------------------


async def delete_expired_challenges(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Delete up to `limit` challenges of any user that expired by `now`, skipping rows another
    transaction holds. Answers how many went."""
    dead = (
        select(MfaChallengeToken.id)
        .where(MfaChallengeToken.expires_at <= now)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    swept = await session.execute(
        delete(MfaChallengeToken)
        .where(MfaChallengeToken.id.in_(dead))
        .execution_options(synchronize_session=False)
    )
    return _count(swept)


async def challenge_by_hash(session: AsyncSession, *, token_hash: str) -> MfaChallengeToken | None:
    return await session.scalar(
        select(MfaChallengeToken).where(MfaChallengeToken.token_hash == token_hash)
    )


async def count_wrong_code(
    session: AsyncSession, *, challenge_id: uuid.UUID, end_challenge: bool
) -> None:
    values: dict[str, object] = {"attempts": MfaChallengeToken.attempts + 1}
    if end_challenge:
        values["used_at"] = utcnow()
    await session.execute(
        update(MfaChallengeToken)
        .where(MfaChallengeToken.id == challenge_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )


async def claim_challenge(
    session: AsyncSession, *, challenge_id: uuid.UUID, max_attempts: int
) -> bool:
    """Spend the challenge, atomically: False when a concurrent completion won."""
    claimed = await session.execute(
        update(MfaChallengeToken)
        .where(
            MfaChallengeToken.id == challenge_id,
            MfaChallengeToken.used_at.is_(None),
            MfaChallengeToken.attempts < max_attempts,
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _count(claimed) == 1


# -- recovery codes and TOTP secrets ----------------------------------------------------------


async def delete_recovery_codes(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


async def spend_recovery_code(session: AsyncSession, *, user_id: uuid.UUID, code_hash: str) -> bool:
    """Mark the user's unused code with this hash used: False when there is none."""
    spent = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _count(spent) == 1


async def count_unused_recovery_codes(session: AsyncSession, *, user_id: object) -> int:
    rows = await session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(rows.all())


async def plain_totp_secrets(session: AsyncSession) -> Sequence[Row[uuid.UUID, str | None]]:
    """(user id, secret) of every TOTP secret still stored in plain text."""
    rows = await session.execute(
        select(User.id, User.totp_secret).where(
            User.totp_secret.is_not(None), User.totp_secret.not_like(f"{crypto.SCHEME}:%")
        )
    )
    return rows.all()


async def replace_totp_secret(
    session: AsyncSession, *, user_id: uuid.UUID, stored: str, replacement: str
) -> int:
    """Swap the stored secret if it is still `stored` (another process may have sealed it)."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.totp_secret == stored)
        .values(totp_secret=replacement)
        .execution_options(synchronize_session=False)
    )
    return _count(result)
