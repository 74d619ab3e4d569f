"""Is this session still alive? The check every authenticated request makes.

The database row (`auth_sessions.revoked_at`) is the record. When Redis is configured a
revocation also sets a marker key there, and gateways check the marker (one round trip)
instead of the database. Each process remembers an "active" answer for at most
`interval` seconds (0.5 s by default), so a revocation reaches every process within that
bound plus one lookup; in the revoking process it takes effect at once.

A revocation is also announced on the event bus (`kit.auth.SESSIONS_ENDED`), so each process's
realtime hub closes the sockets of those sessions at once instead of asking per socket.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Iterable

from redis.asyncio import Redis

from bizosaas.identity.repository import auth_sessions
from bizosaas.kit.auth import sessions_ended_event
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.events import EventBus

REVOKED_MARKER_PREFIX = "bizosaas:identity:revoked-session:"
_MAX_REMEMBERED = 50_000
_BATCH = 500


class SessionGuard:
    def __init__(
        self,
        *,
        database: Database | None,
        redis: Redis | None,
        interval: float,
        marker_ttl: int,
        bus: EventBus | None = None,
    ) -> None:
        self._database = database
        self._redis = redis
        self._interval = interval
        self._marker_ttl = marker_ttl
        self._bus = bus
        self._active_until: dict[uuid.UUID, float] = {}

    async def is_active(self, session_id: uuid.UUID) -> bool:
        now = time.monotonic()
        until = self._active_until.get(session_id)
        if until is not None and until > now:
            return True
        if self._redis is not None:
            active = not await self._redis.exists(REVOKED_MARKER_PREFIX + str(session_id))
        else:
            active = await self._database_says_active(session_id)
        if active:
            if len(self._active_until) >= _MAX_REMEMBERED:
                self._active_until.clear()
            self._active_until[session_id] = now + self._interval
        else:
            self._active_until.pop(session_id, None)
        return active

    async def _database_says_active(self, session_id: uuid.UUID) -> bool:
        if self._database is None:
            raise RuntimeError("the session guard needs a database or Redis")
        async with self._database.sessionmaker() as session:
            row = await auth_sessions.session_liveness(session, session_id=session_id)
        return row is not None and row.revoked_at is None and row.expires_at > utcnow()

    async def ended(self, session_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these sessions have ended, in one round trip per batch: the realtime hub's
        backstop for an announcement it missed (see `revoked`)."""
        ids = list(session_ids)
        ended: set[uuid.UUID] = set()
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            if self._redis is not None:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for session_id in batch:
                        pipe.exists(REVOKED_MARKER_PREFIX + str(session_id))
                    marked = await pipe.execute()
                ended.update(sid for sid, marker in zip(batch, marked, strict=True) if marker)
            else:
                if self._database is None:
                    raise RuntimeError("the session guard needs a database or Redis")
                async with self._database.sessionmaker() as session:
                    live = await auth_sessions.live_session_ids(session, session_ids=batch)
                ended.update(set(batch) - live)
        for session_id in ended:
            self._active_until.pop(session_id, None)
        return ended

    async def revoked(self, session_ids: Iterable[uuid.UUID]) -> None:
        """Tell every process (through Redis) and this one (at once) that these sessions ended."""
        ids = list(session_ids)
        for session_id in ids:
            self._active_until.pop(session_id, None)
        if self._redis is not None and ids:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.set(REVOKED_MARKER_PREFIX + str(session_id), b"1", ex=self._marker_ttl)
                await pipe.execute()
        if self._bus is not None and ids:
            await self._bus.publish(sessions_ended_event(ids))
