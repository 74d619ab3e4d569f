"""A user's own sessions: sign out of this one or of all, list the live ones, end one."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.exceptions import SessionNotFound
from bizosaas.identity.models import AuthSession
from bizosaas.identity.repository import auth_sessions
from bizosaas.identity.sessions.rotation import revoke_sessions


async def logout(
    session: AsyncSession, *, identity: IdentityContext, user_id: uuid.UUID, session_id: uuid.UUID
) -> None:
    await revoke_sessions(
        session, identity=identity, session_id=session_id, user_id=user_id, reason="logout"
    )


async def logout_all(
    session: AsyncSession, *, identity: IdentityContext, user_id: uuid.UUID
) -> int:
    return await revoke_sessions(session, identity=identity, user_id=user_id, reason="logout_all")


async def list_sessions(session: AsyncSession, *, user_id: uuid.UUID) -> list[AuthSession]:
    return await auth_sessions.live_sessions_of(session, user_id=user_id)


async def revoke_session(
    session: AsyncSession, *, identity: IdentityContext, user_id: uuid.UUID, session_id: uuid.UUID
) -> None:
    """End one of the caller's own sessions (another user's session answers 404)."""
    count = await revoke_sessions(
        session, identity=identity, session_id=session_id, user_id=user_id, reason="revoked"
    )
    if count == 0:
        raise SessionNotFound()
