"""Permissions a module declares and grants reach every verified caller: a role's permissions
are the platform's matrix plus the enabled modules' grants (here the example notes module lets
staff read notes), and a module's route checks them like identity's own."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.identity.conftest import API, Account, Invite, Register
from tests.support.lifespan import app_lifespan

NOTES = "/api/brain/notes"


async def _add_notes(client: httpx.AsyncClient, tenant_id: uuid.UUID, *bodies: str) -> None:
    for body in bodies:
        created = await client.post(f"{NOTES}/tenants/{tenant_id}/notes", json={"body": body})
        assert created.status_code == 201, created.text


async def _my_notes(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await client.get(f"{NOTES}/notes", headers=account.headers)


async def test_the_catalogue_holds_the_modules_declarations(app: FastAPI) -> None:
    catalogue = app.state.permissions
    assert catalogue.declared["notes.note:read"].module == "notes"
    assert catalogue.declared["identity.member:read"].module == "auth"
    assert app.state.services.permissions is catalogue


async def test_a_module_role_grant_lets_staff_use_the_modules_route(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register()
    other = await register("Other")
    await _add_notes(client, owner.tenant_id, "first", "second")
    await _add_notes(client, other.tenant_id, "not yours")
    staff = await invite(owner, "staff")
    customer = await invite(owner, "client")

    listed = await _my_notes(client, staff)
    assert listed.status_code == 200, listed.text
    assert [note["body"] for note in listed.json()] == ["first", "second"]
    me = (await client.get(f"{API}/me", headers=staff.headers)).json()
    assert "notes.note:read" in me["permissions"]

    refused = await _my_notes(client, customer)
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.forbidden"
    assert "notes.note:read" in refused.json()["detail"]
    assert (await _my_notes(client, owner)).status_code == 200, "tenant admins hold `*`"
    assert (await client.get(f"{NOTES}/notes")).status_code == 401


async def test_a_module_reads_its_own_settings(
    settings: Settings,
    database: Database,
    register: Register,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await register()
    await _add_notes(client, owner.tenant_id, "one", "two", "three")
    assert len((await _my_notes(client, owner)).json()) == 3, "the default page is 50"
    monkeypatch.setenv("BIZOSAAS_NOTES_PAGE_SIZE", "2")
    small_pages = create_app(settings, database=database)
    async with app_lifespan(small_pages):
        transport = httpx.ASGITransport(app=small_pages)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            listed = await http.get(f"{NOTES}/notes", headers=owner.headers)
    assert listed.status_code == 200, listed.text
    assert [note["body"] for note in listed.json()] == ["one", "two"]
