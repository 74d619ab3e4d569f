"""`Idempotency-Key` (kit.idempotency): a retried write runs once and gets its first answer.

The operations are those of the test module `tests.kit.idempotent_module`, called as real
tenants' owners (registered through identity). Concurrency and several app instances run on a
database of their own (`fresh_target`), where writes really commit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError
from structlog.testing import capture_logs

from bizosaas.gateway.app import create_app
from bizosaas.identity import service
from bizosaas.identity.context import IdentityContext
from bizosaas.kit import migrate
from bizosaas.kit.db import Database, create_engine, utcnow
from bizosaas.kit.idempotency import (
    IN_PROGRESS_LEASE,
    IdempotencyRecord,
    sweep_expired,
)
from bizosaas.kit.outbox import OutboxEvent
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from bizosaas.settings import Settings
from tests.conftest import NOTES_MODULE, client_address, require
from tests.kit.idempotent_module import Gate
from tests.support import backends
from tests.support.backends import POSTGRES_ONLY, DatabaseTarget
from tests.support.handlers import signed_up
from tests.support.lifespan import app_lifespan
from tests.support.notes.models import Note

IDEM_MODULE = "tests.kit.idempotent_module:module"
API = "/api/brain/idem"
AUTH = "/api/brain/auth"
PASSWORD = "correct horse battery staple"


@dataclass
class Owner:
    tenant_id: uuid.UUID
    headers: dict[str, str]

    def key(self, key: str) -> dict[str, str]:
        return {**self.headers, "Idempotency-Key": key}


class Clock:
    """The idempotency store's clock (`app.state.idempotency_clock`), moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def with_module(settings: Settings) -> Settings:
    return settings.model_copy(update={"extra_modules": [NOTES_MODULE, IDEM_MODULE]})


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    application = create_app(with_module(settings), database=database)
    async with app_lifespan(application):
        yield application


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    moving = Clock()
    app.state.idempotency_clock = moving
    return moving


