"""Work started from events: a tenant's creation starts its onboarding, exactly once even when
the outbox relays the event twice, and the welcome e-mail goes out once, through the outbox
mailer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from temporalio.client import Client

from bizosaas.identity import service as identity
from bizosaas.identity.events import MAIL_REQUESTED, TENANT_CREATED
from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxEvent, OutboxRelay
from bizosaas.settings import Settings
from bizosaas.workflows.devserver import TemporalDevServer
from tests.conftest import client_address, own_database
from tests.identity.conftest import Register, register
from tests.support.backends import DatabaseTarget
from tests.support.waiting import eventually
from tests.workflows.support import app_with_worker, queue_prefix

assert register  # a fixture, used by name
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def database_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseTarget]:
    async with own_database(request.param, tmp_path_factory.mktemp("starts")) as target:
        yield target


@pytest.fixture
async def database(database_target: DatabaseTarget) -> AsyncIterator[Database]:
    committed = Database.from_url(database_target.app_url)
    yield committed
    await committed.dispose()


@pytest.fixture
async def app(
    settings: Settings, database: Database, temporal: TemporalDevServer
) -> AsyncIterator[FastAPI]:
    async with app_with_worker(settings, database, temporal, queue_prefix()) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _publish_again(database: Database, tenant_id: uuid.UUID) -> None:
    """What a relay that crashed between publishing and marking does: the event is pending
    again and goes out a second time."""
    async with database.unit_of_work() as session:
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.name == TENANT_CREATED.name, OutboxEvent.tenant_id == tenant_id)
            .values(published_at=None)
        )


async def test_a_tenant_created_twice_on_the_bus_is_onboarded_once(
    app: FastAPI, database: Database, register: Register
) -> None:
    owner = await register("Onboarded")
    relay = OutboxRelay(database, app.state.bus)
    await relay.drain()
    await _publish_again(database, owner.tenant_id)
    assert await relay.drain() >= 1, "the event went out a second time"

    temporal: Client = app.state.temporal
    workflow_id = f"{owner.tenant_id}:onboarding:{owner.tenant_id}"
    # With Redis the bus delivers to the starter asynchronously: wait for the run to exist.
    await eventually(
        lambda: _runs(temporal, workflow_id), lambda runs: len(runs) >= 1, what="the start"
    )
    result = await temporal.get_workflow_handle(workflow_id).result()
    assert result["recipients"] == [owner.email]
    assert len(await _runs(temporal, workflow_id)) == 1, "one workflow for the event twice"

    await _publish_again(database, owner.tenant_id)
    await relay.drain()  # a third delivery, after the run has ended, starts nothing either
    await relay.drain()  # delivers the welcome e-mail to the sink
    assert len(await _runs(temporal, workflow_id)) == 1

    async def welcomes() -> list[str]:
        async with database.unit_of_work() as session:
            mail = await identity.list_mail(session, to=owner.email)
        return [m.subject for m in mail if m.subject.startswith("Welcome to BizOSaaS")]

    assert len(await eventually(welcomes, bool, what="the welcome e-mail")) == 1
    async with database.unit_of_work() as session:
        requested = await session.scalars(
            select(OutboxEvent.payload).where(
                OutboxEvent.name == MAIL_REQUESTED.name, OutboxEvent.tenant_id == owner.tenant_id
            )
        )
        asked = [p["subject"] for p in requested if p["subject"].startswith("Welcome")]
    assert len(asked) == 1, "the welcome was written to the outbox once"


async def _runs(temporal: Client, workflow_id: str) -> list[object]:
    return [run async for run in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]
