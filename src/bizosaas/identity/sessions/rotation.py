"""Token pairs, refresh-token rotation with reuse detection, and session revocation.

Refresh is the hottest identity path (every client, every 5 minutes). Two stores:

* Database (embedded mode): three plain SQL statements on the session's connection
  (repository/auth_sessions.py): one read joining token, session, user, membership and
  tenant; one conditional UPDATE that claims the token (atomic: of two concurrent refreshes
  with the same token, one wins and the other is reuse); one INSERT of the next token.
  `last_seen_at` is written at most once a minute.
* Redis (scaled mode): the token's record (session, user, tenant, role) sits under the token's
  hash; one Lua script checks the session's revocation marker, retires the token (keeping a
  "used" marker for reuse detection) and stores its successor, atomically, in one round trip.
  Nothing can change a live record: a role change, a removal, a suspension or a logout ends
  the affected sessions, whose markers the script sees. Flushing Redis signs API clients out.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

import orjson
from redis.commands.core import AsyncScript
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.tokens import (
    REFRESH_PREFIX,
    hash_secret,
    issue_access_token,
    new_secret,
)
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import InvalidRefreshToken, RefreshTokenReused
from bizosaas.identity.models import TenantStatus
from bizosaas.identity.records import audit
from bizosaas.identity.repository import auth_sessions
from bizosaas.identity.schemas import TokenPair
from bizosaas.identity.sessions.guard import REVOKED_MARKER_PREFIX
from bizosaas.kit.db import utcnow

LAST_SEEN_RESOLUTION = timedelta(seconds=60)


async def mint_pair(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    role: str | None,
    super_admin: bool,
    session_id: uuid.UUID,
    expires_at: datetime,
) -> TokenPair:
    """A new access token and refresh token for an existing session."""
    refresh_token = new_secret(REFRESH_PREFIX)
    if identity.redis is not None:
        record = _record(
            user_id=user_id,
            tenant_id=tenant_id,
            role=role,
            super_admin=super_admin,
            session_id=session_id,
            expires_at=expires_at,
        )
        ttl_ms = max(1, int((expires_at - utcnow()).total_seconds() * 1000))
        await identity.redis.set(_RECORD_KEY + hash_secret(refresh_token), record, px=ttl_ms)
    else:
        await auth_sessions.add_refresh_token(
            session,
            session_id=session_id,
            token_hash=hash_secret(refresh_token),
            expires_at=expires_at,
        )
    return _pair(
        identity,
        user_id=user_id,
        tenant_id=tenant_id,
        role=role,
        super_admin=super_admin,
        session_id=session_id,
        refresh_token=refresh_token,
    )


def _pair(
    identity: IdentityContext,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    role: str | None,
    super_admin: bool,
    session_id: uuid.UUID,
    refresh_token: str,
) -> TokenPair:
    access = issue_access_token(
        identity.keys,
        user_id=user_id,
        tenant_id=tenant_id,
        roles=[role] if role else [],
        session_id=session_id,
        super_admin=super_admin,
        ttl=identity.settings.access_token_ttl,
        issuer=identity.issuer,
    )
    return TokenPair(
        access_token=access.token,
        refresh_token=refresh_token,
        expires_in=access.expires_in,
        session_id=session_id,
        tenant_id=tenant_id,
    )


async def refresh(
    session: AsyncSession, *, identity: IdentityContext, refresh_token: str
) -> TokenPair:
    """Rotate: a new pair; the presented token is dead. Presenting a dead token again revokes
    the whole session (every token from that login) and answers 401."""
    if identity.redis is not None:
        return await _refresh_in_redis(session, identity=identity, refresh_token=refresh_token)
    row = await auth_sessions.refresh_token_state(session, token_hash=hash_secret(refresh_token))
    if row is None:
        raise InvalidRefreshToken()
    now = utcnow()
    if row.revoked_at is not None or row.session_expires_at <= now:
        raise InvalidRefreshToken("The session has ended; sign in again.")
    claimed = row.used_at is None and await auth_sessions.claim_refresh_token(
        session, token_id=row.id
    )
    if not claimed:
        await _revoke_for_reuse(
            session,
            identity=identity,
            session_id=row.session_id,
            user_id=row.user_id,
            tenant_id=row.tenant_id,
        )
        raise RefreshTokenReused("This refresh token was already used; sign in again.")
    if row.expires_at <= now or not row.is_active:
        raise InvalidRefreshToken()
    if row.tenant_id is not None and (row.role is None or row.status != TenantStatus.active.value):
        raise InvalidRefreshToken("You no longer have access to this tenant.")
    if now - row.last_seen_at > LAST_SEEN_RESOLUTION:
        await auth_sessions.touch_session(session, session_id=row.session_id, now=now)
    return await mint_pair(
        session,
        identity=identity,
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        role=row.role,
        super_admin=row.is_super_admin,
        session_id=row.session_id,
        expires_at=row.session_expires_at,
    )


async def commit_before_failing(session: AsyncSession) -> None:
    """Commit security records (a failed login, a revoked session) before the service raises.

    The one exception to "services never commit": the request fails with 401 and its
    transaction would roll back, taking the record with it. Callers reach this only on failure
    paths where the session holds nothing but those records.
    """
    await session.commit()


async def _revoke_for_reuse(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
) -> None:
    """Reuse means the token leaked: end the whole session and record it, committed before the
    401 so the revocation stands."""
    await revoke_sessions(session, identity=identity, session_id=session_id, reason="refresh_reuse")
    if tenant_id is not None:
        await audit.record(
            session,
            tenant_id=tenant_id,
            action=AuditAction.refresh_reused,
            actor_id=user_id,
            target=str(session_id),
        )
    await commit_before_failing(session)


async def revoke_sessions(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    reason: str,
    session_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
    except_session_id: uuid.UUID | None = None,
) -> int:
    """End every live session matching all the given filters, here and (through the guard)
    everywhere. Answers how many ended."""
    ids = await auth_sessions.revoke_live_sessions(
        session,
        reason=reason,
        session_id=session_id,
        user_id=user_id,
        tenant_id=tenant_id,
        except_session_id=except_session_id,
    )
    await identity.guard.revoked(ids)
    return len(ids)


# -- the Redis store -----------------------------------------------------------------------

_RECORD_KEY = "bizosaas:identity:refresh:"
_USED_KEY = "bizosaas:identity:refresh-used:"
_ROTATE = """
local record = redis.call('GET', KEYS[1])
if not record then
  local used = redis.call('GET', KEYS[2])
  if used then return {'reused', used} end
  return {'missing', ''}