def http_client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def register(client: httpx.AsyncClient, name: str) -> Owner:
    """Sign up and log in: the owner of a new tenant."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post(
        f"{AUTH}/register",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": name.title(),
            "tenant_name": f"{name} {uuid.uuid4().hex[:8]}",
        },
    )
    assert response.status_code == 202, response.text
    await signed_up(client)  # the sign-up is carried out after the answer
    signed_in = await client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return Owner(
        tenant_id=uuid.UUID(signed_in.json()["tenant_id"]),
        headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
    )


async def notes_of(database: Database, tenant_id: uuid.UUID) -> tuple[int, int]:
    """How many notes the tenant has, and how many note events were written."""
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(tenant_id))
        notes = await session.scalar(select(func.count()).select_from(Note))
        events = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.name == "idem.note_written", OutboxEvent.tenant_id == tenant_id)
        )
    return notes or 0, events or 0


# -- replay -----------------------------------------------------------------------------------


async def test_retry_gets_the_first_answer_byte_for_byte_and_runs_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    owner = await register(client, "ada")
    first = await client.post(f"{API}/notes", json={"body": "hello"}, headers=owner.key("k-1"))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    retry = await client.post(f"{API}/notes", json={"body": "hello"}, headers=owner.key("k-1"))
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    assert retry.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["x-request-id"] != first.headers["x-request-id"]
    assert await notes_of(database, owner.tenant_id) == (1, 1)


async def test_requests_without_a_key_run_every_time(
    client: httpx.AsyncClient, database: Database
) -> None:
    owner = await register(client, "bob")
    for _ in range(2):
        response = await client.post(f"{API}/notes", json={"body": "hi"}, headers=owner.headers)
        assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert await notes_of(database, owner.tenant_id) == (2, 2)


async def test_a_key_names_one_request(client: httpx.AsyncClient, database: Database) -> None:
    owner = await register(client, "cyd")
    first = await client.post(f"{API}/notes", json={"body": "one"}, headers=owner.key("k-2"))
    assert first.status_code == 201
    other_body = await client.post(f"{API}/notes", json={"body": "two"}, headers=owner.key("k-2"))
    other_route = await client.post(f"{API}/counter", headers=owner.key("k-2"))
    for refused in (other_body, other_route):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "idempotency.key_reused"
    assert await notes_of(database, owner.tenant_id) == (1, 1)
    still = await client.post(f"{API}/notes", json={"body": "one"}, headers=owner.key("k-2"))
    assert still.headers["idempotent-replayed"] == "true" and still.content == first.content


async def test_keys_belong_to_their_tenant(client: httpx.AsyncClient, database: Database) -> None:
    alpha = await register(client, "alpha")
    beta = await register(client, "beta")
    a = await client.post(f"{API}/notes", json={"body": "same"}, headers=alpha.key("shared"))
    b = await client.post(f"{API}/notes", json={"body": "same"}, headers=beta.key("shared"))
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]
    assert await notes_of(database, alpha.tenant_id) == (1, 1)
    assert await notes_of(database, beta.tenant_id) == (1, 1)


async def test_platform_callers_keep_keys_of_their_own(
    client: httpx.AsyncClient, database: Database, identity_context: IdentityContext
) -> None:
    admins = []
    for _ in range(2):
        email = f"root-{uuid.uuid4().hex[:8]}@bizosaas.local"
        async with database.unit_of_work() as session:
            await service.create_user(
                session,
                identity=identity_context,
                email=email,
                password=PASSWORD,
                full_name="Root",
                super_admin=True,
            )
        login = await client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200 and login.json()["tenant_id"] is None
        admins.append({"Authorization": f"Bearer {login.json()['access_token']}"})
    keyed = [{**headers, "Idempotency-Key": "root-key"} for headers in admins]
    first = await client.post(f"{API}/counter", headers=keyed[0])
    again = await client.post(f"{API}/counter", headers=keyed[0])
    other = await client.post(f"{API}/counter", headers=keyed[1])
    assert first.status_code == again.status_code == other.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert other.json()["value"] == first.json()["value"] + 1
    assert "idempotent-replayed" not in other.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\xe9", "tab\there"])
async def test_a_malformed_key_is_refused(client: httpx.AsyncClient, key: str) -> None:
    owner = await register(client, "dee")
    response = await client.post(
        f"{API}/notes",
        json={"body": "x"},
        headers={**owner.headers, "Idempotency-Key": key.encode("latin-1")},  # type: ignore[dict-item]
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "idempotency.key_invalid"


async def test_a_key_needs_a_caller(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/counter", headers={"Idempotency-Key": "anon"})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.unauthenticated"


async def test_a_route_without_the_route_class_fails_loudly(client: httpx.AsyncClient) -> None:
    owner = await register(client, "eve")
    plain = await client.post(f"{API}/misdeclared", headers=owner.headers)
    assert plain.status_code == 201
    with capture_logs() as logs:
        keyed = await client.post(f"{API}/misdeclared", headers=owner.key("k-3"))
    assert keyed.status_code == 500
    assert keyed.json()["code"] == "internal_error"
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "unhandled_error"
    ]


def test_openapi_shows_the_optional_header_and_its_answers(tmp_path: Path) -> None:
    # The document is built from the routes alone: no need to start the app.
    settings = Settings(data_dir=tmp_path, extra_modules=[NOTES_MODULE, IDEM_MODULE])
    document = create_app(settings).openapi()
    operation = document["paths"][f"{API}/notes"]["post"]
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and header["required"] is False
    assert {"400", "409", "422"} <= set(operation["responses"])
    listing = document["paths"].get(f"{API}/notes", {}).get("get")
    assert listing is None  # only the operations that opt in carry it


# -- what is stored, and what is not ----------------------------------------------------------


async def test_a_refusal_is_stored_and_its_partial_work_undone(
    client: httpx.AsyncClient, database: Database
) -> None:
    owner = await register(client, "fay")
    first = await client.post(f"{API}/notes", json={"body": "taken"}, headers=owner.key("k-4"))
    assert first.status_code == 409 and first.json()["code"] == "idem.body_taken"
    retry = await client.post(f"{API}/notes", json={"body": "taken"}, headers=owner.key("k-4"))
    assert retry.status_code == 409
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    assert retry.headers["content-type"] == "application/problem+json"
    assert await notes_of(database, owner.tenant_id) == (0, 0)


@pytest.mark.parametrize("outage", ["exception", "problem_503", "returned_503"])
async def test_a_server_error_is_not_stored(
    app: FastAPI, client: httpx.AsyncClient, database: Database, outage: str
) -> None:
    owner = await register(client, "gus")
    app.state.notes_outage = outage
    with capture_logs():  # the exception's traceback is logged; not this test's subject
        failed = await client.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-5"))
    assert failed.status_code >= 500
    assert await notes_of(database, owner.tenant_id) == (0, 0)
    app.state.notes_outage = None
    retry = await client.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-5"))
    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert await notes_of(database, owner.tenant_id) == (1, 1)


async def test_a_request_refused_at_the_door_is_not_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    owner = await register(client, "hal")
    invalid = await client.post(f"{API}/notes", json={"body": ""}, headers=owner.key("k-6"))
    assert invalid.status_code == 422 and invalid.json()["code"] == "request.validation_failed"
    # The same key is free for the request the client meant to send.
    valid = await client.post(f"{API}/notes", json={"body": "ok"}, headers=owner.key("k-6"))
    assert valid.status_code == 201 and "idempotent-replayed" not in valid.headers


# -- expiry -----------------------------------------------------------------------------------


async def test_an_answer_is_replayed_until_the_ttl_and_then_the_key_is_new(
    app: FastAPI, clock: Clock, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await register(client, "ida")
    ttl = timedelta(seconds=app.state.settings.idempotency_ttl)
    assert ttl == timedelta(hours=24)
    first = await client.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-7"))
    clock.now += ttl - timedelta(seconds=1)
    late = await client.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-7"))
    assert late.headers.get("idempotent-replayed") == "true" and late.content == first.content
    clock.now += timedelta(seconds=1)
    expired = await client.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-7"))
    assert expired.status_code == 201 and "idempotent-replayed" not in expired.headers
    assert expired.json()["id"] != first.json()["id"]
    assert await notes_of(database, owner.tenant_id) == (2, 2)


async def test_expired_records_are_swept_a_bounded_batch_at_a_time(
    app: FastAPI, clock: Clock, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await register(client, "jon")
    for number in range(3):
        response = await client.post(
            f"{API}/notes", json={"body": f"n{number}"}, headers=owner.key(f"old-{number}")
        )
        assert response.status_code == 201
    clock.now += timedelta(seconds=app.state.settings.idempotency_ttl)

    async def keys_left() -> list[str]:
        async with database.unit_of_work() as session:
            await bind_tenant(session, trusted_scope(owner.tenant_id))
            return sorted(await session.scalars(select(IdempotencyRecord.key)))

    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        assert await sweep_expired(session, now=clock.now, limit=2) == 2
    assert len(await keys_left()) == 1
    # Any later reservation of the tenant sweeps the rest.
    await client.post(f"{API}/notes", json={"body": "new"}, headers=owner.key("new"))
    assert await keys_left() == ["new"]


# -- concurrency and several processes ---------------------------------------------------------


def instance_settings(target: DatabaseTarget, data_dir: Path) -> Settings:
    redis_url = None
    if target.backend == "postgres":
        redis_url = backends.redis_test_url()
        require(redis_url is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    return Settings(
        data_dir=data_dir,
        database_url=target.app_url,
        redis_url=redis_url,
        extra_modules=[NOTES_MODULE, IDEM_MODULE],
        outbox_relay_enabled=False,
        log_format="console",
        argon2_memory_cost=7168,
        argon2_time_cost=1,
    )


@asynccontextmanager
async def instances(
    target: DatabaseTarget, data_dir: Path, count: int
) -> AsyncIterator[list[tuple[FastAPI, httpx.AsyncClient]]]:
    """`count` gateways over one database, as separate processes would be (shared keys dir)."""
    settings = instance_settings(target, data_dir)
    async with AsyncExitStack() as stack:
        running = []
        for _ in range(count):
            application = create_app(settings)
            await stack.enter_async_context(app_lifespan(application))
            running.append((application, await stack.enter_async_context(http_client(application))))
        yield running


async def test_two_instances_share_keys(fresh_target: DatabaseTarget, tmp_path: Path) -> None:
    async with instances(fresh_target, tmp_path / "data", 2) as [(app_a, a), (_, b)]:
        owner = await register(a, "kim")
        first = await a.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-8"))
        retry = await b.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-8"))
        assert retry.headers.get("idempotent-replayed") == "true"
        assert retry.content == first.content
        assert await notes_of(app_a.state.database, owner.tenant_id) == (1, 1)


async def test_a_retry_while_the_first_runs_gets_409_and_never_runs(
    fresh_target: DatabaseTarget, tmp_path: Path
) -> None:
    async with instances(fresh_target, tmp_path / "data", 2) as [(app_a, a), (app_b, b)]:
        owner = await register(a, "lea")
        gate = Gate()
        app_a.state.notes_gate = gate
        first = asyncio.create_task(
            a.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-9"))
        )
        await gate.entered.wait()
        busy = await b.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-9"))
        assert busy.status_code == 409, busy.text
        assert busy.json()["code"] == "idempotency.in_progress"
        assert busy.headers["retry-after"] == "1"
        gate.release.set()
        done = await first
        assert done.status_code == 201 and "idempotent-replayed" not in done.headers
        later = await b.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-9"))
        assert later.headers.get("idempotent-replayed") == "true" and later.content == done.content
        assert await notes_of(app_b.state.database, owner.tenant_id) == (1, 1)


async def test_simultaneous_retries_run_once(fresh_target: DatabaseTarget, tmp_path: Path) -> None:
    async with instances(fresh_target, tmp_path / "data", 2) as [(app_a, a), (_, b)]:
        owner = await register(a, "max")
        sends = [
            client.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-10"))
            for client in (a, b, a, b)
        ]
        answers = await asyncio.gather(*sends)
        ran = [
            r for r in answers if r.status_code == 201 and "idempotent-replayed" not in r.headers
        ]
        assert len(ran) == 1
        for other in answers:
            assert other.status_code in {201, 409}, other.text
            if other.status_code == 201:
                assert other.content == ran[0].content
        assert await notes_of(app_a.state.database, owner.tenant_id) == (1, 1)


async def test_an_abandoned_claim_is_taken_over_and_the_first_attempt_cannot_commit(
    fresh_target: DatabaseTarget, tmp_path: Path
) -> None:
    """A first attempt that outlives its lease (as if its process had hung) loses the key: the
    retry runs, and the late first attempt's work is rolled back."""
    async with instances(fresh_target, tmp_path / "data", 2) as [(app_a, a), (app_b, b)]:
        clock = Clock()
        for application in (app_a, app_b):
            application.state.idempotency_clock = clock
        owner = await register(a, "ned")
        gate = Gate()
        app_a.state.notes_gate = gate
        stalled = asyncio.create_task(
            a.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-11"))
        )
        await gate.entered.wait()
        clock.now += IN_PROGRESS_LEASE
        retry = await b.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-11"))
        assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers
        gate.release.set()
        late = await stalled
        assert late.status_code == 409 and late.json()["code"] == "idempotency.in_progress"
        assert await notes_of(app_b.state.database, owner.tenant_id) == (1, 1)
        replay = await a.post(f"{API}/notes", json={"body": "x"}, headers=owner.key("k-11"))
        assert replay.content == retry.content


