"""Queries of sessions and refresh tokens.

Refresh is the hottest identity path, so its statements run on the session's connection as
plain SQL (no ORM identity map): one read joining token, session, user, membership and tenant,
one conditional UPDATE that claims the token, one INSERT of the next token.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.models import (
    AuthSession,
    Membership,
    RefreshToken,
    SessionChannel,
    Tenant,
    User,
)
from bizosaas.kit.db import utcnow
from bizosaas.kit.ids import uuid7


async def auth_session_by_id(session: AsyncSession, *, session_id: uuid.UUID) -> AuthSession | None:
    return await session.get(AuthSession, session_id)


async def live_sessions_of(session: AsyncSession, *, user_id: uuid.UUID) -> list[AuthSession]:
    """The user's sessions neither revoked nor expired, newest first."""
    rows = await session.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.created_at.desc())
    )
    return list(rows.all())


async def ended_session_ids(
    session: AsyncSession, *, since: datetime, now: datetime
) -> list[uuid.UUID]:
    """Sessions revoked, or expired, after `since`: the embedded session guard's whole view of
    which sessions ended (one query per process per check interval, see sessions/guard.py)."""
    rows = await session.scalars(
        select(AuthSession.id).where(
            or_(
                AuthSession.revoked_at > since,
                and_(AuthSession.expires_at > since, AuthSession.expires_at <= now),
            )
        )
    )
    return list(rows.all())


async def live_session_ids(
    session: AsyncSession, *, session_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of `session_ids` that are neither revoked nor expired."""
    rows = await session.scalars(
        select(AuthSession.id).where(
            AuthSession.id.in_(session_ids),
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
    )
    return set(rows.all())


async def browser_session_by_cookie(
    session: AsyncSession, *, cookie_hash: str
) -> tuple[AuthSession, User] | None:
    row = (
        await session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(
                AuthSession.cookie_hash == cookie_hash,
                AuthSession.channel == SessionChannel.browser.value,
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def revoke_live_sessions(
    session: AsyncSession,
    *,
    reason: str,
    session_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
    except_session_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Revoke every live session matching all the given filters; answers their ids."""
    conditions = [
        condition
        for value, condition in (
            (session_id, AuthSession.id == session_id),
            (user_id, AuthSession.user_id == user_id),
            (tenant_id, AuthSession.tenant_id == tenant_id),
            (except_session_id, AuthSession.id != except_session_id),
        )
        if value is not None
    ]
    if session_id is None and user_id is None and tenant_id is None:
        raise ValueError("name the session, user or tenant whose sessions end")
    ids = list(
        (
            await session.scalars(
                select(AuthSession.id).where(AuthSession.revoked_at.is_(None), *conditions)
            )
        ).all()
    )
    if ids:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id.in_(ids))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
    return ids


# -- refresh tokens (database store) --------------------------------------------------------
# Built once at import: building a statement, and its cache key, cost more than running it.

_TOKEN_STATE = (
    select(
        RefreshToken.id,
        RefreshToken.used_at,
        RefreshToken.expires_at,
        AuthSession.id.label("session_id"),
        AuthSession.user_id,
        AuthSession.tenant_id,
        AuthSession.revoked_at,
        AuthSession.expires_at.label("session_expires_at"),
        AuthSession.last_seen_at,
        User.is_active,
        User.is_super_admin,
        Membership.role,
        Tenant.status,
    )
    .join(AuthSession, AuthSession.id == RefreshToken.session_id)
    .join(User, User.id == AuthSession.user_id)
    .outerjoin(
        Membership,
        and_(
            Membership.user_id == AuthSession.user_id,
            Membership.tenant_id == AuthSession.tenant_id,
        ),
    )
    .outerjoin(Tenant, Tenant.id == AuthSession.tenant_id)
    .where(RefreshToken.token_hash == bindparam("token_hash"))
)
_CLAIM_TOKEN = (
    update(RefreshToken)
    .where(RefreshToken.id == bindparam("token_id"), RefreshToken.used_at.is_(None))
    .values(used_at=bindparam("now"))
)
_ADD_TOKEN = insert(RefreshToken)
_TOUCH_SESSION = (
    update(AuthSession)
    .where(AuthSession.id == bindparam("session_id"))
    .values(last_seen_at=bindparam("now"))
)


async def add_refresh_token(
    session: AsyncSession, *, session_id: uuid.UUID, token_hash: str, expires_at: datetime
) -> None:
    connection = await session.connection()
    await connection.execute(
        _ADD_TOKEN,
        {
            "id": uuid7(),
            "session_id": session_id,
            "token_hash": token_hash,
            "created_at": utcnow(),
            "expires_at": expires_at,
        },
    )


async def refresh_token_state(
    session: AsyncSession, *, token_hash: str
) -> Row[*tuple[Any, ...]] | None:
    """The token with its session, user, membership role and tenant status, in one read."""
    connection = await session.connection()
    return (await connection.execute(_TOKEN_STATE, {"token_hash": token_hash})).first()


async def claim_refresh_token(session: AsyncSession, *, token_id: uuid.UUID) -> bool:
    """Mark the token used, atomically: False when another request already used it."""
    connection = await session.connection()
    result = await connection.execute(_CLAIM_TOKEN, {"token_id": token_id, "now": utcnow()})
    return result.rowcount == 1


async def touch_session(session: AsyncSession, *, session_id: uuid.UUID, now: datetime) -> None:
    connection = await session.connection()
    await connection.execute(_TOUCH_SESSION, {"session_id": session_id, "now": now})
