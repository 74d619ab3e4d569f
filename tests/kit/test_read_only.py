"""Read-only units of work: they refuse writes (in the database where it can, in the ORM always),
see every committed write, keep tenant row-level security, and leave writers serialised.

These tests use a database of their own with committed writes (`fresh_target`): a read-only
unit of work is only enforced by the database on a real engine, not inside a test's rolled-back
outer transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from bizosaas.kit.db import Database, ReadOnlyViolation
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.support.backends import DatabaseTarget
from tests.support.notes.models import Note

TENANT_A = uuid.UUID("0195f3a0-0000-7000-8000-0000000000a1")
TENANT_B = uuid.UUID("0195f3a0-0000-7000-8000-0000000000b1")


@pytest.fixture
async def own(fresh_target: DatabaseTarget) -> AsyncIterator[Database]:
    database = Database.from_url(fresh_target.app_url, pool_size=4)
    yield database
    await database.dispose()


async def _note(database: Database, tenant: uuid.UUID, body: str) -> uuid.UUID:
    async with database.unit_of_work(trusted_scope(tenant)) as session:
        note = Note(body=body)
        session.add(note)
        await session.flush()
        return note.id


async def test_read_only_unit_of_work_refuses_a_raw_write_in_the_database(own: Database) -> None:
    await _note(own, TENANT_A, "kept")
    with pytest.raises(DBAPIError, match=r"read-only|readonly"):
        async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
            await session.execute(text("UPDATE test_notes SET body = 'changed'"))
    async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
        assert (await session.scalars(select(Note.body))).all() == ["kept"]


async def test_read_only_unit_of_work_refuses_orm_writes(own: Database) -> None:
    note_id = await _note(own, TENANT_A, "kept")
    with pytest.raises(ReadOnlyViolation):
        async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
            session.add(Note(body="new"))
    with pytest.raises(ReadOnlyViolation):
        async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
            note = await session.get(Note, note_id)
            assert note is not None
            note.body = "changed"
    with pytest.raises(ReadOnlyViolation):
        async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
            await session.execute(update(Note).values(body="changed"))
    async with own.unit_of_work(trusted_scope(TENANT_A)) as session:
        assert (await session.scalars(select(Note.body))).all() == ["kept"]


async def test_read_only_unit_of_work_sees_what_was_just_committed(own: Database) -> None:
    async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
        assert (await session.scalars(select(Note.body))).all() == []
    for body in ("first", "second"):
        await _note(own, TENANT_A, body)
        async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
            assert body in (await session.scalars(select(Note.body))).all()


async def test_read_only_unit_of_work_keeps_to_its_tenant(own: Database) -> None:
    await _note(own, TENANT_A, "a")
    await _note(own, TENANT_B, "b")
    async with own.unit_of_work(trusted_scope(TENANT_B), read_only=True) as session:
        assert (await session.scalars(select(Note.body))).all() == ["b"]
        # Past the ORM's filter, row-level security (PostgreSQL) or nothing (SQLite has none).
        raw = (await session.execute(text("SELECT body FROM test_notes"))).scalars().all()
        assert sorted(raw) == (["b"] if own.is_postgres else ["a", "b"])


async def test_a_reader_holding_its_transaction_open_does_not_block_a_writer(
    own: Database,
) -> None:
    await _note(own, TENANT_A, "before")
    async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as reader:
        assert (await reader.scalars(select(Note.body))).all() == ["before"]
        # The reader's transaction is still open; a writer commits beside it.
        await asyncio.wait_for(_note(own, TENANT_A, "during"), timeout=30)
        # The reader keeps its snapshot on SQLite (one transaction, one view) and sees each
        # committed statement on PostgreSQL (read committed): either way no lock was waited on.
        seen = (await reader.scalars(select(Note.body))).all()
        assert "before" in seen
    async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
        assert sorted((await session.scalars(select(Note.body))).all()) == ["before", "during"]


async def test_concurrent_writers_serialise_without_a_lost_update(own: Database) -> None:
    note_id = await _note(own, TENANT_A, "0")

    async def increment() -> None:
        async with own.unit_of_work(trusted_scope(TENANT_A)) as session:
            note = (
                await session.scalars(select(Note).where(Note.id == note_id).with_for_update())
            ).one()
            await asyncio.sleep(0)  # let the other writers interleave if they could
            note.body = str(int(note.body) + 1)

    # Readers run beside the writers the whole time.
    async def read() -> None:
        async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
            await session.scalar(select(Note.body).where(Note.id == note_id))

    await asyncio.gather(*(increment() for _ in range(8)), *(read() for _ in range(8)))
    async with own.unit_of_work(trusted_scope(TENANT_A), read_only=True) as session:
        assert await session.scalar(select(Note.body).where(Note.id == note_id)) == "8"


async def test_read_only_unit_of_work_inside_a_test_transaction_refuses_orm_writes(
    database: Database,
) -> None:
    """Joined to an outer transaction (the per-test one), the ORM still refuses writes."""
    with pytest.raises(ReadOnlyViolation):
        async with database.unit_of_work(read_only=True) as session:
            await bind_tenant(session, trusted_scope(TENANT_A))
            session.add(Note(body="new"))
    async with database.unit_of_work(trusted_scope(TENANT_A)) as session:
        assert (await session.scalars(select(Note))).all() == []
