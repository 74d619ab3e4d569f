"""SQLite reads on the event loop's own thread: the driver under read-only units of work.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on a thread of its own and
wakes the event loop for each answer. For the few-row reads of an authenticated request those
hand-offs cost far more than SQLite itself (a profile of `GET /auth/me` showed more than half
of the process's time in them), so read-only connections call the sqlite3 driver directly,
inline. That is safe only because these connections cannot wait: they are `query_only`, and
under WAL a reader takes no lock and never waits for a writer; a short `busy_timeout` bounds
the rare exception (another connection recovering the WAL index) instead of stalling the loop.
Writers keep aiosqlite: BEGIN IMMEDIATE may wait for the write lock, and that wait belongs on
a thread.

`inline_connector(path)` is an `async_creator` for SQLAlchemy's aiosqlite dialect: it returns
an object with the part of aiosqlite's interface the dialect uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

READER_BUSY_TIMEOUT_MS = 200
"""How long an inline reader may block the event loop waiting on a lock (rare under WAL)."""


class _InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _InlineCursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> _InlineCursor:
        self._cursor.executemany(sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's queue to its thread (the dialect puts a call there to set the
    isolation level): runs the call at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    def begin(self) -> None:
        """BEGIN (deferred: under WAL a reader takes no lock), called by the engine's `begin`
        hook directly rather than through a cursor."""
        self._conn.execute("BEGIN")

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_connector(path: str) -> Callable[[], Awaitable[InlineConnection]]:
    """An `async_creator` opening read-only connections to the SQLite file at `path`."""

    async def connect() -> InlineConnection:
        # The engine's connect hook sets the pragmas (kit/db.py: query_only, busy timeout).
        return InlineConnection(sqlite3.connect(path, check_same_thread=False))

    return connect
