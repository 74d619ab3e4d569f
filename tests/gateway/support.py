"""Real servers for the gateway tests: upstreams on real sockets, apps under uvicorn, split
services as processes, and a test authenticator for tokens the tests sign themselves."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import jwt
import uvicorn
from aiohttp import web
from fastapi import FastAPI

from bizosaas.identity import service
from bizosaas.identity.membership.registration import add_membership
from bizosaas.identity.models import Tenant
from bizosaas.identity.schemas import TokenPair
from bizosaas.kit.db import Database
from bizosaas.kit.permissions import Role
from tests.support.handlers import signed_up
from tests.support.processes import BIZOSAAS, free_port
from tests.support.waiting import eventually


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def serve(app: Any, *, port: int | None = None) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn in this process; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before starting")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


SPECIAL_HEADERS = {
    "/cookie": {"set-cookie": "session=abc; HttpOnly"},
    "/private": {"cache-control": "private, max-age=60"},
    "/nostore": {"cache-control": "no-store"},
}


@dataclass
class EchoUpstream:
    """An aiohttp application that answers with what it received."""

    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    """Requests to `/hold` wait for this (set at shutdown at the latest)."""


@contextlib.asynccontextmanager
async def echo_upstream(*, port: int | None = None) -> AsyncIterator[EchoUpstream]:
    echo = EchoUpstream()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        record = {
            "method": request.method,
            "path": request.path_qs,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body_length": len(body),
        }
        echo.seen.append(record)
        if request.path.startswith("/big"):
            size = int(request.query.get("size", "0"))
            response = web.StreamResponse(headers={"content-type": "application/octet-stream"})
            await response.prepare(request)
            chunk = b"x" * 65536
            sent = 0
            while sent < size:
                part = chunk[: min(len(chunk), size - sent)]
                await response.write(part)
                sent += len(part)
            await response.write_eof()
            return response
        if request.path.startswith("/hold"):
            # Stays in flight until the test releases it, however slowly the test runs.
            await echo.release.wait()
            return web.json_response(record)
        if request.path.startswith("/status/"):
            return web.json_response(record, status=int(request.path.rsplit("/", 1)[1]))
        headers = {"connection": "keep-alive, x-hop", "x-hop": "secret", "x-upstream": "echo"}
        headers.update(SPECIAL_HEADERS.get(request.path, {}))
        return web.json_response(record, headers=headers)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port or free_port())
    await site.start()
    echo.url = f"http://127.0.0.1:{site._port}"
    try:
        yield echo
    finally:
        echo.release.set()
        await runner.cleanup()


@contextlib.asynccontextmanager
async def raw_upstream(reply: bytes, *, delay: float = 0.0) -> AsyncIterator[str]:
    """A TCP server that reads a request and answers `reply` after `delay` seconds."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(delay)
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


BreakMode = Literal["garbage", "disconnect"]


@dataclass
class FlakyUpstreams:
    """Instances sharing one budget of broken responses, recording every request they read."""

    mode: BreakMode
    breaks: int
    urls: list[str] = field(default_factory=list)
    seen: list[tuple[int, str]] = field(default_factory=list)
    """(instance index, method) per request, in arrival order."""

    def attempts(self, method: str) -> int:
        return sum(seen_method == method for _, seen_method in self.seen)


@contextlib.asynccontextmanager
async def flaky_upstreams(
    count: int, *, breaks: int, mode: BreakMode
) -> AsyncIterator[FlakyUpstreams]:
    """`count` TCP servers, one request per connection. Whichever instance reads one of the
    first `breaks` requests answers it broken: with bytes that are not HTTP ("garbage") or by
    closing the connection without a word ("disconnect"). Later requests get a 200 naming
    their method."""
    flaky = FlakyUpstreams(mode=mode, breaks=breaks)

    async def read_request(reader: asyncio.StreamReader) -> str:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        if headers.get("transfer-encoding") == "chunked":
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        elif length := int(headers.get("content-length", "0")):
            await reader.readexactly(length)
        return lines[0].split(" ", 1)[0]

    def handler(index: int) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                method = await read_request(reader)
                flaky.seen.append((index, method))
                if flaky.breaks:
                    flaky.breaks -= 1
                    if flaky.mode == "garbage":
                        writer.write(b"this is not http at all\r\n\r\n")
                else:
                    body = json.dumps({"method": method}).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
                    )
                await writer.drain()
            writer.close()

        return handle

    servers = [await asyncio.start_server(handler(i), "127.0.0.1", 0) for i in range(count)]
    flaky.urls = [f"http://127.0.0.1:{s.sockets[0].getsockname()[1]}" for s in servers]
    try:
        yield flaky
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


def services_json(**services: Mapping[str, Any]) -> str:
    return json.dumps(services)


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    url: str
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_bizosaas(
    args: list[str], *, env: Mapping[str, str], cwd: Path, port: int | None = None
) -> Process:
    port = port or free_port()
    log = cwd / f"bizosaas-{port}-{uuid.uuid4().hex[:6]}.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        [BIZOSAAS, *args, "--port", str(port)],
        cwd=cwd,
        env=dict(env),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    return Process(process=process, url=f"http://127.0.0.1:{port}", port=port, log=log)


async def wait_healthy(proc: Process, *, within: float = 30) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if proc.process.poll() is not None:
                raise RuntimeError(f"process exited early:\n{proc.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{proc.url}/api/brain/health", timeout=1)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{proc.url} not healthy:\n{proc.output()}")


def stop(proc: Process) -> None:
    if proc.process.poll() is None:
        proc.process.terminate()
        try:
            proc.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            proc.process.wait()


