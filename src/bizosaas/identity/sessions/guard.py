"""Is this session still alive? The check every authenticated request makes, answered from
memory or Redis: never a database round trip of the request's own.

The database row (`auth_sessions.revoked_at`, `expires_at`) is the record.
* With Redis, a revocation also sets a marker key there, and each process asks for the marker
  (one round trip) at most once per `interval` per session; concurrent requests of one session
  share that one lookup.
* Without Redis (embedded mode), each process keeps the set of sessions that ended recently
  (revoked or expired within `window` seconds, the longest an access token outlives its check)
  and reads it again from the database at most once per `interval`, one small query for the
  whole process, shared by every request waiting on it. A session revoked earlier than
  `window` has no live access token left, and a browser cookie is looked up in the database
  again every few seconds (authenticator.py).
Either way a revocation reaches every process within `interval` (0.5 s by default) plus one
lookup; in the revoking process it takes effect at once.

A revocation is also announced on the event bus (`kit.auth.SESSIONS_ENDED`), so each process's
realtime hub closes the sockets of those sessions at once instead of asking per socket.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import timedelta

from redis.asyncio import Redis

from bizosaas.identity.repository import auth_sessions
from bizosaas.kit.auth import sessions_ended_event
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.events import EventBus

REVOKED_MARKER_PREFIX = "bizosaas:identity:revoked-session:"
_MAX_REMEMBERED = 50_000
_BATCH = 500
_REVOKED_HERE_SECONDS = 60.0
"""How long this process trusts its own revocations over a database read that does not show
them yet (the revoking transaction may commit after a read began)."""


class SessionGuard:
    def __init__(
        self,
        *,
        database: Database | None,
        redis: Redis | None,
        interval: float,
        marker_ttl: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        bus: EventBus | None = None,
    ) -> None:
        self._database = database
        self._redis = redis
        self._interval = interval
        self._marker_ttl = marker_ttl
        self._bus = bus
        self._window = window
        self._clock = clock
        # With Redis: sessions known active, until when; lookups under way, by session.
        self._active_until: dict[uuid.UUID, float] = {}
        self._lookups: dict[uuid.UUID, asyncio.Future[bool]] = {}
        # Without Redis: sessions that ended recently, as last read, and when it was read.
        self._ended: frozenset[uuid.UUID] = frozenset()
        self._read_at = float("-inf")
        self._reading: asyncio.Future[None] | None = None
        self._revoked_here: dict[uuid.UUID, float] = {}

    async def is_active(self, session_id: uuid.UUID) -> bool:
        if self._redis is None:
            return await self._active_in_memory(session_id)
        until = self._active_until.get(session_id)
        if until is not None and until > self._clock():
            return True
        pending = self._lookups.get(session_id)
        if pending is not None:
            return await asyncio.shield(pending)
        lookup = asyncio.get_running_loop().create_future()
        self._lookups[session_id] = lookup
        try:
            started = self._clock()
            active = not await self._redis.exists(REVOKED_MARKER_PREFIX + str(session_id))
            if active:
                if len(self._active_until) >= _MAX_REMEMBERED:
                    self._active_until.clear()
                self._active_until[session_id] = started + self._interval
            else:
                self._active_until.pop(session_id, None)
            lookup.set_result(active)
            return active
        except BaseException as error:
            lookup.set_exception(error)
            lookup.exception()  # retrieved: a failed lookup is the caller's error, not a leak
            raise
        finally:
            del self._lookups[session_id]

    async def _active_in_memory(self, session_id: uuid.UUID) -> bool:
        if self._clock() - self._read_at >= self._interval:
            if self._reading is None:
                self._reading = asyncio.ensure_future(self._read_ended())
            await asyncio.shield(self._reading)
        return session_id not in self._ended and session_id not in self._revoked_here

    async def _read_ended(self) -> None:
        if self._database is None:
            raise RuntimeError("the session guard needs a database or Redis")
        started = self._clock()
        try:
            now = utcnow()
            async with self._database.unit_of_work(read_only=True) as session:
                ended = await auth_sessions.ended_session_ids(
                    session, since=now - timedelta(seconds=self._window), now=now
                )
            self._ended = frozenset(ended)
            self._read_at = started
            self._revoked_here = {
                session_id: at
                for session_id, at in self._revoked_here.items()
                if started - at < _REVOKED_HERE_SECONDS
            }
        finally:
            self._reading = None

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
                async with self._database.unit_of_work(read_only=True) as session:
                    live = await auth_sessions.live_session_ids(session, session_ids=batch)
                ended.update(set(batch) - live)
        for session_id in ended:
            self._active_until.pop(session_id, None)
        return ended

    async def revoked(self, session_ids: Iterable[uuid.UUID]) -> None:
        """Tell every process (through Redis) and this one (at once) that these sessions ended."""
        ids = list(session_ids)
        now = self._clock()
        for session_id in ids:
            self._active_until.pop(session_id, None)
            if self._redis is None:
                self._revoked_here[session_id] = now
        if self._redis is not None and ids:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.set(REVOKED_MARKER_PREFIX + str(session_id), b"1", ex=self._marker_ttl)
                await pipe.execute()
        await self.announce_ended(ids)

    async def announce_ended(self, credential_ids: Iterable[uuid.UUID]) -> None:
        """Announce on the bus that these sessions or API keys (by id) ended, so every
        process's realtime hub closes their sockets at once."""
        ids = list(credential_ids)
        if self._bus is not None and ids:
            await self._bus.publish(sessions_ended_event(ids))
