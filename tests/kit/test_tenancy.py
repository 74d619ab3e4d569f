"""Tenant isolation in the ORM (every backend) and by row-level security (PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text, update

from bizosaas.kit.db import Base, Database
from bizosaas.kit.ids import uuid7
from bizosaas.kit.tenancy import (
    TenancyViolation,
    TenantOwned,
    TenantScope,
    bind_tenant,
    current_tenant,
    trusted_scope,
)
from tests.support.backends import POSTGRES_ONLY
from tests.support.notes.models import Note

TENANT_A = uuid.UUID("0195f3a0-0000-7000-8000-00000000000a")
TENANT_B = uuid.UUID("0195f3a0-0000-7000-8000-00000000000b")


async def _add_notes(database: Database, tenant: uuid.UUID, *bodies: str) -> None:
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(tenant))
        session.add_all([Note(body=body) for body in bodies])


def test_scope_cannot_be_built_from_raw_input() -> None:
    with pytest.raises(TypeError):
        TenantScope(uuid.uuid4(), object())
    assert trusted_scope(TENANT_A).tenant_id == TENANT_A


async def test_orm_sees_only_the_bound_tenant(database: Database) -> None:
    await _add_notes(database, TENANT_A, "a1", "a2")
    await _add_notes(database, TENANT_B, "b1")
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(TENANT_A))
        bodies = sorted((await session.scalars(select(Note.body))).all())
        assert bodies == ["a1", "a2"]
        assert current_tenant(session) == TENANT_A


async def test_orm_without_scope_sees_no_tenant_rows(database: Database) -> None:
    await _add_notes(database, TENANT_A, "a1")
    async with database.unit_of_work() as session:
        assert (await session.scalars(select(Note))).all() == []


async def test_orm_update_cannot_reach_another_tenant(database: Database) -> None:
    await _add_notes(database, TENANT_A, "a1")
    await _add_notes(database, TENANT_B, "b1")
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(TENANT_B))
        await session.execute(update(Note).values(body="changed"))
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(TENANT_A))
        assert (await session.scalars(select(Note.body))).all() == ["a1"]


async def test_insert_needs_a_scope_and_cannot_cross_tenants(database: Database) -> None:
    with pytest.raises(TenancyViolation):
        async with database.unit_of_work() as session:
            session.add(Note(body="orphan"))
    with pytest.raises(TenancyViolation):
        async with database.unit_of_work() as session:
            await bind_tenant(session, trusted_scope(TENANT_A))
            session.add(Note(body="smuggled", tenant_id=TENANT_B))


async def test_a_session_serves_one_tenant(database: Database) -> None:
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(TENANT_A))
        with pytest.raises(TenancyViolation):
            await bind_tenant(session, trusted_scope(TENANT_B))


@POSTGRES_ONLY
async def test_postgres_rls_with_raw_sql(database: Database) -> None:
    """The proof: raw SQL through the application's connection, with no ORM involved."""
    await _add_notes(database, TENANT_A, "a1", "a2")
    await _add_notes(database, TENANT_B, "b1")
    async with database.sessionmaker() as session:
        connection = await session.connection()
        role = (await connection.execute(text("SELECT current_user"))).scalar_one()
        flags = (
            await connection.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
        assert role == "bizosaas_test_app" and tuple(flags) == (False, False)

        await connection.execute(text("SELECT set_config('app.tenant_id', '', true)"))
        assert (await connection.execute(text("SELECT count(*) FROM test_notes"))).scalar() == 0

        await connection.execute(
            text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(TENANT_A)}
        )
        rows = (await connection.execute(text("SELECT body, tenant_id FROM test_notes"))).all()
        assert sorted(body for body, _ in rows) == ["a1", "a2"]
        assert {tenant for _, tenant in rows} == {TENANT_A}

        with pytest.raises(Exception, match="row-level security"):
            async with connection.begin_nested():
                await connection.execute(
                    text("INSERT INTO test_notes (id, tenant_id, body) VALUES (:i, :t, 'x')"),
                    {"i": uuid7(), "t": TENANT_B},
                )
        await session.rollback()


async def test_unit_of_work_bound_to_a_scope_acts_for_that_tenant(database: Database) -> None:
    """Background work (activities, tools) opens its unit of work with the scope it was given."""
    await _add_notes(database, TENANT_A, "a1")
    await _add_notes(database, TENANT_B, "b1")
    async with database.unit_of_work(trusted_scope(TENANT_B)) as session:
        assert (await session.scalars(select(Note.body))).all() == ["b1"]
        session.add(Note(body="b2"))
    async with database.unit_of_work(trusted_scope(TENANT_B)) as session:
        assert sorted((await session.scalars(select(Note.body))).all()) == ["b1", "b2"]


@POSTGRES_ONLY
async def test_postgres_rls_holds_in_a_unit_of_work_bound_to_a_scope(database: Database) -> None:
    """Raw SQL, which the ORM filter never sees: only row-level security keeps tenants apart."""
    await _add_notes(database, TENANT_A, "a1", "a2")
    await _add_notes(database, TENANT_B, "b1")
    async with database.unit_of_work(trusted_scope(TENANT_A)) as session:
        rows = (await session.execute(text("SELECT body FROM test_notes"))).scalars().all()
    assert sorted(rows) == ["a1", "a2"]


@POSTGRES_ONLY
async def test_postgres_every_tenant_table_forces_rls(database: Database) -> None:
    tenant_tables = sorted(
        mapper.class_.__tablename__
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    )
    assert "test_notes" in tenant_tables
    async with database.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' "
                    "AND relrowsecurity AND relforcerowsecurity"
                )
            )
        ).scalars()
        protected = set(rows)
    assert [table for table in tenant_tables if table not in protected] == []
