"""The outbox commits with the change it describes, and the relay publishes it at least once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bizosaas.kit.db import Database
from bizosaas.kit.events import Event, InProcessEventBus
from bizosaas.kit.outbox import OutboxEvent, OutboxRelay, record_event
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.support.notes.events import NOTE_CREATED, NoteCreated
from tests.support.notes.models import Note

TENANT = uuid.UUID("0195f3a0-0000-7000-8000-0000000000c1")


class Recorder:
    """Collects this test's events (other tests' committed events may share the database)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        if event.tenant_id == TENANT:
            self.events.append(event)


async def _write_note(database: Database, body: str) -> None:
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(TENANT))
        note = Note(body=body)
        session.add(note)
        await session.flush()
        record_event(session, NOTE_CREATED, NoteCreated(note_id=note.id, body=body))


async def test_event_commits_with_its_change_and_is_relayed(database: Database) -> None:
    bus = InProcessEventBus()
    received = Recorder()
    bus.subscribe("notes.*", received)
    relay = OutboxRelay(database, bus)
    await _write_note(database, "first")
    await _write_note(database, "second")

    assert await relay.drain() >= 2
    assert [e.payload["body"] for e in received.events] == ["first", "second"]
    assert all(e.name == "notes.created" for e in received.events)
    assert await relay.drain() == 0, "published events are not sent again"
    assert len(received.events) == 2


async def test_rolled_back_change_leaves_no_event(database: Database) -> None:
    bus = InProcessEventBus()
    received = Recorder()
    bus.subscribe("*", received)
    relay = OutboxRelay(database, bus)
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as session:
            await bind_tenant(session, trusted_scope(TENANT))
            note = Note(body="doomed")
            session.add(note)
            await session.flush()
            record_event(session, NOTE_CREATED, NoteCreated(note_id=note.id, body="doomed"))
            raise RuntimeError("the use case failed")
    await relay.drain()
    assert received.events == []
    async with database.unit_of_work() as session:
        mine = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.tenant_id == TENANT)
        assert await session.scalar(mine) == 0


async def test_failed_publish_is_retried(database: Database) -> None:
    class FlakyBus(InProcessEventBus):
        failures = 1

        async def publish(self, event: Event) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("bus down")
            await super().publish(event)

    bus = FlakyBus()
    received = Recorder()
    bus.subscribe("*", received)
    relay = OutboxRelay(database, bus)
    await _write_note(database, "retry me")
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert await relay.drain() >= 1
    assert [e.payload["body"] for e in received.events] == ["retry me"]


async def test_commit_wakes_the_relay(database: Database) -> None:
    bus = InProcessEventBus()
    received = Recorder()
    bus.subscribe("*", received)
    relay = OutboxRelay(database, bus, poll_interval=30)
    relay.start()
    try:
        # Tests share one connection: let the relay's first pass finish before writing.
        await asyncio.wait_for(relay.idle.wait(), timeout=5)
        await _write_note(database, "prompt")
        for _ in range(200):
            if received.events:
                break
            await asyncio.sleep(0.01)
    finally:
        await relay.stop()
    assert [e.payload["body"] for e in received.events] == ["prompt"]


async def test_failing_subscriber_does_not_block_others() -> None:
    bus = InProcessEventBus()
    received = Recorder()

    async def broken(_event: Event) -> None:
        raise ValueError("consumer bug")

    bus.subscribe("*", broken)
    bus.subscribe("*", received)
    event = Event(
        id=uuid.uuid4(), name="x.y", occurred_at=datetime.now(UTC), payload={}, tenant_id=TENANT
    )
    await bus.publish(event)
    assert received.events == [event]
