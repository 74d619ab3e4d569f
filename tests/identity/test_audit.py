"""The tenant's append-only audit log."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.identity.conftest import API, Invite, Register, deliver_mail, login


async def test_auth_events_are_recorded_for_admins(
    client: httpx.AsyncClient, database: Database, register: Register, invite: Invite
) -> None:
    owner = await register()
    staff = await invite(owner, "staff")
    assert (await login(client, owner.email, "wrong password!!")).status_code == 401
    await deliver_mail(database)  # the failed login's handler writes its audit record
    await client.patch(
        f"{API}/members/{staff.user_id}", json={"role": "manager"}, headers=owner.headers
    )
    key = (
        await client.post(
            f"{API}/api-keys",
            json={"name": "k", "permissions": ["identity.member:read"]},
            headers=owner.headers,
        )
    ).json()
    await client.delete(f"{API}/api-keys/{key['id']}", headers=owner.headers)
    rotated = await client.post(f"{API}/refresh", json={"refresh_token": owner.refresh_token})
    assert rotated.status_code == 200
    assert (
        await client.post(f"{API}/refresh", json={"refresh_token": owner.refresh_token})
    ).status_code == 401
    admin_headers = {
        "Authorization": f"Bearer {(await login(client, owner.email)).json()['access_token']}"
    }

    response = await client.get(f"{API}/audit", headers=admin_headers)
    assert response.status_code == 200, response.text
    actions = [event["action"] for event in response.json()]
    for expected in (
        "tenant.created",
        "invitation.created",
        "invitation.accepted",
        "login.succeeded",
        "login.failed",
        "member.role_changed",
        "api_key.created",
        "api_key.revoked",
        "refresh.reused",
    ):
        assert expected in actions, (expected, actions)
    role_change = next(e for e in response.json() if e["action"] == "member.role_changed")
    assert role_change["details"] == {"from": "staff", "to": "manager", "email": staff.email}
    assert role_change["actor_id"] == str(owner.user_id)

    only_failures = await client.get(
        f"{API}/audit", params={"action": "login.failed"}, headers=admin_headers
    )
    assert [e["action"] for e in only_failures.json()] == ["login.failed"]
    # A manager cannot read the audit log.
    manager = (await login(client, staff.email)).json()
    audit_as_manager = await client.get(
        f"{API}/audit", headers={"Authorization": f"Bearer {manager['access_token']}"}
    )
    assert audit_as_manager.status_code == 403


async def test_audit_log_is_append_only(register: Register, database: Database) -> None:
    owner = await register()
    async with database.sessionmaker() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        await session.begin()
        with pytest.raises(DBAPIError):
            async with session.begin_nested():
                await session.execute(text("UPDATE audit_events SET action = 'forged'"))
        with pytest.raises(DBAPIError):
            async with session.begin_nested():
                await session.execute(text("DELETE FROM audit_events"))
        count = len((await session.execute(text("SELECT id FROM audit_events"))).all())
        assert count >= 1
        await session.rollback()
