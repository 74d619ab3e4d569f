"""Test databases and caches: SQLite always; PostgreSQL and Redis when the test env names them.

Environment (CI sets all three):
  BIZOSAAS_TEST_POSTGRES_URL  admin URL used to create a throw-away database per test run,
                              e.g. postgresql://postgres@127.0.0.1:5432/postgres
  BIZOSAAS_TEST_REDIS_URL     e.g. redis://127.0.0.1:6379/15
  BIZOSAAS_TEST_STRICT=1      a skipped test fails the run (so a missing service cannot hide)

On PostgreSQL the schema is migrated as the owner and the tests connect as `bizosaas_test_app`,
a role that is neither owner nor superuser, so row-level security really applies.

Test databases are migrated with the built-in domain modules that have migrations of their own
(commerce, crm) and the example module (`tests.support.notes`), each by its own migrations.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from bizosaas import commerce, crm, workflows
from bizosaas.kit import migrate
from bizosaas.kit.db import Base, create_engine
from bizosaas.kit.module import DomainModule
from bizosaas.kit.tenancy import TenantOwned, rls_policy_statements
from tests.support import notes

APP_ROLE = "bizosaas_test_app"
MODULES: tuple[DomainModule, ...] = (
    workflows.module,
    commerce.module,
    crm.module,
    notes.module,
)
"""Modules whose migrations every test database runs."""

# Runs a database test on PostgreSQL only (row-level security has no SQLite counterpart).
POSTGRES_ONLY = pytest.mark.parametrize("database_target", ["postgres"], indirect=True)


@dataclass(frozen=True)
class DatabaseTarget:
    backend: str
    app_url: str
    owner_url: str


def postgres_admin_url() -> str | None:
    return os.environ.get("BIZOSAAS_TEST_POSTGRES_URL") or None


def redis_test_url() -> str | None:
    return os.environ.get("BIZOSAAS_TEST_REDIS_URL") or None


def strict() -> bool:
    return os.environ.get("BIZOSAAS_TEST_STRICT") == "1"


def _as_asyncpg(url: str) -> str:
    return str(make_url(url).set(drivername="postgresql+asyncpg").render_as_string(False))


async def _admin(url: str, statements: Iterable[str]) -> None:
    engine = create_engine(_as_asyncpg(url), null_pool=True)
    try:
        async with engine.connect() as plain:
            connection = await plain.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def test_only_tables(connection: Connection) -> list[str]:
    """Tables defined by test modules that no migration created."""
    existing = set(inspect(connection).get_table_names())
    return [n for n in Base.metadata.tables if n.startswith("test_") and n not in existing]


async def create_test_tables(owner_url: str) -> None:
    engine = create_engine(owner_url, null_pool=True)
    try:
        async with engine.begin() as connection:
            names = await connection.run_sync(test_only_tables)
            tables = [Base.metadata.tables[name] for name in names]
            await connection.run_sync(Base.metadata.create_all, tables=tables)
            if connection.dialect.name == "postgresql":
                for table in tables:
                    if "tenant_id" in table.c and _is_tenant_owned(table.name):
                        for statement in rls_policy_statements(table.name):
                            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _is_tenant_owned(table_name: str) -> bool:
    return any(
        getattr(mapper.class_, "__tablename__", None) == table_name
        and issubclass(mapper.class_, TenantOwned)
        for mapper in Base.registry.mappers
    )


async def create_empty_postgres_database(admin_url: str) -> DatabaseTarget:
    """A new database with nothing in it, used as its owner (for migration tests)."""
    name = f"bizosaas_test_{uuid.uuid4().hex[:12]}"
    await _admin(admin_url, [f'CREATE DATABASE "{name}"'])
    owner_url = _as_asyncpg(str(make_url(admin_url).set(database=name).render_as_string(False)))
    return DatabaseTarget(backend="postgres", app_url=owner_url, owner_url=owner_url)


async def create_postgres_database(
    admin_url: str, *, modules: Sequence[DomainModule] = MODULES
) -> DatabaseTarget:
    """A migrated database (the platform and `modules`) for the tests' non-owner role."""
    owner_url = (await create_empty_postgres_database(admin_url)).owner_url
    await asyncio.to_thread(migrate.upgrade, owner_url, modules=modules)
    await create_test_tables(owner_url)
    await _admin(owner_url, migrate.app_role_statements(APP_ROLE))
    app_url = str(make_url(owner_url).set(username=APP_ROLE, password=None).render_as_string(False))
    return DatabaseTarget(backend="postgres", app_url=app_url, owner_url=owner_url)


async def drop_postgres_database(admin_url: str, target: DatabaseTarget) -> None:
    name = make_url(target.owner_url).database
    await _admin(admin_url, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


async def create_sqlite_database(path: str) -> DatabaseTarget:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, url, modules=MODULES)
    await create_test_tables(url)
    return DatabaseTarget(backend="sqlite", app_url=url, owner_url=url)
