"""Rate limits (per IP, user and tenant; headers; per service and route) and the response
cache (hits, misses, what is never cached, invalidation by writes and by outbox events)."""

from __future__ import annotations

import json
import uuid

import pytest

from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxRelay, record_event
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import add_member, echo_upstream, register_account, services_json
from tests.support.notes.events import NOTE_CREATED, NoteCreated
from tests.support.notes.models import Note

TENANT = uuid.UUID("0195f3a0-0000-7000-8000-0000000000f1")
NOTES = f"/api/brain/notes/tenants/{TENANT}/notes"


def policies(**values: object) -> str:
    return json.dumps(values)


async def test_rate_limit_per_ip_with_headers(gateway: GatewayFactory, unique: str) -> None:
    rules = [{"service": "notes", "limit": "3/minute", "per": "ip", "name": unique}]
    async with gateway(gateway_policies=policies(rate_limits=rules)) as (_app, client):
        answers = [await client.get(NOTES) for _ in range(4)]
        health = await client.get("/api/brain/health")
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert 0 < int(answers[0].headers["ratelimit-reset"]) <= 60
    limited = answers[3]
    assert limited.json()["code"] == "rate_limited"
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert health.status_code == 200 and "ratelimit-limit" not in health.headers


async def test_rate_limit_per_user_and_tenant(gateway: GatewayFactory, unique: str) -> None:
    rules = [
        {"service": "notes", "limit": "2/minute", "per": "user", "name": f"u{unique}"},
        {"service": "notes", "limit": "4/minute", "per": "tenant", "name": f"t{unique}"},
    ]
    async with gateway(gateway_policies=policies(rate_limits=rules)) as (app, client):
        alice = await register_account(client)
        bob, carol = await add_member(app, alice.tenant), await add_member(app, alice.tenant)
        stranger = await register_account(client)
        alice_calls = [
            (await client.get(NOTES, headers=alice.headers)).status_code for _ in range(3)
        ]
        bob_first = (await client.get(NOTES, headers=bob.headers)).status_code
        carol_first = (await client.get(NOTES, headers=carol.headers)).status_code
        other_tenant = (await client.get(NOTES, headers=stranger.headers)).status_code
    assert alice_calls == [200, 200, 429], "the user budget is 2"
    assert bob_first == 200, "another user of the tenant has their own budget"
    assert carol_first == 429, "but the tenant's budget of 4 is spent (refused calls count)"
    assert other_tenant == 200


async def test_rate_limit_per_route_and_method(gateway: GatewayFactory, unique: str) -> None:
    rules = [
        {
            "service": "echo",
            "route": "/login*",
            "methods": ["POST"],
            "limit": "1/minute",
            "name": unique,
        }
    ]
    async with echo_upstream() as echo:
        settings = {"gateway_services": services_json(echo={"urls": [echo.url]})}
        async with gateway(gateway_policies=policies(rate_limits=rules), **settings) as (_, c):
            logins = [(await c.post("/api/brain/echo/login")).status_code for _ in range(2)]
            reads = [(await c.get("/api/brain/echo/login")).status_code for _ in range(3)]
            others = [(await c.post("/api/brain/echo/other")).status_code for _ in range(3)]
    assert logins == [200, 429]
    assert reads == [200] * 3 and others == [200] * 3