def base_env(repo_root: Path) -> dict[str, str]:
    """A clean environment for BizOSaaS subprocesses that can import this checkout's code and
    the test modules."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIZOSAAS_")}
    env["PYTHONPATH"] = f"{repo_root / 'src'}{os.pathsep}{repo_root}"
    return env


def app_env(base: Mapping[str, str], **settings: str) -> dict[str, str]:
    env = dict(base)
    env.update({f"BIZOSAAS_{key.upper()}": value for key, value in settings.items()})
    env.setdefault("BIZOSAAS_LOG_FORMAT", "console")
    env.setdefault("BIZOSAAS_LOG_LEVEL", "WARNING")
    env.pop("BIZOSAAS_TEST_STRICT", None)
    return env


PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    """A real identity account: its access token, user and tenant."""

    token: str
    user: str
    tenant: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def register_account(http: httpx.AsyncClient, base_url: str = "") -> Account:
    """Sign up through the gateway (identity's endpoint) and log in: a new tenant and its
    admin (whose address stays unconfirmed: enough for everything but sending mail)."""
    email = f"gw-{uuid.uuid4().hex[:12]}@example.com"
    response = await http.post(
        f"{base_url}/api/brain/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": "Gateway Tester",
            "tenant_name": f"Gateway {uuid.uuid4().hex[:8]}",
        },
    )
    assert response.status_code == 202, response.text
    await signed_up(http)
    # The sign-up is carried out after the answer: a login may come a moment too early.
    signed_in = await eventually(
        lambda: http.post(
            f"{base_url}/api/brain/auth/login", json={"email": email, "password": PASSWORD}
        ),
        until=lambda response: response.status_code == 200,
        every=0.2,
        what="a login after sign-up",
    )
    token = signed_in.json()["access_token"]
    me = (await http.get(f"{base_url}/api/brain/auth/me", headers=bearer(token))).json()
    return Account(token=token, user=me["user"]["id"], tenant=me["tenant"]["id"])


async def tenant_account(app: FastAPI) -> Account:
    """A new tenant and its admin, made with identity's own services (no sign-up mail)."""
    database: Database = app.state.database
    identity: service.IdentityContext = app.state.identity
    email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
    async with database.unit_of_work() as session:
        user = await service.create_user(
            session,
            identity=identity,
            email=email,
            password=PASSWORD,
            full_name="Owner",
            verified=True,
        )
        tenant = await service.create_tenant(session, name=f"Tenant {uuid.uuid4().hex[:8]}")
        await add_membership(session, tenant=tenant, user=user, role=Role.tenant_admin)
    return await _sign_in(database, identity, email, tenant_slug=tenant.slug)


async def add_member(app: FastAPI, tenant: str) -> Account:
    """Another user of `tenant`, signed in with identity's own services."""
    database: Database = app.state.database
    identity: service.IdentityContext = app.state.identity
    email = f"member-{uuid.uuid4().hex[:12]}@example.com"
    async with database.unit_of_work() as session:
        user = await service.create_user(
            session,
            identity=identity,
            email=email,
            password=PASSWORD,
            full_name="Member",
            verified=True,
        )
        found = await session.get(Tenant, uuid.UUID(tenant))
        assert found is not None
        await add_membership(session, tenant=found, user=user, role=Role.staff)
    return await _sign_in(database, identity, email, tenant_slug=found.slug)


async def super_admin(app: FastAPI) -> Account:
    """A platform administrator, created and signed in with identity's own services."""
    database: Database = app.state.database
    identity: service.IdentityContext = app.state.identity
    email = f"admin-{uuid.uuid4().hex[:12]}@example.com"
    async with database.unit_of_work() as session:
        await service.create_user(
            session,
            identity=identity,
            email=email,
            password=PASSWORD,
            full_name="Platform Admin",
            super_admin=True,
            verified=True,
        )
    return await _sign_in(database, identity, email)


async def _sign_in(
    database: Database,
    identity: service.IdentityContext,
    email: str,
    tenant_slug: str | None = None,
) -> Account:
    async with database.unit_of_work() as session:
        pair = await service.authenticate_password(
            session, identity=identity, email=email, password=PASSWORD, tenant_slug=tenant_slug
        )
    assert isinstance(pair, TokenPair)
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    return Account(token=pair.access_token, user=claims["sub"], tenant=str(pair.tenant_id))


ProbeAnswer = Literal["ok", "fail", "slow"]


@dataclass
class SwitchableUpstream:
    """An instance whose health endpoint and live answers the test switches: `/health`
    answers 200 ("ok"), 503 ("fail") or not before shutdown ("slow", a saturated instance's
    probe); every other path answers `live_status`."""

    url: str = ""
    health: ProbeAnswer = "ok"
    live_status: int = 200
    probes: int = 0
    live: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def switchable_upstream() -> AsyncIterator[SwitchableUpstream]:
    upstream = SwitchableUpstream()

    async def health(_request: web.Request) -> web.Response:
        upstream.probes += 1
        if upstream.health == "slow":
            await upstream.release.wait()
        status = 503 if upstream.health == "fail" else 200
        return web.json_response({"status": upstream.health}, status=status)

    async def live(request: web.Request) -> web.Response:
        upstream.live += 1
        return web.json_response({"path": request.path}, status=upstream.live_status)

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_route("*", "/{tail:.*}", live)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", free_port())
    await site.start()
    upstream.url = f"http://127.0.0.1:{site._port}"
    try:
        yield upstream
    finally:
        upstream.release.set()
        await runner.cleanup()
