"""FastAPI dependencies shared by every domain router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.db import Database
from bizosaas.kit.events import EventBus
from bizosaas.settings import Settings


def get_database(request: Request) -> Database:
    return cast(Database, request.app.state.database)


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_bus(request: Request) -> EventBus:
    return cast(EventBus, request.app.state.bus)


async def get_session(
    database: Annotated[Database, Depends(get_database)],
) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, before the response is
    sent (scope="function"), so a client never sees success for an uncommitted change."""
    async with database.unit_of_work() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
Bus = Annotated[EventBus, Depends(get_bus)]
