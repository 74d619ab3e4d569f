"""Split mode: the same tests pass whether a module runs inside the gateway or as its own
process (`bizosaas serve --only <module> --register <gateway>`) behind it.

The access tokens are real identity tokens: the gateway's identity module issues them, and a
split-mode module verifies them itself with the gateway's JWKS.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.identity.credentials.keys import KeyStore
from bizosaas.identity.credentials.tokens import issue_access_token
from bizosaas.settings import Settings
from tests.conftest import NOTES_MODULE
from tests.gateway.support import (
    Process,
    app_env,
    base_env,
    bearer,
    serve,
    start_bizosaas,
    stop,
    wait_healthy,
)
from tests.support.backends import DatabaseTarget
from tests.support.handlers import relay_app_outbox
from tests.support.processes import free_port

WHOAMI_MODULE = "tests.gateway.whoami_module:module"
SERVICE_TOKEN = "split-mode-service-credential-0123456789"
PASSWORD = "correct horse battery staple"


@dataclass
class Brain:
    mode: str
    url: str
    processes: list[Process]
    keys: Path
    """The gateway's signing keys (to issue tokens with other roles)."""
    app: FastAPI
    """The gateway's app (served in this process): its relay is off, so tests relay."""


def gateway_settings(target: DatabaseTarget, data_dir: Path, modules: list[str]) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=target.app_url,
        extra_modules=modules,
        outbox_relay_enabled=False,
        log_format="console",
        log_level="WARNING",
        service_token=SERVICE_TOKEN,
        argon2_memory_cost=7168,
        argon2_time_cost=1,
    )


async def wait_routed(url: str, path: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            if (await http.get(url + path)).status_code not in (404, 503):
                return
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{path} never routed")


@pytest.fixture(scope="module", params=["local", "remote"])
async def brain(
    request: pytest.FixtureRequest,
    isolated_target: DatabaseTarget,
    tmp_path_factory: pytest.TempPathFactory,
    repo_root: Path,
) -> AsyncIterator[Brain]:
    tmp = tmp_path_factory.mktemp("brain")
    if request.param == "local":
        settings = gateway_settings(isolated_target, tmp / "data", [NOTES_MODULE, WHOAMI_MODULE])
        app = create_app(settings)
        async with serve(app) as url:
            yield Brain(mode="local", url=url, processes=[], keys=tmp / "data" / "keys", app=app)
        return
    port = free_port()
    settings = gateway_settings(isolated_target, tmp / "data", [])
    app = create_app(settings)
    async with serve(app, port=port) as url:
        env = app_env(
            base_env(repo_root),
            database_url=isolated_target.app_url,
            extra_modules=f"{NOTES_MODULE},{WHOAMI_MODULE}",
            service_token=SERVICE_TOKEN,
            data_dir=str(tmp / "split-data"),
            gateway_registry_ttl="10",
        )
        processes = [
            start_bizosaas(["serve", "--only", name, "--register", url], env=env, cwd=tmp)
            for name in ("notes", "whoami")
        ]
        try:
            for process in processes:
                await wait_healthy(process)
            await wait_routed(url, f"/api/brain/notes/tenants/{uuid.uuid4()}/notes")
            await wait_routed(url, "/api/brain/whoami/me")
            yield Brain(
                mode="remote", url=url, processes=processes, keys=tmp / "data" / "keys", app=app
            )
        finally:
            for process in processes:
                stop(process)


async def register(http: httpx.AsyncClient, brain: Brain) -> dict[str, str]:
    email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    response = await http.post(
        f"{brain.url}/api/brain/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "full_name": "Split Tester",
            "tenant_name": f"Split {uuid.uuid4().hex[:6]}",
        },
    )
    assert response.status_code == 202, response.text
    await relay_app_outbox(brain.app)  # the sign-up is carried out after the answer
    signed_in = await http.post(
        f"{brain.url}/api/brain/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    me = await http.get(
        f"{brain.url}/api/brain/auth/me",
        headers={"authorization": f"Bearer {tokens['access_token']}"},
    )
    return {
        "token": tokens["access_token"],
        "user": me.json()["user"]["id"],
        "tenant": me.json()["tenant"]["id"],
        "session": tokens["session_id"],
    }


