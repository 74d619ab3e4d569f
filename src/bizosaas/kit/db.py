"""Database kit: declarative base, engines, the session factory and the request unit of work.

One `Database` per process. Sessions are committed at the boundary (request, job, activity)
only; services flush, never commit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from bizosaas.kit.ids import uuid7
from bizosaas.kit.sqlite_reads import READER_BUSY_TIMEOUT_MS, InlineConnection, inline_connector
from bizosaas.kit.tenancy import READ_ONLY_KEY, TenantScope, bind_tenant

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def _configure_sqlite(engine: AsyncEngine, *, read_only: bool = False) -> None:
    """WAL, foreign keys, a busy timeout, and transactions SQLAlchemy really controls.

    The sqlite3 driver's own transaction handling would skip BEGIN and break SAVEPOINTs, so it
    is turned off. A writing transaction starts with BEGIN IMMEDIATE: the write lock is taken
    up front, which turns lock-upgrade failures ("database is locked" mid-transaction) into a
    short wait under `busy_timeout` instead. A `read_only` engine's connections refuse every
    write (`PRAGMA query_only`) and begin deferred: under WAL a reader takes no lock at all, so
    reads never queue behind the single writer (nor writers behind them).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        busy_timeout = READER_BUSY_TIMEOUT_MS if read_only else 10_000
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        driver = connection.connection.driver_connection
        if isinstance(driver, InlineConnection):
            driver.begin()  # straight to sqlite3: a read's BEGIN needs no trip through SQLAlchemy
        else:
            connection.exec_driver_sql(begin)


