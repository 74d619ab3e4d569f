"""A user's own sessions: sign out of this one or of all, list the live ones, end one."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.exceptions import SessionNotFound
from bizosaas.identity.models import AuthSession
from bizosaas.identity.rotation import revoke_sessions
from bizosaas.kit.db import utcnow


async def logout(session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    await revoke_sessions(
        session, AuthSession.id == session_id, AuthSession.user_id == user_id, reason="logout"
    )


async def logout_all(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    return await revoke_sessions(session, AuthSession.user_id == user_id, reason="logout_all")


async def list_sessions(session: AsyncSession, *, user_id: uuid.UUID) -> list[AuthSession]:
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


async def revoke_session(
    session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> None:
    """End one of the caller's own sessions (another user's session answers 404)."""
    count = await revoke_sessions(
        session, AuthSession.id == session_id, AuthSession.user_id == user_id, reason="revoked"
    )
    if count == 0:
        raise SessionNotFound()