def token_with_role(brain: Brain, account: dict[str, str], role: str) -> str:
    """A token of the account's live session carrying another role, signed by the gateway."""
    return issue_access_token(
        KeyStore.open(brain.keys),
        user_id=uuid.UUID(account["user"]),
        tenant_id=uuid.UUID(account["tenant"]),
        roles=[role],
        session_id=uuid.UUID(account["session"]),
        super_admin=False,
        ttl=60,
        issuer=jwt.decode(account["token"], options={"verify_signature": False})["iss"],
    ).token


async def test_module_routes_work_the_same(brain: Brain) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    notes = f"{brain.url}/api/brain/notes/tenants/{tenant}/notes"
    async with httpx.AsyncClient() as http:
        created = await http.post(notes, json={"body": f"hello {brain.mode}"})
        listed = await http.get(notes)
        read = await http.get(f"{notes}/{created.json()['id']}")
        cross = await http.get(
            f"{brain.url}/api/brain/notes/tenants/{other}/notes/{created.json()['id']}"
        )
        invalid = await http.post(notes, json={"body": ""})
        boom = await http.get(f"{brain.url}/api/brain/notes/boom")
    assert created.status_code == 201 and created.json()["tenant_id"] == str(tenant)
    assert [n["body"] for n in listed.json()] == [f"hello {brain.mode}"]
    assert read.status_code == 200
    assert cross.status_code == 404 and cross.json()["code"] == "notes.not_found"
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert invalid.json()["code"] == "request.validation_failed"
    assert boom.status_code == 500 and boom.json()["code"] == "internal_error"
    assert "secret internals" not in boom.text


async def test_module_verifies_the_callers_identity(brain: Brain) -> None:
    async with httpx.AsyncClient() as http:
        account = await register(http, brain)
        me = await http.get(
            f"{brain.url}/api/brain/whoami/me",
            headers={"authorization": f"Bearer {account['token']}"},
        )
        anonymous = await http.get(f"{brain.url}/api/brain/whoami/me")
        forged = await http.get(
            f"{brain.url}/api/brain/whoami/me",
            headers={"authorization": f"Bearer {account['token'][:-4]}AAAA"},
        )
    assert me.status_code == 200, me.text
    assert me.json() == {
        "subject": account["user"],
        "tenant_id": account["tenant"],
        "super_admin": False,
    }
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "auth.unauthenticated"
    assert forged.status_code == 401


async def test_module_role_grants_apply_wherever_the_module_runs(brain: Brain) -> None:
    """The notes module grants staff `notes.note:read`; a split service derives permissions
    from the token's roles with the same catalogue as the gateway."""
    async with httpx.AsyncClient() as http:
        account = await register(http, brain)
        mine = f"{brain.url}/api/brain/notes/notes"
        created = await http.post(
            f"{brain.url}/api/brain/notes/tenants/{account['tenant']}/notes",
            json={"body": f"for staff {brain.mode}"},
        )
        assert created.status_code == 201
        staff = await http.get(mine, headers=bearer(token_with_role(brain, account, "staff")))
        client = await http.get(mine, headers=bearer(token_with_role(brain, account, "client")))
    assert staff.status_code == 200, staff.text
    assert [note["body"] for note in staff.json()] == [f"for staff {brain.mode}"]
    assert client.status_code == 403 and client.json()["code"] == "auth.forbidden"


async def test_split_service_checks_tokens_without_the_gateway(brain: Brain) -> None:
    """Called directly (bypassing the gateway), a split service still refuses a bad token and
    accepts a good one: it does not trust its network position."""
    async with httpx.AsyncClient() as http:
        account = await register(http, brain)
        targets = [p.url for p in brain.processes if "whoami" in " ".join(p.process.args)]  # type: ignore[arg-type]
        for target in targets or [brain.url]:
            good = await http.get(
                f"{target}/api/brain/whoami/me",
                headers={"authorization": f"Bearer {account['token']}"},
            )
            bad = await http.get(
                f"{target}/api/brain/whoami/me", headers={"authorization": "Bearer x.y.z"}
            )
            assert good.status_code == 200 and good.json()["subject"] == account["user"]
            assert bad.status_code == 401
