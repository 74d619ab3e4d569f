"""Domain events and the event bus.

Code publishes domain events by writing them to the outbox (`bizosaas.kit.outbox.record_event`)
in its own transaction; the relay hands committed events to the bus. Subscribers register
handlers by name pattern (`"identity.*"`, `"*"`). The bus is at-least-once from the subscriber's
point of view: handlers must be idempotent (use `event.id`).

`InProcessEventBus` delivers within the process. `RedisEventBus` fans out through Redis pub/sub
so every process's subscribers see every event; callers use the same two methods either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from bizosaas.kit.tasks import cancel_and_wait

log = structlog.get_logger(__name__)

RECONNECT_FIRST_DELAY = 0.1
RECONNECT_MAX_DELAY = 5.0
"""Seconds between tries to subscribe again after the connection to Redis was lost."""


@dataclass(frozen=True, slots=True)
class Event:
    id: uuid.UUID
    name: str
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    tenant_id: uuid.UUID | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": str(self.id),
                "name": self.name,
                "occurred_at": self.occurred_at.isoformat(),
                "payload": self.payload,
                "tenant_id": str(self.tenant_id) if self.tenant_id else None,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        data = orjson.loads(raw)
        return cls(
            id=uuid.UUID(data["id"]),
            name=data["name"],
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            payload=data["payload"],
            tenant_id=uuid.UUID(data["tenant_id"]) if data["tenant_id"] else None,
        )


Handler = Callable[[Event], Awaitable[None]]


class EventBus(Protocol):
    def subscribe(self, pattern: str, handler: Handler) -> None: ...

    async def publish(self, event: Event) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class _Subscriptions:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []

    def add(self, pattern: str, handler: Handler) -> None:
        self._handlers.append((pattern, handler))

    async def dispatch(self, event: Event) -> None:
        for pattern, handler in self._handlers:
            if fnmatch.fnmatchcase(event.name, pattern):
                try:
                    await handler(event)
                except Exception:
                    # One failing consumer must not starve the others; it is logged with the
                    # event id so it can be replayed.
                    log.exception("event_handler_failed", event_id=str(event.id), name=event.name)


class InProcessEventBus:
    """Delivers each published event to this process's subscribers, in order."""

    def __init__(self) -> None:
        self._subscriptions = _Subscriptions()

    def subscribe(self, pattern: str, handler: Handler) -> None:
        self._subscriptions.add(pattern, handler)

    async def publish(self, event: Event) -> None:
        await self._subscriptions.dispatch(event)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisEventBus:
    """Publishes to a Redis channel; a listener task delivers every event to local subscribers,
    and subscribes again by itself when the connection to Redis is lost."""

    def __init__(self, redis: Redis, *, channel: str = "bizosaas:events") -> None:
        self._redis = redis
        self._channel = channel
        self._subscriptions = _Subscriptions()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def subscribe(self, pattern: str, handler: Handler) -> None:
        self._subscriptions.add(pattern, handler)

    async def publish(self, event: Event) -> None:
        await self._redis.publish(self._channel, event.to_json())

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="redis-event-bus")
            await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        """Deliver the channel's messages; when the connection to Redis is lost (a restart, a
        network cut, the server dropping the client), subscribe again on a new one, waiting a
        little longer after each failed try (up to `RECONNECT_MAX_DELAY`). Messages published
        while no connection was subscribed are not seen here: pub/sub keeps nothing, so
        consumers that must not miss one have their own backstop (the realtime hub's sweep)."""
        delay = RECONNECT_FIRST_DELAY
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                if self._ready.is_set():
                    log.info("event_bus_resubscribed", channel=self._channel)
                self._ready.set()
                delay = RECONNECT_FIRST_DELAY
                await self._deliver_from(pubsub)
            except (RedisError, OSError) as error:
                log.warning(
                    "event_bus_connection_lost",
                    channel=self._channel,
                    error=type(error).__name__,
                    retry_in=delay,
                )
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_DELAY)

    async def _deliver_from(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                continue
            try:
                event = Event.from_json(message["data"])
            except (ValueError, KeyError, TypeError):
                log.warning("event_bus_bad_message", channel=self._channel)
                continue
            await self._subscriptions.dispatch(event)

    async def close(self) -> None:
        if self._listener is not None:
            await cancel_and_wait(self._listener)
            self._listener = None
