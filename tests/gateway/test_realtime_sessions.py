"""A realtime socket ends with its session: logout, "log out everywhere", an administrator's
revocation and the token's expiry each close it (code 4401), while the sockets of other
sessions stay open. A real gateway under uvicorn, real WebSocket clients; embedded mode on
SQLite (the in-process bus) and scaled mode on PostgreSQL with Redis (the announcement goes
through Redis pub/sub, even back to the same process). The two-process case is in
test_scaled.py."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import jwt
import pytest
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.gateway.assembly import Gateway
from bizosaas.gateway.realtime import RealtimeHub
from bizosaas.identity import context
from bizosaas.identity.credentials.tokens import issue_access_token
from bizosaas.identity.schemas import BrowserSession, TokenPair
from bizosaas.identity.service import IdentityContext, authenticate_password, login_browser
from bizosaas.identity.sessions.authenticator import API_KEY_HEADER
from bizosaas.identity.sessions.rotation import revoke_sessions
from bizosaas.kit.auth import Principal, PrincipalKind
from bizosaas.settings import Settings
from bizosaas.web.shell import SESSION_COOKIE
from tests.conftest import NOTES_MODULE, require
from tests.gateway.support import (
    PASSWORD,
    Account,
    add_member,
    bearer,
    serve,
    tenant_account,
)
from tests.support import backends
from tests.support.backends import DatabaseTarget
from tests.support.waiting import PATIENCE, wait_until

CLOSE_SESSION_ENDED = 4401


@dataclass
class Live:
    app: FastAPI
    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/brain/ws"

    @property
    def gateway(self) -> Gateway:
        gateway = self.app.state.gateway
        assert isinstance(gateway, Gateway)
        return gateway


@contextlib.asynccontextmanager
async def running_gateway(
    target: DatabaseTarget, tmp_path: Path, *, sweep_interval: float
) -> AsyncIterator[Live]:
    redis_url = None
    if target.backend == "postgres":
        redis_url = backends.redis_test_url()
        require(redis_url is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=target.app_url,
        redis_url=redis_url,
        extra_modules=[NOTES_MODULE],
        log_format="console",
        log_level="WARNING",
        gateway_ws_session_sweep_interval=sweep_interval,
        argon2_memory_cost=7168,
        argon2_time_cost=1,
    )
    app = create_app(settings)
    async with serve(app) as url:
        yield Live(app=app, url=url)


@pytest.fixture
async def live(isolated_target: DatabaseTarget, tmp_path: Path) -> AsyncIterator[Live]:
    """The backstop sweep is pushed out of reach: these tests see the announcements alone."""
    async with running_gateway(isolated_target, tmp_path, sweep_interval=3600) as started:
        yield started


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def who(live: Live, account: Account) -> tuple[str, str]:
    """(email, tenant slug) of the account."""
    async with httpx.AsyncClient() as http:
        me = await http.get(f"{live.url}/api/brain/auth/me", headers=account.headers)
    assert me.status_code == 200, me.text
    return me.json()["user"]["email"], me.json()["tenant"]["slug"]


async def another_session(live: Live, account: Account) -> Account:
    """The same user signed in a second time (a second device): a session of its own."""
    identity: IdentityContext = live.app.state.identity
    email, slug = await who(live, account)
    async with live.app.state.database.unit_of_work() as session:
        pair = await authenticate_password(
            session, identity=identity, email=email, password=PASSWORD, tenant_slug=slug
        )
    assert isinstance(pair, TokenPair)
    assert claims_of(pair.access_token)["sid"] != claims_of(account.token)["sid"]
    return Account(token=pair.access_token, user=account.user, tenant=account.tenant)


async def browser_of(live: Live, account: Account) -> dict[str, str]:
    """The same user signed in to the web apps: the session cookie a browser would send."""
    identity: IdentityContext = live.app.state.identity
    email, slug = await who(live, account)
    async with live.app.state.database.unit_of_work() as session:
        opened = await login_browser(
            session, identity=identity, email=email, password=PASSWORD, tenant_slug=slug
        )
    assert isinstance(opened, BrowserSession)
    return {"cookie": f"{SESSION_COOKIE}={opened.cookie_token}"}


async def assert_open(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_json({"type": "ping"})
    async with asyncio.timeout(PATIENCE):
        message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.TEXT and message.json() == {"type": "pong"}


async def assert_closed(ws: aiohttp.ClientWebSocketResponse, reason: str) -> None:
    """The server closes the socket; the deadline is generous, never a speed check."""
    async with asyncio.timeout(PATIENCE):
        message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE, message
    assert (ws.close_code, message.extra) == (CLOSE_SESSION_ENDED, reason)


async def post(live: Live, path: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(f"{live.url}/api/brain/auth{path}", headers=bearer(token))


async def test_logout_closes_the_socket_of_that_session_only(live: Live) -> None:
    phone = await tenant_account(live.app)
    laptop = await another_session(live, phone)
    stranger = await tenant_account(live.app)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers=phone.headers) as on_phone,
        http.ws_connect(f"{live.ws_url}?access_token={laptop.token}") as on_laptop,
        http.ws_connect(live.ws_url, headers=stranger.headers) as strangers,
    ):
        await assert_open(on_phone)
        assert (await post(live, "/logout", phone.token)).status_code == 204
        await assert_closed(on_phone, "session ended")
        await assert_open(on_laptop)
        await assert_open(strangers)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(live.ws_url, headers=phone.headers)
        assert refused.value.status == 403
    await wait_until(lambda: not live.gateway.hub.subscribers, what="the hub lets go")


async def test_log_out_everywhere_closes_every_socket_of_the_user(live: Live) -> None:
    phone = await tenant_account(live.app)
    laptop = await another_session(live, phone)
    colleague = await add_member(live.app, phone.tenant)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers=phone.headers) as on_phone,
        http.ws_connect(live.ws_url, headers=laptop.headers) as on_laptop,
        http.ws_connect(live.ws_url, headers=colleague.headers) as colleagues,
    ):
        await assert_open(on_laptop)
        assert (await post(live, "/logout-all", laptop.token)).status_code == 204
        await assert_closed(on_phone, "session ended")
        await assert_closed(on_laptop, "session ended")
        await assert_open(colleagues)


async def test_log_out_everywhere_closes_the_browser_socket_too(live: Live) -> None:
    """A socket opened with the web apps' session cookie belongs to that browser session."""
    account = await tenant_account(live.app)
    cookie = await browser_of(live, account)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers=cookie) as in_browser,
    ):
        await assert_open(in_browser)
        assert (await post(live, "/logout-all", account.token)).status_code == 204
        await assert_closed(in_browser, "session ended")


