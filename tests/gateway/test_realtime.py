"""Realtime over a real WebSocket: authentication, tenant-scoped channels, outbox events and
service notifications, ping/pong, and dropping a consumer that falls behind."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.gateway.assembly import Gateway
from bizosaas.identity import service
from bizosaas.identity.membership.registration import add_membership
from bizosaas.identity.schemas import BrowserSession
from bizosaas.identity.sessions.authenticator import SESSION_COOKIE
from bizosaas.kit.permissions import Role
from bizosaas.settings import Settings
from tests.conftest import NOTES_MODULE
from tests.gateway.support import PASSWORD, serve, tenant_account
from tests.support.backends import DatabaseTarget

SERVICE_TOKEN = "realtime-service-credential-0123456789"


@dataclass
class Live:
    app: FastAPI
    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/brain/ws"

    @property
    def hub_size(self) -> int:
        gateway = self.app.state.gateway
        assert isinstance(gateway, Gateway)
        return len(gateway.hub.subscribers)


@pytest.fixture
async def live(isolated_target: DatabaseTarget, tmp_path: Path) -> AsyncIterator[Live]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=isolated_target.app_url,
        extra_modules=[NOTES_MODULE],
        log_format="console",
        log_level="WARNING",
        service_token=SERVICE_TOKEN,
        gateway_ws_queue_size=8,
        argon2_memory_cost=7168,
        argon2_time_cost=1,
    )
    app = create_app(settings)
    async with serve(app) as url:
        yield Live(app=app, url=url)


async def register(live: Live) -> dict[str, str]:
    account = await tenant_account(live.app)
    return {"token": account.token, "tenant": account.tenant}


async def next_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5) -> dict[str, Any]:  # noqa: ASYNC109
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    return data


async def subscribe(ws: aiohttp.ClientWebSocketResponse, *channels: str) -> None:
    await ws.send_json({"type": "subscribe", "channels": list(channels)})
    assert await next_json(ws) == {"type": "subscribed", "channels": sorted(channels)}


async def add_note(base_url: str, tenant: str, body: str) -> None:
    async with httpx.AsyncClient() as http:
        created = await http.post(
            f"{base_url}/api/brain/notes/tenants/{tenant}/notes", json={"body": body}
        )
    assert created.status_code == 201, created.text


async def test_websocket_needs_a_valid_token(live: Live) -> None:
    async with aiohttp.ClientSession() as http:
        for url in (live.ws_url, live.ws_url + "?access_token=forged"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(url)
            assert refused.value.status == 403


async def test_events_reach_their_tenant_only(live: Live) -> None:
    alice, bob = await register(live), await register(live)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers={"authorization": f"Bearer {alice['token']}"}) as a,
        http.ws_connect(f"{live.ws_url}?access_token={bob['token']}") as b,
    ):
        await subscribe(a, "notes.*")
        await subscribe(b, "notes.*")
        await a.send_json({"type": "ping"})
        assert await next_json(a) == {"type": "pong"}

        await add_note(live.url, alice["tenant"], "for alice")
        event = (await next_json(a))["event"]
        assert event["name"] == "notes.created" and event["tenant_id"] == alice["tenant"]
        await add_note(live.url, bob["tenant"], "for bob")
        assert (await next_json(b))["event"]["tenant_id"] == bob["tenant"]
        with pytest.raises(asyncio.TimeoutError):
            await a.receive(timeout=0.5)  # alice never sees bob's event

        await a.send_json({"type": "unsubscribe", "channels": ["notes.*"]})
        assert await next_json(a) == {"type": "unsubscribed", "channels": []}
        await add_note(live.url, alice["tenant"], "unheard")
        with pytest.raises(asyncio.TimeoutError):
            await a.receive(timeout=0.5)


async def test_service_notifications_reach_the_tenant(live: Live) -> None:
    alice = await register(live)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers={"authorization": f"Bearer {alice['token']}"}) as ws,
    ):
        await subscribe(ws, "notification.*")
        async with httpx.AsyncClient() as client:
            refused = await client.post(
                f"{live.url}/api/brain/realtime/notifications",
                json={"name": "report.ready", "tenant_id": alice["tenant"]},
            )
            accepted = await client.post(
                f"{live.url}/api/brain/realtime/notifications",
                json={"name": "report.ready", "tenant_id": alice["tenant"], "payload": {"n": 1}},
                headers={"authorization": f"Bearer {SERVICE_TOKEN}"},
            )
        assert refused.status_code == 401 and accepted.status_code == 202
        event = (await next_json(ws))["event"]
        assert event["name"] == "notification.report.ready" and event["payload"] == {"n": 1}


async def test_slow_consumer_is_dropped(live: Live) -> None:
    alice = await register(live)
    payload = {"blob": "x" * 60_000}
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers={"authorization": f"Bearer {alice['token']}"}) as ws,
        httpx.AsyncClient() as client,
    ):
        await subscribe(ws, "notification.*")
        assert live.hub_size == 1
        for _ in range(400):  # ~24 MB the client never reads
            await client.post(
                f"{live.url}/api/brain/realtime/notifications",
                json={"name": "flood", "tenant_id": alice["tenant"], "payload": payload},
                headers={"authorization": f"Bearer {SERVICE_TOKEN}"},
            )
            if live.hub_size == 0:
                break
        assert live.hub_size == 0, "the hub let go of the slow consumer"
        closed = None
        for _ in range(1000):
            message = await ws.receive(timeout=5)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                closed = message
                break
        assert closed is not None and ws.close_code == 1013


async def browser_cookie(live: Live) -> str:
    """A signed-in browser's session cookie, made with identity's own services."""
    database = live.app.state.database
    identity = live.app.state.identity
    email = f"browser-{uuid.uuid4().hex[:12]}@example.com"
    async with database.unit_of_work() as session:
        user = await service.create_user(
            session,
            identity=identity,
            email=email,
            password=PASSWORD,
            full_name="Browser",
            verified=True,
        )
        tenant = await service.create_tenant(session, name=f"Tenant {uuid.uuid4().hex[:8]}")
        await add_membership(session, tenant=tenant, user=user, role=Role.tenant_admin)
    async with database.unit_of_work() as session:
        opened = await service.login_browser(
            session, identity=identity, email=email, password=PASSWORD
        )
    assert isinstance(opened, BrowserSession)
    return f"{SESSION_COOKIE}={opened.cookie_token}"


async def test_cookie_handshake_only_from_our_own_origin(live: Live) -> None:
    """Cross-site WebSocket hijacking: another site's page cannot open a socket as the visitor,
    though the browser would send the visitor's cookie along."""
    cookie = await browser_cookie(live)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                live.ws_url, headers={"cookie": cookie, "origin": "https://evil.example"}
            )
        assert refused.value.status == 403
        own_origin = live.url  # the pages are served by the same gateway
        async with http.ws_connect(
            live.ws_url, headers={"cookie": cookie, "origin": own_origin}
        ) as ws:
            await ws.send_json({"type": "ping"})
            assert (await next_json(ws))["type"] == "pong"
