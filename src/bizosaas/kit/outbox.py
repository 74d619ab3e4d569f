"""The transactional outbox and its relay.

`record_event` adds an event row to the caller's session, so it commits (or not) with the
change it describes. Events are typed (`kit.module.EventType`): the payload is a Pydantic model,
checked against the event's schema before it is written and stored as JSON. The relay reads unpublished rows, publishes them to the event bus and
marks them published. A crash between publish and mark means the batch is published again:
delivery is at-least-once and consumers are idempotent. On PostgreSQL several relays share the
work with `FOR UPDATE SKIP LOCKED`; on SQLite (one process) handlers may write while the relay
publishes, so no transaction is held across publishing.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import JSON, Index, Select, String, Uuid, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, Database, IdMixin, utcnow
from bizosaas.kit.events import Event, EventBus
from bizosaas.kit.module import EventType, PayloadT
from bizosaas.kit.tasks import cancel_and_wait
from bizosaas.kit.tenancy import current_tenant

log = structlog.get_logger(__name__)

_PENDING_KEY = "bizosaas.outbox_pending"


class OutboxEvent(IdMixin, Base):
    """An event waiting for (or past) relay. Platform infrastructure: not tenant-filtered, read
    only by the relay, which runs as system code."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "published_at", "id"),)

    name: Mapped[str] = mapped_column(String(120))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)

    def to_event(self) -> Event:
        return Event(
            id=self.id,
            name=self.name,
            occurred_at=self.occurred_at,
            payload=self.payload,
            tenant_id=self.tenant_id,
        )


def record_event(
    session: AsyncSession,
    event: EventType[PayloadT],
    payload: PayloadT,
    *,
    tenant_id: uuid.UUID | None = None,
) -> OutboxEvent:
    """Write `event` to the outbox in the session's transaction. Tenant defaults to the scope's.

    The payload must be an instance of the event's schema and valid against it; otherwise
    `InvalidEventPayload` is raised and nothing is added to the session.
    """
    data = event.dump(payload)
    row = OutboxEvent(name=event.name, payload=data, tenant_id=tenant_id or current_tenant(session))
    session.add(row)
    session.sync_session.info[_PENDING_KEY] = True
    return row


def has_pending_events(session: AsyncSession) -> bool:
    return bool(session.sync_session.info.get(_PENDING_KEY))


class OutboxRelay:
    """Moves committed outbox events to the bus. Run one per process (or per worker)."""

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        self._database = database
        self._bus = bus
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()
        """Set while the relay waits for work (nothing it knows of is pending)."""
        self._task: asyncio.Task[None] | None = None
        database.on_commit(self._after_commit)

    def _after_commit(self, session: AsyncSession) -> None:
        if has_pending_events(session):
            self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _pending(self, *, lock: bool) -> Select[OutboxEvent]:
        query = (
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(self._batch_size)
        )
        return query.with_for_update(skip_locked=True) if lock else query

    async def relay_once(self) -> int:
        """Publish one batch; returns how many events were published."""
        if not self._database.is_postgres:
            return await self._relay_once_single_writer()
        # PostgreSQL: the batch's rows stay locked while they are published, so concurrent
        # relays skip them and each event goes to one relay.
        async with self._database.unit_of_work() as session:
            rows = list((await session.scalars(self._pending(lock=True))).all())
            for row in rows:
                row.attempts += 1
                await self._bus.publish(row.to_event())
                row.published_at = utcnow()
        return len(rows)

    async def _relay_once_single_writer(self) -> int:
        """SQLite allows one writer at a time: holding the batch's transaction while handlers
        run would deadlock every handler that writes (each waits for the other). So read the
        batch, publish with no transaction open, then mark it published. A crash between the
        two publishes the batch again: at-least-once, as everywhere."""
        async with self._database.unit_of_work() as session:
            rows = list((await session.scalars(self._pending(lock=False))).all())
        for row in rows:
            await self._bus.publish(row.to_event())
        if rows:
            async with self._database.unit_of_work() as session:
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_([row.id for row in rows]))
                    .values(published_at=utcnow(), attempts=OutboxEvent.attempts + 1)
                )
        return len(rows)

    async def drain(self) -> int:
        """Publish until nothing is pending (used at start-up and by tests)."""
        total = 0
        while (count := await self.relay_once()) > 0:
            total += count
        return total

    async def run(self) -> None:
        while True:
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox_relay_failed")
                published = 0
            if published >= self._batch_size:
                continue
            self._wake.clear()
            self.idle.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
            self.idle.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
