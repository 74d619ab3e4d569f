"""Realtime: `GET /api/brain/ws`, a WebSocket delivering events to authenticated clients.

The hub subscribes to the event bus, so it sees the outbox events relayed in any process (with
Redis, the bus fans out across processes) and service notifications
(`POST /api/brain/realtime/notifications`). Each connection belongs to one principal and sees
only its tenant's events, on the channels (event name patterns) it subscribed to.

Protocol (JSON text frames):
  -> {"type": "subscribe", "channels": ["notes.*"]}   <- {"type": "subscribed", "channels": [...]}
  -> {"type": "unsubscribe", "channels": ["notes.*"]} <- {"type": "unsubscribed", ...}
  -> {"type": "ping"}                                 <- {"type": "pong"}
  <- {"type": "event", "event": {"id", "name", "occurred_at", "payload", "tenant_id"}}
A token comes in the `Authorization` header or, for browsers, the `access_token` query
parameter. Each connection has a bounded queue: a consumer that falls that far behind is
closed with code 1013 (try again later) and its queue freed, instead of growing memory.

A socket lives no longer than its credential. When sessions end (logout, "log out everywhere",
an administrator's revocation, a suspension) identity announces them on the bus
(`kit.auth.SESSIONS_ENDED`; with Redis every process hears it) and the hub closes their sockets
with code 4401 at once: an index by session, no per-socket polling. A revoked API key is
announced the same way, by its id, and the sockets opened with it close alike. A timer closes a socket
when its token (or browser session) expires. Sessions ended in the last minute are remembered,
so a handshake that passed the session check just before the announcement arrived (the check
may be up to `BIZOSAAS_SESSION_CHECK_INTERVAL` stale in other processes) is closed too. As a
backstop for a lost announcement, every `BIZOSAAS_GATEWAY_WS_SESSION_SWEEP_INTERVAL` seconds
the hub asks identity which of its sockets' sessions have ended, in one batched lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Counter, Gauge
from starlette.requests import Request

from bizosaas.kit.auth import (
    SESSIONS_ENDED,
    Authenticator,
    Principal,
    PrincipalKind,
    SessionLiveness,
    credential_expiry,
    ended_session_ids,
)
from bizosaas.kit.errors import Problem
from bizosaas.kit.events import Event

log = structlog.get_logger(__name__)

WS_CONNECTIONS = Gauge("bizosaas_gateway_ws_connections", "Open realtime WebSocket connections.")
WS_DROPPED = Counter(
    "bizosaas_gateway_ws_dropped_total", "Realtime connections closed for falling behind."
)
WS_SESSION_CLOSED = Counter(
    "bizosaas_gateway_ws_session_closed_total",
    "Realtime connections closed because their session ended or their credential expired.",
)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_SLOW_CONSUMER = 1013
MAX_CHANNELS = 50
ENDED_SESSIONS_MEMORY = 60.0
"""Seconds an ended session is remembered: far beyond how stale a handshake's session check
can be (`session_check_interval`, at most 1 s, plus one lookup)."""


class Subscriber:
    def __init__(self, principal: Principal, *, queue_size: int) -> None:
        self.principal = principal
        self.channels: set[str] = set()
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=queue_size)
        self.closing: tuple[int, str] | None = None
        """(close code, reason) once the hub has let go of this connection."""
        self.expiry: asyncio.TimerHandle | None = None

    @property
    def dropped(self) -> bool:
        return self.closing is not None

    def wants(self, event: Event) -> bool:
        scope = self.principal.scope
        if scope is not None:
            if event.tenant_id != scope.tenant_id:
                return False
        elif not self.principal.is_super_admin:
            return False
        return any(fnmatch.fnmatchcase(event.name, channel) for channel in self.channels)

    def offer(self, frame: bytes) -> bool:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        """Free the backlog and tell the sender to close the connection with `code`."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        if self.expiry is not None:
            self.expiry.cancel()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class RealtimeHub:
    def __init__(self, *, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self.subscribers: set[Subscriber] = set()
        self._by_session: dict[uuid.UUID, set[Subscriber]] = {}
        self._by_api_key: dict[uuid.UUID, set[Subscriber]] = {}
        """Sockets opened with an API key, by key id: a revoked key is announced like an
        ended session (never swept: an API key is no session the guard knows)."""
        self._recently_ended: dict[uuid.UUID, float] = {}
        """Session id -> when (monotonic) it was announced ended; oldest first."""

    def connect(self, principal: Principal) -> Subscriber:
        subscriber = Subscriber(principal, queue_size=self.queue_size)
        self.subscribers.add(subscriber)
        WS_CONNECTIONS.set(len(self.subscribers))
        tracked = self._filed_under(principal)
        if tracked is not None:
            registry, credential_id = tracked
            registry.setdefault(credential_id, set()).add(subscriber)
            self._forget_old_endings()
            if credential_id in self._recently_ended:
                self._end(subscriber, "session ended")
                return subscriber
        expiry = credential_expiry(principal)
        if expiry is not None:
            subscriber.expiry = asyncio.get_running_loop().call_later(
                max(0.0, expiry - time.time()), self._end, subscriber, "session expired"
            )
        return subscriber

    def _filed_under(
        self, principal: Principal
    ) -> tuple[dict[uuid.UUID, set[Subscriber]], uuid.UUID] | None:
        """Where a socket is filed so an ending finds it: by session, or by API key."""
        if principal.session_id is not None:
            return self._by_session, principal.session_id
        if principal.kind is PrincipalKind.api_key:
            return self._by_api_key, principal.subject
        return None

    def disconnect(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        if subscriber.expiry is not None:
            subscriber.expiry.cancel()
        tracked = self._filed_under(subscriber.principal)
        if tracked is not None:
            registry, credential_id = tracked
            same_credential = registry.get(credential_id)
            if same_credential is not None:
                same_credential.discard(subscriber)
                if not same_credential:
                    del registry[credential_id]
        WS_CONNECTIONS.set(len(self.subscribers))

    def sessions_ended(self, session_ids: Iterable[uuid.UUID]) -> None:
        """Close every socket of these sessions (or revoked API keys), and refuse them for a
        while."""
        self._forget_old_endings()
        now = time.monotonic()
        for session_id in session_ids:
            self._recently_ended.pop(session_id, None)
            self._recently_ended[session_id] = now
            for registry in (self._by_session, self._by_api_key):
                for subscriber in list(registry.get(session_id, ())):
                    self._end(subscriber, "session ended")

    async def sweep(self, liveness: SessionLiveness) -> None:
        """Close the sockets of sessions that ended without the hub hearing of it (an
        announcement lost while this process was cut off from Redis, a revocation by a
        process without a bus): one batched lookup for every session with a socket here."""
        if self._by_session:
            ended = await liveness.ended(list(self._by_session))
            if ended:
                self.sessions_ended(ended)

    def _end(self, subscriber: Subscriber, reason: str) -> None:
        if subscriber.dropped:
            return
        WS_SESSION_CLOSED.inc()
        subscriber.close(CLOSE_UNAUTHENTICATED, reason)
        self.disconnect(subscriber)

    def _forget_old_endings(self) -> None:
        horizon = time.monotonic() - ENDED_SESSIONS_MEMORY
        while self._recently_ended:
            oldest, ended_at = next(iter(self._recently_ended.items()))
            if ended_at > horizon:
                break
            del self._recently_ended[oldest]

    async def on_event(self, event: Event) -> None:
        if event.name == SESSIONS_ENDED:
            # A signal between processes, never delivered to a client.
            self.sessions_ended(ended_session_ids(event))
            return
        frame: bytes | None = None
        for subscriber in list(self.subscribers):
            if subscriber.dropped or not subscriber.wants(event):
                continue
            if frame is None:
                frame = b'{"type":"event","event":' + event.to_json() + b"}"
            if not subscriber.offer(frame):
                WS_DROPPED.inc()
                log.warning(
                    "realtime_slow_consumer_dropped", user=str(subscriber.principal.subject)
                )
                subscriber.close(CLOSE_SLOW_CONSUMER, "slow consumer")
                self.disconnect(subscriber)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def same_site_origin(websocket: WebSocket) -> bool:
    """A handshake authenticated by the browser's cookie must come from our own pages (or an
    allowed CORS origin): otherwise any site could open a socket as the visitor (cross-site
    WebSocket hijacking). Clients that send no Origin are not browsers and are let through."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    host = websocket.headers.get("host")
    if host and urlsplit(origin).netloc == host:
        return True
    settings = websocket.app.state.settings
    allowed = set(settings.gateway_cors_origins)
    if settings.public_url:
        allowed.add(_origin_of(settings.public_url))
    return origin in allowed


async def authenticate_websocket(websocket: WebSocket) -> Principal | None:
    """Run the platform's authenticator on the handshake (header, `access_token` query, or
    the browser session cookie from one of our own origins)."""
    authenticator: Authenticator | None = getattr(websocket.app.state, "authenticator", None)
    if authenticator is None:
        return None
    headers = [(k, v) for k, v in websocket.scope["headers"] if k != b"authorization"]
    token = parse_qs(websocket.scope.get("query_string", b"").decode()).get("access_token")
    authorization = websocket.headers.get("authorization")
    if authorization:
        headers.append((b"authorization", authorization.encode("latin-1")))
    elif token:
        headers.append((b"authorization", f"Bearer {token[0]}".encode("latin-1")))
    elif not same_site_origin(websocket):
        log.warning("realtime_foreign_origin_refused", origin=websocket.headers.get("origin"))
        return None
    scope: dict[str, Any] = {
        **websocket.scope,
        "type": "http",
        "method": "GET",
        "headers": headers,
        "state": {},
    }
    try:
        return await authenticator.authenticate(Request(scope))
    except Problem:
        return None


router = APIRouter(tags=["realtime"])


@router.websocket("/ws", name="realtime")
async def realtime(websocket: WebSocket) -> None:
    hub: RealtimeHub = websocket.app.state.gateway.hub
    principal = await authenticate_websocket(websocket)
    if principal is None:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason="authentication required")
        return
    await websocket.accept()
    subscriber = hub.connect(principal)
    sender = asyncio.create_task(_send_loop(websocket, subscriber))
    try:
        await _receive_loop(websocket, subscriber)
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(subscriber)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _send_loop(websocket: WebSocket, subscriber: Subscriber) -> None:
    while True:
        frame = await subscriber.queue.get()
        if frame is None:
            code, reason = subscriber.closing or (CLOSE_SLOW_CONSUMER, "slow consumer")
            await websocket.close(code=code, reason=reason)
            return
        await websocket.send_text(frame.decode())


async def _receive_loop(websocket: WebSocket, subscriber: Subscriber) -> None:
    while True:
        raw = await websocket.receive_text()
        try:
            message = orjson.loads(raw)
            kind = message.get("type") if isinstance(message, dict) else None
        except orjson.JSONDecodeError:
            kind = None
        if subscriber.dropped:
            return
        if kind == "ping":
            await _reply(subscriber, {"type": "pong"})
        elif kind in ("subscribe", "unsubscribe"):
            channels = [c for c in message.get("channels", []) if isinstance(c, str) and c]
            if kind == "subscribe":
                subscriber.channels.update(channels[:MAX_CHANNELS])
                subscriber.channels = set(sorted(subscriber.channels)[:MAX_CHANNELS])
                reply = "subscribed"
            else:
                subscriber.channels.difference_update(channels)
                reply = "unsubscribed"
            await _reply(subscriber, {"type": reply, "channels": sorted(subscriber.channels)})
        else:
            await _reply(subscriber, {"type": "error", "code": "realtime.bad_message"})


async def _reply(subscriber: Subscriber, message: dict[str, Any]) -> None:
    if not subscriber.offer(orjson.dumps(message)):
        subscriber.close(CLOSE_SLOW_CONSUMER, "slow consumer")