@pytest.mark.usefixtures("cache_backend")
async def test_cache_hit_miss_and_invalidation_after_write(
    gateway: GatewayFactory, cache_backend: str, unique: str
) -> None:
    from_redis = {"redis_url": "redis://127.0.0.1:6379/15"} if cache_backend == "redis" else {}
    rules = [
        {"service": "notes", "route": "/tenants/*/notes", "ttl": 60, "vary": [], "name": unique}
    ]
    tenant_url = f"/api/brain/notes/tenants/{uuid.uuid4()}/notes"
    async with gateway(gateway_policies=policies(cache=rules), **from_redis) as (_app, client):
        first = await client.get(tenant_url)
        second = await client.get(tenant_url)
        created = await client.post(tenant_url, json={"body": "fresh"})
        third = await client.get(tenant_url)
        fourth = await client.get(tenant_url)
        bypass = await client.get(tenant_url, headers={"cache-control": "no-store"})
    assert first.headers["x-cache"] == "miss" and first.json() == []
    assert second.headers["x-cache"] == "hit" and second.json() == []
    assert "age" in second.headers
    assert created.status_code == 201
    assert third.headers["x-cache"] == "miss", "a write invalidates the cached list"
    assert [n["body"] for n in third.json()] == ["fresh"]
    assert fourth.headers["x-cache"] == "hit"
    assert "x-cache" not in bypass.headers


async def test_cache_invalidated_by_outbox_event(
    gateway: GatewayFactory, database: Database, unique: str
) -> None:
    """A change made elsewhere (not through the gateway) reaches the cache through its event."""
    rules = [{"service": "notes", "ttl": 60, "vary": [], "name": unique}]
    tenant = uuid.uuid4()
    url = f"/api/brain/notes/tenants/{tenant}/notes"
    async with gateway(gateway_policies=policies(cache=rules)) as (app, client):
        assert (await client.get(url)).json() == []
        assert (await client.get(url)).headers["x-cache"] == "hit"
        async with database.unit_of_work() as session:
            await bind_tenant(session, trusted_scope(tenant))
            note = Note(body="from a worker")
            session.add(note)
            await session.flush()
            record_event(session, NOTE_CREATED, NoteCreated(note_id=note.id, body=note.body))
        stale = await client.get(url)
        assert stale.headers["x-cache"] == "hit" and stale.json() == [], "not yet relayed"
        await OutboxRelay(database, app.state.bus).drain()
        fresh = await client.get(url)
    assert fresh.headers["x-cache"] == "miss"
    assert [n["body"] for n in fresh.json()] == ["from a worker"]


async def test_cache_keys_include_user_and_private_responses_are_not_cached(
    gateway: GatewayFactory, unique: str
) -> None:
    rules = [{"service": "echo", "ttl": 60, "vary": ["tenant", "user"], "name": unique}]
    async with echo_upstream() as echo:
        settings = {"gateway_services": services_json(echo={"urls": [echo.url]})}
        async with gateway(gateway_policies=policies(cache=rules), **settings) as (app, c):
            alice = await register_account(c)
            bob = await add_member(app, alice.tenant)
            a1 = await c.get("/api/brain/echo/me", headers=alice.headers)
            a2 = await c.get("/api/brain/echo/me", headers=alice.headers)
            b1 = await c.get("/api/brain/echo/me", headers=bob.headers)
            errors = [await c.get("/api/brain/echo/status/500") for _ in range(2)]
    assert (a1.headers["x-cache"], a2.headers["x-cache"]) == ("miss", "hit")
    assert b1.headers["x-cache"] == "miss", "another user never sees alice's response"
    assert b1.json()["headers"]["authorization"] == f"Bearer {bob.token}"
    assert [r.headers["x-cache"] for r in errors] == ["miss", "miss"]
    assert len(echo.seen) == 4


@pytest.mark.parametrize("path", ["/cookie", "/private", "/nostore"])
async def test_set_cookie_and_private_responses_are_never_cached(
    gateway: GatewayFactory, unique: str, path: str
) -> None:
    rules = [{"service": "echo", "ttl": 60, "vary": [], "name": unique}]
    async with echo_upstream() as echo:
        settings = {"gateway_services": services_json(echo={"urls": [echo.url]})}
        async with gateway(gateway_policies=policies(cache=rules), **settings) as (_, c):
            answers = [await c.get("/api/brain/echo" + path) for _ in range(2)]
    assert [r.headers["x-cache"] for r in answers] == ["miss", "miss"]
    assert len(echo.seen) == 2
