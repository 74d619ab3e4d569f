"""Server-side sessions: logout, logout everywhere, listing, revoking, browser sessions, and
revocation reaching every gateway process within a second."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.identity import service
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.schemas import BrowserSession
from bizosaas.identity.sessions.authenticator import SESSION_COOKIE
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.identity.conftest import API, Account, Register, bearer, login, mailbox, token_in
from tests.support.lifespan import app_lifespan


async def test_logout_ends_access_and_refresh(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    assert (await client.post(f"{API}/logout", headers=account.headers)).status_code == 204
    assert (await client.get(f"{API}/me", headers=account.headers)).status_code == 401
    refreshed = await client.post(f"{API}/refresh", json={"refresh_token": account.refresh_token})
    assert refreshed.status_code == 401


async def test_logout_all_and_session_list(client: httpx.AsyncClient, register: Register) -> None:
    account = await register()
    second = (await login(client, account.email)).json()
    sessions = (await client.get(f"{API}/sessions", headers=account.headers)).json()
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1

    revoke = await client.delete(f"{API}/sessions/{second['session_id']}", headers=account.headers)
    assert revoke.status_code == 204
    assert (
        await client.get(f"{API}/me", headers=bearer(second["access_token"]))
    ).status_code == 401
    assert len((await client.get(f"{API}/sessions", headers=account.headers)).json()) == 1

    third = (await login(client, account.email)).json()
    assert (await client.post(f"{API}/logout-all", headers=account.headers)).status_code == 204
    for token in (account.access_token, third["access_token"]):
        assert (await client.get(f"{API}/me", headers=bearer(token))).status_code == 401


async def test_cannot_revoke_someone_elses_session(
    client: httpx.AsyncClient, register: Register
) -> None:
    alice = await register()
    bob = await register()
    response = await client.delete(f"{API}/sessions/{alice.session_id}", headers=bob.headers)
    assert response.status_code == 404
    assert (await client.get(f"{API}/me", headers=alice.headers)).status_code == 200


async def test_browser_session_cookie_is_the_same_principal(
    client: httpx.AsyncClient,
    register: Register,
    database: Database,
    identity_context: IdentityContext,
) -> None:
    account = await register()
    async with database.unit_of_work() as session:
        outcome = await service.login_browser(
            session, identity=identity_context, email=account.email, password=account.password
        )
    assert isinstance(outcome, BrowserSession)
    client.cookies.set(SESSION_COOKIE, outcome.cookie_token)
    me = await client.get(f"{API}/me")
    assert me.status_code == 200, me.text
    assert me.json()["tenant"]["id"] == str(account.tenant_id)
    assert me.json()["roles"] == ["tenant_admin"]
    assert me.json()["session_id"] == str(outcome.session_id)
    listed = (await client.get(f"{API}/sessions", headers=account.headers)).json()
    assert {s["channel"] for s in listed} == {"api", "browser"}

    # Revoking the session from anywhere signs the browser out.
    revoked = await client.delete(f"{API}/sessions/{outcome.session_id}", headers=account.headers)
    assert revoked.status_code == 204
    assert (await client.get(f"{API}/me")).status_code == 401


async def test_switch_tenant(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    home = await register("Home")
    other = await register("Other")
    third = await register("Third")
    await client.post(
        f"{API}/invitations", json={"email": home.email, "role": "staff"}, headers=other.headers
    )
    invitation = next(m for m in await mailbox(database, home.email) if "invited" in m.subject)
    accepted = await client.post(f"{API}/invitations/accept", json={"token": token_in(invitation)})
    assert accepted.status_code == 201

    refused = await client.post(
        f"{API}/switch-tenant", json={"tenant": third.tenant_slug}, headers=home.headers
    )
    assert refused.status_code == 404
    switched = await client.post(
        f"{API}/switch-tenant", json={"tenant": other.tenant_slug}, headers=home.headers
    )
    assert switched.status_code == 200, switched.text
    pair = switched.json()
    assert pair["tenant_id"] == str(other.tenant_id)
    me = (await client.get(f"{API}/me", headers=bearer(pair["access_token"]))).json()
    assert me["tenant"]["slug"] == other.tenant_slug and me["roles"] == ["staff"]
    # Tokens never mix tenants: the session that asked has ended.
    assert (await client.get(f"{API}/me", headers=home.headers)).status_code == 401
    back = await client.post(
        f"{API}/switch-tenant",
        json={"tenant": str(home.tenant_id)},
        headers=bearer(pair["access_token"]),
    )
    assert back.status_code == 200
    assert back.json()["tenant_id"] == str(home.tenant_id)


async def _wait_for_status(
    http: httpx.AsyncClient, account: Account, status: int, within: float
) -> float:
    started = time.monotonic()
    while True:
        response = await http.get(f"{API}/me", headers=account.headers)
        elapsed = time.monotonic() - started
        if response.status_code == status:
            return elapsed
        assert elapsed < within, f"still {response.status_code} after {elapsed:.2f}s"
        await asyncio.sleep(0.05)


async def test_revocation_reaches_another_gateway_process_within_a_second(
    client: httpx.AsyncClient,
    register: Register,
    settings: Settings,
    database: Database,
    app: FastAPI,
) -> None:
    account = await register()
    second_app = create_app(settings, database=database)
    async with app_lifespan(second_app):
        transport = httpx.ASGITransport(app=second_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://second") as other:
            # The second process has seen the session alive (and may remember that briefly).
            assert (await other.get(f"{API}/me", headers=account.headers)).status_code == 200
            assert (await client.post(f"{API}/logout", headers=account.headers)).status_code == 204
            await _wait_for_status(other, account, 401, within=1.0)
