"""Platform administration by super admins: tenants, users, the mail sink."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bizosaas.identity import service
from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxEvent
from tests.identity.conftest import (
    API,
    PASSWORD,
    Account,
    Register,
    bearer,
    deliver_mail,
    login,
    sink_mailer,
)


@pytest.fixture
async def super_admin(
    client: httpx.AsyncClient, database: Database, identity_context: IdentityContext, unique: str
) -> dict[str, str]:
    email = f"root-{unique}@bizosaas.local"
    async with database.unit_of_work() as session:
        await service.create_user(
            session,
            identity=identity_context,
            email=email,
            password=PASSWORD,
            full_name="Root",
            super_admin=True,
        )
    response = await login(client, email)
    assert response.status_code == 200, response.text
    assert response.json()["tenant_id"] is None  # platform-level, no tenant
    return bearer(response.json()["access_token"])


async def test_super_admin_manages_tenants(
    client: httpx.AsyncClient, super_admin: dict[str, str], register: Register, unique: str
) -> None:
    me = (await client.get(f"{API}/me", headers=super_admin)).json()
    assert "super_admin" in me["roles"] and me["user"]["is_super_admin"] is True

    created = await client.post(
        f"{API}/admin/tenants",
        json={"name": "Platform Made", "slug": f"made-{unique}"},
        headers=super_admin,
    )
    assert created.status_code == 201, created.text
    taken = await client.post(
        f"{API}/admin/tenants",
        json={"name": "Again", "slug": f"made-{unique}"},
        headers=super_admin,
    )
    assert taken.status_code == 409 and taken.json()["code"] == "identity.slug_taken"
    slugs = {
        t["slug"] for t in (await client.get(f"{API}/admin/tenants", headers=super_admin)).json()
    }
    assert f"made-{unique}" in slugs

    owner: Account = await register()
    key = (
        await client.post(
            f"{API}/api-keys",
            json={"name": "k", "permissions": ["identity.member:read"]},
            headers=owner.headers,
        )
    ).json()["key"]
    users = (
        await client.get(f"{API}/admin/users", params={"q": owner.email}, headers=super_admin)
    ).json()
    assert [u["email"] for u in users] == [owner.email]

    suspended = await client.post(
        f"{API}/admin/tenants/{owner.tenant_id}/suspend", headers=super_admin
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert (await client.get(f"{API}/me", headers=owner.headers)).status_code == 401
    assert (await client.get(f"{API}/members", headers=bearer(key))).status_code == 401
    refused = await login(client, owner.email, tenant=owner.tenant_slug)
    assert refused.status_code == 403 and refused.json()["code"] == "identity.tenant_suspended"

    await client.post(f"{API}/admin/tenants/{owner.tenant_id}/reactivate", headers=super_admin)
    assert (await login(client, owner.email)).status_code == 200
    assert (await client.get(f"{API}/members", headers=bearer(key))).status_code == 200


async def test_mail_sink_is_readable_by_super_admins(
    client: httpx.AsyncClient, super_admin: dict[str, str], register: Register, database: Database
) -> None:
    owner = await register()
    await deliver_mail(database)
    messages = (
        await client.get(f"{API}/admin/mail", params={"to": owner.email}, headers=super_admin)
    ).json()
    assert len(messages) == 1 and messages[0]["transport"] == "sink"
    one = await client.get(f"{API}/admin/mail/{messages[0]['id']}", headers=super_admin)
    assert one.status_code == 200 and "verify-email?token=" in one.json()["body"]
    assert (await client.get(f"{API}/admin/mail", headers=owner.headers)).status_code == 403


async def test_mail_delivery_is_idempotent(register: Register, database: Database) -> None:
    owner = await register()
    await deliver_mail(database)
    async with database.unit_of_work() as session:
        first = await service.list_mail(session, to=owner.email)
    # The relay is at-least-once: the same event delivered again sends nothing more.
    async with database.unit_of_work() as session:
        events = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.name == "identity.mail_requested")
            )
        ).all()
    for event in events:
        await sink_mailer(database).deliver(event.to_event())
    async with database.unit_of_work() as session:
        assert len(await service.list_mail(session, to=owner.email)) == len(first) == 1
