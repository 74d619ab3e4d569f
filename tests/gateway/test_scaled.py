"""Scaled mode: two gateway processes sharing PostgreSQL and Redis.

A rate limit holds across both, an event committed in one process reaches a WebSocket
client connected to the other (outbox relay -> Redis pub/sub -> the other's realtime hub), and
so does the end of a session (its sockets there close).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from tests.conftest import NOTES_MODULE
from tests.gateway.conftest import ISOLATED_POSTGRES_ONLY
from tests.gateway.support import (
    Process,
    app_env,
    base_env,
    register_account,
    start_bizosaas,
    stop,
    wait_healthy,
)
from tests.support.backends import DatabaseTarget, redis_test_url
from tests.support.waiting import PATIENCE


@pytest.fixture
async def two_gateways(
    isolated_target: DatabaseTarget, tmp_path: Path, repo_root: Path, unique: str
) -> AsyncIterator[tuple[Process, Process]]:
    redis_url = redis_test_url()
    assert redis_url is not None, "scaled-mode tests need BIZOSAAS_TEST_REDIS_URL"
    rules = [{"service": "notes", "limit": "5/minute", "per": "ip", "name": f"scaled-{unique}"}]
    env = app_env(
        base_env(repo_root),
        database_url=isolated_target.app_url,
        redis_url=redis_url,
        extra_modules=NOTES_MODULE,
        data_dir=str(tmp_path / "data"),  # shared: both processes sign with the same keys
        # One public address behind the load balancer: a token either issues, both accept.
        public_url="http://gateway.example.test",
        gateway_policies=json.dumps({"rate_limits": rules}),
        argon2_memory_cost="7168",
        argon2_time_cost="1",
    )
    # On PostgreSQL with Redis each `serve` runs a worker process per core: spawning them
    # takes a while on a busy machine.
    first = start_bizosaas(["serve"], env=env, cwd=tmp_path)
    await wait_healthy(first, within=120)  # the first creates the signing key; the second reads it
    second = start_bizosaas(["serve"], env=env, cwd=tmp_path)
    try:
        await wait_healthy(second, within=120)
        yield first, second
    finally:
        stop(first)
        stop(second)


@ISOLATED_POSTGRES_ONLY
async def test_rate_limit_holds_across_gateway_processes(
    two_gateways: tuple[Process, Process],
) -> None:
    first, second = two_gateways
    path = f"/api/brain/notes/tenants/{uuid.uuid4()}/notes"
    statuses = []
    async with httpx.AsyncClient() as http:
        for index in range(8):
            target = (first, second)[index % 2]
            statuses.append((await http.get(target.url + path)).status_code)
        limited = await http.get(second.url + path)
    assert statuses == [200] * 5 + [429] * 3, "five in total, not five per process"
    assert limited.json()["code"] == "rate_limited" and int(limited.headers["retry-after"]) > 0


@ISOLATED_POSTGRES_ONLY
async def test_event_committed_in_one_process_reaches_a_websocket_on_the_other(
    two_gateways: tuple[Process, Process],
) -> None:
    first, second = two_gateways
    async with httpx.AsyncClient() as http:
        account = await register_account(http, first.url)
        token, tenant = account.token, account.tenant
        ws_url = first.url.replace("http://", "ws://") + "/api/brain/ws"
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(ws_url, headers={"authorization": f"Bearer {token}"}) as ws,
        ):
            await ws.send_json({"type": "subscribe", "channels": ["notes.*"]})
            assert (await ws.receive_json(timeout=5))["type"] == "subscribed"
            created = await http.post(
                f"{second.url}/api/brain/notes/tenants/{tenant}/notes", json={"body": "hi"}
            )
            assert created.status_code == 201
            message = await ws.receive_json(timeout=10)
    event = message["event"]
    assert event["name"] == "notes.created" and event["tenant_id"] == tenant
    assert event["payload"]["note_id"] == created.json()["id"]


@ISOLATED_POSTGRES_ONLY
async def test_log_out_everywhere_in_one_process_closes_sockets_on_the_other(
    two_gateways: tuple[Process, Process],
) -> None:
    """The revocation reaches the other process's realtime hub through Redis; a socket of
    another user there stays open."""
    first, second = two_gateways
    async with httpx.AsyncClient() as http:
        leaving, staying = (
            await register_account(http, first.url),
            await register_account(http, first.url),
        )
        ws_url = first.url.replace("http://", "ws://") + "/api/brain/ws"
        async with (
            aiohttp.ClientSession() as client,
            client.ws_connect(ws_url, headers=leaving.headers) as leavers,
            client.ws_connect(ws_url, headers=staying.headers) as stayers,
        ):
            for ws in (leavers, stayers):
                await ws.send_json({"type": "ping"})
                assert (await ws.receive_json(timeout=PATIENCE))["type"] == "pong"
            logged_out = await http.post(
                f"{second.url}/api/brain/auth/logout-all", headers=leaving.headers
            )
            assert logged_out.status_code == 204
            async with asyncio.timeout(PATIENCE):
                closed = await leavers.receive()
            assert closed.type == aiohttp.WSMsgType.CLOSE
            assert (leavers.close_code, closed.extra) == (4401, "session ended")
            await stayers.send_json({"type": "ping"})
            assert (await stayers.receive_json(timeout=PATIENCE))["type"] == "pong"
