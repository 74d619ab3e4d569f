"""FastAPI dependencies shared by every domain router.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool, a
thread hand-off per dependency per request, which costs more than these few attribute reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.db import Database
from bizosaas.kit.events import EventBus
from bizosaas.settings import Settings


async def get_database(request: Request) -> Database:
    return cast(Database, request.app.state.database)


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


async def get_bus(request: Request) -> EventBus:
    return cast(EventBus, request.app.state.bus)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, before the response is
    sent (scope="function"), so a client never sees success for an uncommitted change."""
    async with cast(Database, request.app.state.database).unit_of_work() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's read-only unit of work (`Database.unit_of_work(read_only=True)`): for
    routes that only read; on SQLite it never waits for the write lock."""
    async with cast(Database, request.app.state.database).unit_of_work(read_only=True) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
Bus = Annotated[EventBus, Depends(get_bus)]
