"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL,
each inside a transaction that is rolled back afterwards."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import tests.support.notes  # noqa: F401 - registers the test module's tables
from bizosaas.gateway.app import create_app
from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database, create_engine
from bizosaas.settings import Settings
from tests.support import backends
from tests.support.backends import DatabaseTarget
from tests.support.lifespan import app_lifespan

NOTES_MODULE = "tests.support.notes:module"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In strict mode (CI) a skipped test fails the run: a missing service must not hide."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if backends.strict() and skipped and exitstatus == 0:
        if reporter:
            reporter.write_line(
                f"BIZOSAAS_TEST_STRICT=1: {skipped} skipped test(s) count as failures",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def require(available: bool, what: str) -> None:
    if not available:
        pytest.skip(f"{what} not configured (see tests/support/backends.py)")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseTarget]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        yield await backends.create_sqlite_database(str(path))
        return
    admin_url = backends.postgres_admin_url()
    require(admin_url is not None, "PostgreSQL (BIZOSAAS_TEST_POSTGRES_URL)")
    assert admin_url is not None
    target = await backends.create_postgres_database(admin_url)
    try:
        yield target
    finally:
        await backends.drop_postgres_database(admin_url, target)


@pytest.fixture(scope="session")
async def app_engine(database_target: DatabaseTarget) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_target.app_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_connection(app_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction, rolled back after the test."""
    async with app_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def database(db_connection: AsyncConnection, database_target: DatabaseTarget) -> Database:
    return Database(db_connection, url=database_target.app_url)


@pytest.fixture
def settings(tmp_path: Path, database_target: DatabaseTarget) -> Settings:
    """SQLite runs are embedded mode (in-process cache, limits, sessions); PostgreSQL runs are
    scaled mode, with Redis."""
    redis_url = None
    if database_target.backend == "postgres":
        redis_url = backends.redis_test_url()
        require(redis_url is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_target.app_url,
        redis_url=redis_url,
        extra_modules=[NOTES_MODULE],
        outbox_relay_enabled=False,
        log_format="console",
        # Cheaper Argon2 than production keeps the suite quick; the bench uses OWASP values.
        argon2_memory_cost=7168,
        argon2_time_cost=1,
        # Tests sign up many tenants from one client address; test_sign_up.py tests the limit.
        sign_up_limit_per_ip="10000 per hour",
    )


def client_address() -> tuple[str, int]:
    """A client address of its own per test: per-address login limits live in Redis, shared by
    every test run."""
    return (f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}", 40000)


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database=database)
    async with app_lifespan(application):
        yield application


@pytest.fixture
def identity_context(app: FastAPI) -> IdentityContext:
    """The identity context the app under test built at startup (its keys, throttle, guard):
    what tests pass as `identity=` when they call identity's use cases directly."""
    context: IdentityContext = app.state.identity
    return context


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@asynccontextmanager
async def own_database(backend: str, directory: Path) -> AsyncIterator[DatabaseTarget]:
    """A new, migrated database of its own, dropped afterwards: for tests whose writes really
    commit (real processes cannot join the per-test rolled-back transaction)."""
    if backend == "sqlite":
        yield await backends.create_sqlite_database(str(directory / "own.db"))
        return
    admin_url = backends.postgres_admin_url()
    require(admin_url is not None, "PostgreSQL (BIZOSAAS_TEST_POSTGRES_URL)")
    assert admin_url is not None
    target = await backends.create_postgres_database(admin_url)
    try:
        yield target
    finally:
        await backends.drop_postgres_database(admin_url, target)


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_target(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseTarget]:
    async with own_database(request.param, tmp_path) as target:
        yield target


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_target(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[DatabaseTarget]:
    """A database of its own with no table at all (for migration tests), dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        yield DatabaseTarget(backend="sqlite", app_url=url, owner_url=url)
        return
    admin_url = backends.postgres_admin_url()
    require(admin_url is not None, "PostgreSQL (BIZOSAAS_TEST_POSTGRES_URL)")
    assert admin_url is not None
    target = await backends.create_empty_postgres_database(admin_url)
    try:
        yield target
    finally:
        await backends.drop_postgres_database(admin_url, target)


@pytest.fixture(params=["memory", "redis"])
def cache_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        require(backends.redis_test_url() is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    return str(request.param)


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    url = backends.redis_test_url()
    require(url is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    assert url is not None
    client = Redis.from_url(url)
    yield client
    await client.aclose()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def subprocess_env(repo_root: Path) -> Iterator[dict[str, str]]:
    """Environment for a BizOSaaS subprocess that can import the test modules."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIZOSAAS_")}
    env["PYTHONPATH"] = str(repo_root)
    yield env
