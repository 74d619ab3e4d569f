"""Writers on SQLite queue in the process (one writing connection each, `sqlite_writers`)
instead of contending for the file's write lock; on PostgreSQL they run side by side.

Databases of their own with committed writes (`fresh_target`): the pool only matters on a real
engine, not inside a test's rolled-back outer transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from tests.support.backends import DatabaseTarget
from tests.support.notes.models import Note

TENANT = uuid.UUID("0195f3a0-0000-7000-8000-0000000000a1")


@pytest.fixture
async def own(fresh_target: DatabaseTarget) -> AsyncIterator[Database]:
    database = Database.from_url(fresh_target.app_url, pool_size=4, sqlite_writers=1)
    yield database
    await database.dispose()


async def _write(database: Database, body: str) -> None:
    async with database.unit_of_work(trusted_scope(TENANT)) as session:
        session.add(Note(body=body))


async def test_a_second_writer_waits_for_the_first_on_sqlite_only(own: Database) -> None:
    first_wrote, release_first = asyncio.Event(), asyncio.Event()
    second_wrote = asyncio.Event()

    async def first() -> None:
        async with own.unit_of_work(trusted_scope(TENANT)) as session:
            session.add(Note(body="first"))
            await session.flush()  # holds a writing connection (and on SQLite the write lock)
            first_wrote.set()
            await release_first.wait()

    async def second() -> None:
        async with own.unit_of_work(trusted_scope(TENANT)) as session:
            session.add(Note(body="second"))
            await session.flush()
            second_wrote.set()

    holder = asyncio.create_task(first())
    await asyncio.wait_for(first_wrote.wait(), timeout=10)
    waiter = asyncio.create_task(second())
    if own.is_postgres:
        # PostgreSQL: row-level locks only; the second writer goes ahead at once.
        await asyncio.wait_for(second_wrote.wait(), timeout=10)
    else:
        await asyncio.sleep(0.2)
        assert not second_wrote.is_set(), "the second writer queues for the one connection"
        assert not waiter.done()
        # It waits in the pool's queue, not on a connection of its own in SQLite's busy handler.
        assert isinstance(own.bind, AsyncEngine)
        pool = own.bind.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedout() == 1
    release_first.set()
    await asyncio.wait_for(asyncio.gather(holder, waiter), timeout=30)
    assert second_wrote.is_set()
    async with own.unit_of_work(trusted_scope(TENANT), read_only=True) as session:
        bodies = set((await session.scalars(select(Note.body))).all())
    assert bodies == {"first", "second"}


async def test_many_concurrent_writers_all_commit(own: Database) -> None:
    await asyncio.wait_for(
        asyncio.gather(*(_write(own, f"note {n}") for n in range(40))), timeout=60
    )
    async with own.unit_of_work(trusted_scope(TENANT), read_only=True) as session:
        assert await session.scalar(select(func.count()).select_from(Note)) == 40
