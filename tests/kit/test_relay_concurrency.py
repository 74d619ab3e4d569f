"""Several relays (several processes) share the outbox: every event is published; on
PostgreSQL, exactly once. (SQLite is embedded mode's single process: at least once.)"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from pydantic import BaseModel

from bizosaas.kit.db import Database
from bizosaas.kit.events import Event, InProcessEventBus
from bizosaas.kit.meta import get_fact, set_fact
from bizosaas.kit.module import EventType
from bizosaas.kit.outbox import OutboxRelay, record_event
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.support.backends import DatabaseTarget

TENANT = uuid.UUID("0195f3a0-0000-7000-8000-0000000000e1")
EVENTS = 300


class Numbered(BaseModel):
    n: int


COUNTED = EventType("test.counted", Numbered)
MAILED = EventType("test.mailed", Numbered)


async def test_concurrent_relays_publish_each_event_once(fresh_target: DatabaseTarget) -> None:
    writer = Database.from_url(fresh_target.app_url)
    relays_databases = [Database.from_url(fresh_target.app_url) for _ in range(3)]
    published: Counter[uuid.UUID] = Counter()

    async def count(event: Event) -> None:
        published[event.id] += 1
        await asyncio.sleep(0)  # let the other relays run between publishes

    try:
        for batch in range(EVENTS // 50):
            async with writer.unit_of_work() as session:
                await bind_tenant(session, trusted_scope(TENANT))
                for number in range(50):
                    record_event(session, COUNTED, Numbered(n=batch * 50 + number))
        relays = []
        for database in relays_databases:
            bus = InProcessEventBus()
            bus.subscribe("*", count)
            relays.append(OutboxRelay(database, bus, batch_size=20))
        await asyncio.gather(*(relay.drain() for relay in relays))
    finally:
        for database in (writer, *relays_databases):
            await database.dispose()
    assert len(published) == EVENTS, "every event is published"
    if fresh_target.backend == "postgres":
        duplicates = [event_id for event_id, times in published.items() if times > 1]
        assert duplicates == [], "SKIP LOCKED hands each event to exactly one relay"


async def test_handlers_may_write_while_the_relay_publishes(fresh_target: DatabaseTarget) -> None:
    """A consumer that writes in its own transaction (the mailer does) must not wait on the
    relay: on SQLite that would be a lock cycle, broken only by the busy timeout."""
    database = Database.from_url(fresh_target.app_url)
    bus = InProcessEventBus()

    async def remember(event: Event) -> None:
        async with database.unit_of_work() as session:
            await set_fact(session, f"seen:{event.id}", event.name)

    bus.subscribe("*", remember)
    relay = OutboxRelay(database, bus)
    try:
        async with database.unit_of_work() as session:
            await bind_tenant(session, trusted_scope(TENANT))
            events = [record_event(session, MAILED, Numbered(n=n)) for n in range(3)]
        # Far above the normal milliseconds, far below three busy timeouts of 10 s each.
        assert await asyncio.wait_for(relay.drain(), timeout=15) == 3
        async with database.unit_of_work() as session:
            assert [await get_fact(session, f"seen:{e.id}") for e in events] == ["test.mailed"] * 3
    finally:
        await database.dispose()
