"""Fixtures of the workflow API tests that need a worker, a relaying outbox and a database of
their own on each backend (import them by name into a test module)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxEvent, OutboxRelay
from bizosaas.settings import Settings
from bizosaas.workflows.devserver import TemporalDevServer
from tests.conftest import client_address, own_database
from tests.support.backends import DatabaseTarget
from tests.workflows.support import app_with_worker, queue_prefix


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def database_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseTarget]:
    async with own_database(request.param, tmp_path_factory.mktemp("workflows")) as target:
        yield target


@pytest.fixture
async def database(database_target: DatabaseTarget) -> AsyncIterator[Database]:
    committed = Database.from_url(database_target.app_url)
    yield committed
    await committed.dispose()


@pytest.fixture
def prefix() -> str:
    return queue_prefix()


@pytest.fixture
async def app(
    settings: Settings, database: Database, temporal: TemporalDevServer, prefix: str
) -> AsyncIterator[FastAPI]:
    """The platform with a worker in the process (tests relay the outbox themselves, see
    `relay_again`: the identity fixtures drain it too, to read the mail sink)."""
    async with app_with_worker(settings, database, temporal, prefix) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def relay_again(app: FastAPI, database: Database, event: str, tenant_id: uuid.UUID) -> None:
    """Relay the tenant's `event` (again) to the app's bus, where the workflow starters listen.
    The identity fixtures drain the outbox through a bus of their own to read the mail sink and
    may have taken it; starting work from an event is idempotent, so delivering it again is
    what a relay that crashed before marking it would do."""
    async with database.unit_of_work() as session:
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.name == event, OutboxEvent.tenant_id == tenant_id)
            .values(published_at=None)
        )
    await OutboxRelay(database, app.state.bus).drain()