SQLITE_WRITERS = 1
"""Writing connections per process on a SQLite file (see `create_engine`)."""


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    null_pool: bool = False,
    read_only: bool = False,
    sqlite_writers: int = SQLITE_WRITERS,
) -> AsyncEngine:
    """`read_only` (SQLite): connections that refuse writes, read without locking and run on
    the event loop's thread (see `_configure_sqlite`, kit/sqlite_reads.py); PostgreSQL marks
    read-only transactions instead (`Database.unit_of_work`).

    A SQLite file has one writer at a time, so a process gets `sqlite_writers` writing
    connections and no overflow: writers beyond them wait their turn in the pool's queue (in
    order, on the event loop, for at most the pool's 30 s time-out) instead of each holding a
    connection and retrying the write lock in SQLite's busy handler, which under load spins
    on threads, costs CPU and serves nobody in order."""
    options: dict[str, Any] = {}
    if null_pool:
        options["poolclass"] = NullPool
    elif is_postgres(url):
        options.update(pool_size=pool_size, max_overflow=pool_size)
    elif _is_sqlite_file(url) and not read_only:
        options.update(pool_size=sqlite_writers, max_overflow=0)
    if read_only and _is_sqlite_file(url):
        # Read-only SQLite connections run on the event loop's thread (kit/sqlite_reads.py).
        options["async_creator"] = inline_connector(str(make_url(url).database))
    engine = create_async_engine(url, **options)
    if url.startswith("sqlite"):
        _configure_sqlite(engine, read_only=read_only)
    elif is_postgres(url) and not null_pool:
        _ping_idle_connections(engine)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only if it sat idle `IDLE_PING_SECONDS` or more.

    What `pool_pre_ping` does on every checkout (for asyncpg: BEGIN, a ping, ROLLBACK: three
    round trips, a third of a short request's cost) is needed only after a pause long enough
    for the server or the network to have dropped the connection; a connection in steady use
    proves itself with every statement. A failed ping discards the connection and the pool
    hands out another (SQLAlchemy's DisconnectionError protocol).
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_since(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # new (just connected) or in steady use
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise DisconnectionError("pooled connection failed its ping") from error


def _is_sqlite_file(url: str) -> bool:
    return url.startswith("sqlite") and ":memory:" not in url and "mode=memory" not in url


class ReadOnlyViolation(RuntimeError):
    """Code tried to write in a read-only unit of work."""


@event.listens_for(Session, "before_flush")
def _refuse_read_only_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY_KEY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyViolation("this unit of work is read-only; open a writing one")


@event.listens_for(Session, "do_orm_execute")
def _refuse_read_only_statements(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY_KEY) and (
        state.is_insert or state.is_update or state.is_delete
    ):
        raise ReadOnlyViolation("this unit of work is read-only; open a writing one")


CommitHook = Callable[[AsyncSession], None]


class Database:
    """The process's engine and session factory.

    `bind` may be an engine or, in tests, a connection holding an outer transaction that
    is rolled back after each test (sessions then join it through savepoints).
    """

    def __init__(self, bind: AsyncEngine | AsyncConnection, *, url: str) -> None:
        self.bind = bind
        self.url = url
        self.is_postgres = is_postgres(url)
        join_mode: Any = "create_savepoint" if isinstance(bind, AsyncConnection) else None
        options: dict[str, Any] = {"expire_on_commit": False, "autoflush": True}
        if join_mode:
            options["join_transaction_mode"] = join_mode
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(bind, **options)
        # Read-only units of work: on a SQLite file, a pool of their own whose connections
        # refuse writes and take no lock; on PostgreSQL the same pool, each transaction marked
        # READ ONLY. Joined to a test's outer transaction they share its connection, and only
        # the ORM refuses their writes (a read-only mark would outlive the savepoint).
        self._reader_engine: AsyncEngine | None = None
        reader: AsyncEngine | AsyncConnection = bind
        if isinstance(bind, AsyncEngine) and _is_sqlite_file(url):
            self._reader_engine = create_engine(url, read_only=True)
            reader = self._reader_engine
        self._reader: async_sessionmaker[AsyncSession] = async_sessionmaker(reader, **options)
        self._read_only_in_database = isinstance(bind, AsyncEngine) and self.is_postgres
        self._after_commit_hooks: list[CommitHook] = []

    @classmethod
    def from_url(
        cls, url: str, *, pool_size: int = 10, sqlite_writers: int = SQLITE_WRITERS
    ) -> Database:
        return cls(create_engine(url, pool_size=pool_size, sqlite_writers=sqlite_writers), url=url)

    def on_commit(self, hook: CommitHook) -> None:
        """Run `hook(session)` after every successful `unit_of_work` commit (e.g. wake the relay)."""
        self._after_commit_hooks.append(hook)

    def open_session(self, *, read_only: bool = False) -> AsyncSession:
        """A new session (no transaction yet); with `read_only`, one that cannot write."""
        if not read_only:
            return self.sessionmaker()
        session = self._reader()
        session.sync_session.info[READ_ONLY_KEY] = (
            "database" if self._read_only_in_database else "orm"
        )
        return session

    @asynccontextmanager
    async def unit_of_work(
        self, scope: TenantScope | None = None, *, read_only: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session committed when the block ends normally and rolled back otherwise; with
        `scope`, bound to that tenant before its first statement (background work: activities,
        tools, jobs).

        `read_only`: the block only reads. Its writes are refused (by the database where it
        can: SQLite's `query_only` connections, PostgreSQL's READ ONLY transactions; by the ORM
        always), and on SQLite it takes no lock, so reads run beside the one writer.

        A block that never touched the database (a refresh served from Redis, say) costs no
        commit and no close: the session holds no connection and no objects then.
        """
        session = self.open_session(read_only=read_only)
        if scope is not None:
            await bind_tenant(session, scope)
        try:
            yield session
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                await session.commit()
        except BaseException:
            await session.close()  # rolls back and returns the connection
            raise
        if session.in_transaction() or session.identity_map:
            # Detach loaded objects: touching one later raises instead of quietly opening a
            # transaction whose connection nobody returns.
            await session.close()
        if read_only:
            return
        for hook in self._after_commit_hooks:
            hook(session)

    async def ping(self) -> None:
        async with self.sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._reader_engine is not None:
            await self._reader_engine.dispose()
        if isinstance(self.bind, AsyncEngine):
            await self.bind.dispose()