async def test_revoking_an_api_key_closes_the_sockets_opened_with_it(live: Live) -> None:
    admin = await tenant_account(live.app)
    keys = []
    async with httpx.AsyncClient() as client:
        for name in ("feed", "other feed"):
            created = await client.post(
                f"{live.url}/api/brain/auth/api-keys",
                json={"name": name, "permissions": ["identity.member:read"]},
                headers=admin.headers,
            )
            assert created.status_code == 201, created.text
            keys.append(created.json())
        revoked, kept = keys
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(live.ws_url, headers={API_KEY_HEADER: revoked["key"]}) as feed,
            http.ws_connect(live.ws_url, headers={API_KEY_HEADER: kept["key"]}) as other_feed,
        ):
            await assert_open(feed)
            await assert_open(other_feed)
            answer = await client.delete(
                f"{live.url}/api/brain/auth/api-keys/{revoked['id']}", headers=admin.headers
            )
            assert answer.status_code == 204
            await assert_closed(feed, "session ended")
            await assert_open(other_feed)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(live.ws_url, headers={API_KEY_HEADER: revoked["key"]})
            assert refused.value.status == 403


async def test_removing_a_member_closes_their_sockets(live: Live) -> None:
    admin = await tenant_account(live.app)
    member = await add_member(live.app, admin.tenant)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers=member.headers) as members,
        http.ws_connect(live.ws_url, headers=admin.headers) as admins,
        httpx.AsyncClient() as client,
    ):
        await assert_open(members)
        removed = await client.delete(
            f"{live.url}/api/brain/auth/members/{member.user}", headers=admin.headers
        )
        assert removed.status_code == 204, removed.text
        await assert_closed(members, "session ended")
        await assert_open(admins)


async def test_a_socket_closes_when_its_token_expires(live: Live) -> None:
    """A token of a live session that expires in three seconds (minted with identity's own key
    store; the platform's shortest configurable lifetime is 30 s) and one that lasts."""
    account = await tenant_account(live.app)
    identity: IdentityContext = live.app.state.identity
    claims = claims_of(account.token)
    short_lived = issue_access_token(
        identity.keys,
        user_id=uuid.UUID(account.user),
        tenant_id=uuid.UUID(account.tenant),
        roles=list(claims["roles"]),
        session_id=uuid.UUID(str(claims["sid"])),
        super_admin=False,
        ttl=3,
        issuer=identity.issuer,
    )
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(live.ws_url, headers=bearer(short_lived.token)) as expiring,
        http.ws_connect(live.ws_url, headers=account.headers) as lasting,
    ):
        await assert_closed(expiring, "session expired")
        await assert_open(lasting)


async def test_the_sweep_closes_a_socket_whose_session_ended_unannounced(
    isolated_target: DatabaseTarget, tmp_path: Path
) -> None:
    """A revocation by a process with no event bus (as the command line is) is not announced;
    the hub's periodic batched check finds it."""
    async with running_gateway(isolated_target, tmp_path, sweep_interval=0.2) as live:
        account = await tenant_account(live.app)
        other = await tenant_account(live.app)
        gateway_identity: IdentityContext = live.app.state.identity
        no_bus = context.build(
            gateway_identity.settings,
            database=live.app.state.database,
            redis=gateway_identity.redis,
        )
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(live.ws_url, headers=account.headers) as ending,
            http.ws_connect(live.ws_url, headers=other.headers) as staying,
        ):
            await assert_open(ending)
            async with live.app.state.database.unit_of_work() as session:
                ended = await revoke_sessions(
                    session,
                    identity=no_bus,
                    session_id=uuid.UUID(claims_of(account.token)["sid"]),
                    reason="revoked",
                )
            assert ended == 1
            await assert_closed(ending, "session ended")
            await assert_open(staying)


async def test_a_handshake_checked_just_before_the_announcement_is_closed_on_connect() -> None:
    """Another process's session check may be answered from its brief cache: a socket that
    passed it just before the hub heard of the revocation is closed as it joins the hub."""
    hub = RealtimeHub(queue_size=4)
    ended_session, live_session = uuid.uuid4(), uuid.uuid4()

    def principal(session_id: uuid.UUID) -> Principal:
        return Principal(
            subject=uuid.uuid4(), kind=PrincipalKind.user, scope=None, session_id=session_id
        )

    hub.sessions_ended([ended_session])
    late = hub.connect(principal(ended_session))
    other = hub.connect(principal(live_session))
    assert late.closing == (CLOSE_SESSION_ENDED, "session ended")
    assert late.queue.get_nowait() is None, "the sender is told to close"
    assert other.closing is None and hub.subscribers == {other}