# -- the table --------------------------------------------------------------------------------


def stored_record(tenant_id: uuid.UUID | None, owner: str) -> IdempotencyRecord:
    now = utcnow()
    return IdempotencyRecord(
        tenant_id=tenant_id,
        owner=owner,
        key="k",
        caller=owner,
        method="POST",
        route="/x",
        request_hash="0" * 64,
        attempt=uuid.uuid4(),
        locked_until=now,
        created_at=now,
        expires_at=now + timedelta(days=1),
    )


@POSTGRES_ONLY
async def test_row_level_security_keeps_tenants_apart(database: Database) -> None:
    alpha, beta = uuid.uuid4(), uuid.uuid4()
    for tenant in (alpha, beta):
        async with database.unit_of_work() as session:
            await bind_tenant(session, trusted_scope(tenant))
            session.add(stored_record(tenant, f"tenant:{tenant}"))
    async with database.unit_of_work() as session:
        session.add(stored_record(None, "user:root"))

    async def visible_to(tenant: uuid.UUID | None) -> set[str]:
        async with database.unit_of_work() as session:
            if tenant is not None:
                await bind_tenant(session, trusted_scope(tenant))
            rows = await session.execute(text("SELECT owner FROM idempotency_keys"))
            return {row[0] for row in rows}

    assert await visible_to(alpha) == {f"tenant:{alpha}", "user:root"}
    assert await visible_to(None) == {"user:root"}
    with pytest.raises(DBAPIError, match="row-level security"):
        async with database.unit_of_work() as session:
            await bind_tenant(session, trusted_scope(alpha))
            session.add(stored_record(beta, "tenant:forged"))


async def test_the_migration_goes_down_and_up(fresh_target: DatabaseTarget) -> None:
    async def tables() -> set[str]:
        engine = create_engine(fresh_target.owner_url, null_pool=True)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    assert "idempotency_keys" in await tables()
    await asyncio.to_thread(
        migrate.downgrade, fresh_target.owner_url, "0004_encrypt_totp", modules=backends.MODULES
    )
    assert "idempotency_keys" not in await tables()
    await asyncio.to_thread(migrate.upgrade, fresh_target.owner_url, modules=backends.MODULES)
    assert "idempotency_keys" in await tables()