end
local sid = cjson.decode(record)['sid']
if redis.call('EXISTS', ARGV[1] .. sid) == 1 then return {'revoked', record} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return {'missing', ''} end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], record, 'PX', ttl)
redis.call('SET', KEYS[3], record, 'PX', ttl)
return {'ok', record}
"""

_SCRIPTS: dict[int, AsyncScript] = {}
"""The rotation script registered per Redis client (sent once, then called by its SHA)."""


def _record(
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    role: str | None,
    super_admin: bool,
    session_id: uuid.UUID,
    expires_at: datetime,
) -> bytes:
    return orjson.dumps(
        {
            "sid": str(session_id),
            "uid": str(user_id),
            "tid": str(tenant_id) if tenant_id else None,
            "role": role,
            "sa": super_admin,
            "exp": expires_at.timestamp(),
        }
    )


async def _refresh_in_redis(
    session: AsyncSession, *, identity: IdentityContext, refresh_token: str
) -> TokenPair:
    assert identity.redis is not None
    old_hash = hash_secret(refresh_token)
    next_token = new_secret(REFRESH_PREFIX)
    script = _SCRIPTS.get(id(identity.redis))
    if script is None:
        script = _SCRIPTS[id(identity.redis)] = identity.redis.register_script(_ROTATE)
    outcome, raw = await script(
        keys=[_RECORD_KEY + old_hash, _USED_KEY + old_hash, _RECORD_KEY + hash_secret(next_token)],
        args=[REVOKED_MARKER_PREFIX],
    )
    if outcome == b"missing":
        raise InvalidRefreshToken()
    record = orjson.loads(raw)
    session_id = uuid.UUID(record["sid"])
    user_id = uuid.UUID(record["uid"])
    tenant_id = uuid.UUID(record["tid"]) if record["tid"] else None
    if outcome == b"revoked" or record["exp"] <= time.time():
        raise InvalidRefreshToken("The session has ended; sign in again.")
    if outcome == b"reused":
        await _revoke_for_reuse(
            session, identity=identity, session_id=session_id, user_id=user_id, tenant_id=tenant_id
        )
        raise RefreshTokenReused("This refresh token was already used; sign in again.")
    return _pair(
        identity,
        user_id=user_id,
        tenant_id=tenant_id,
        role=record["role"],
        super_admin=bool(record["sa"]),
        session_id=session_id,
        refresh_token=next_token,
    )
