"""Member list, role changes and removal; the last admin stays; what a member sees of
themselves."""

from __future__ import annotations

from datetime import datetime

import httpx
from fastapi import FastAPI

from bizosaas.identity.schemas import Me, MembershipRead, TenantRead, UserRead
from bizosaas.kit.module import DomainModule
from bizosaas.kit.permissions import ROLE_GRANTS, Role, covers
from tests.identity.conftest import API, Invite, Register, bearer, login


async def test_admin_lists_and_changes_roles(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register()
    staff = await invite(owner, "staff")
    members = (await client.get(f"{API}/members", headers=owner.headers)).json()
    assert {(m["email"], m["role"]) for m in members} == {
        (owner.email, "tenant_admin"),
        (staff.email, "staff"),
    }

    changed = await client.patch(
        f"{API}/members/{staff.user_id}", json={"role": "manager"}, headers=owner.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "manager"
    # The change applies at once: the member's sessions here end, the next login carries it.
    assert (await client.get(f"{API}/me", headers=staff.headers)).status_code == 401
    refreshed = await client.post(f"{API}/refresh", json={"refresh_token": staff.refresh_token})
    assert refreshed.status_code == 401
    pair = (await login(client, staff.email)).json()
    me = (await client.get(f"{API}/me", headers=bearer(pair["access_token"]))).json()
    assert me["roles"] == ["manager"]

    bad = await client.patch(
        f"{API}/members/{staff.user_id}", json={"role": "owner"}, headers=owner.headers
    )
    assert bad.status_code == 422


async def test_last_admin_cannot_be_demoted_or_removed(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register()
    demote = await client.patch(
        f"{API}/members/{owner.user_id}", json={"role": "staff"}, headers=owner.headers
    )
    assert demote.status_code == 409
    assert demote.json()["code"] == "identity.last_admin"
    remove = await client.delete(f"{API}/members/{owner.user_id}", headers=owner.headers)
    assert remove.status_code == 409

    second = await invite(owner, "tenant_admin")
    assert (
        await client.delete(f"{API}/members/{owner.user_id}", headers=second.headers)
    ).status_code == 204
    members = (await client.get(f"{API}/members", headers=second.headers)).json()
    assert [m["email"] for m in members] == [second.email]


async def test_removed_member_loses_access_at_once(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register()
    staff = await invite(owner, "staff")
    assert (await client.get(f"{API}/members", headers=staff.headers)).status_code == 200

    removed = await client.delete(f"{API}/members/{staff.user_id}", headers=owner.headers)
    assert removed.status_code == 204
    assert (await client.get(f"{API}/members", headers=staff.headers)).status_code == 401
    refreshed = await client.post(f"{API}/refresh", json={"refresh_token": staff.refresh_token})
    assert refreshed.status_code == 401
    relogin = await login(client, staff.email, tenant=owner.tenant_slug)
    assert relogin.status_code == 404


async def test_non_admins_cannot_manage_members(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register()
    manager = await invite(owner, "manager")
    client_user = await invite(owner, "client")
    for actor in (manager, client_user):
        change = await client.patch(
            f"{API}/members/{owner.user_id}", json={"role": "client"}, headers=actor.headers
        )
        assert change.status_code == 403
        remove = await client.delete(f"{API}/members/{owner.user_id}", headers=actor.headers)
        assert remove.status_code == 403
    assert (await client.get(f"{API}/members", headers=client_user.headers)).status_code == 403
    members = (await client.get(f"{API}/members", headers=owner.headers)).json()
    assert {m["role"] for m in members} == {"tenant_admin", "manager", "client"}


async def test_a_member_sees_their_own_profile_and_nothing_of_other_tenants(
    app: FastAPI, client: httpx.AsyncClient, register: Register, invite: Invite, unique: str
) -> None:
    owner = await register("Home")
    staff = await invite(owner, "staff")
    elsewhere = await register("Elsewhere")
    elsewhere_manager = await invite(elsewhere, "manager")

    response = await client.get(f"{API}/me", headers=staff.headers)
    assert response.status_code == 200, response.text
    me = response.json()
    assert set(me) == set(Me.model_fields)

    user = me["user"]
    assert set(user) == set(UserRead.model_fields)
    assert user["id"] == str(staff.user_id) and user["email"] == staff.email
    assert user["full_name"] == "Staff"
    assert user["is_super_admin"] is False and user["is_active"] is True
    assert user["mfa_enabled"] is False
    assert user["email_verified_at"] is not None  # accepting the invitation proved the address
    assert datetime.fromisoformat(user["created_at"])

    tenant = me["tenant"]
    assert set(tenant) == set(TenantRead.model_fields)
    assert tenant["id"] == str(owner.tenant_id) and tenant["slug"] == owner.tenant_slug
    assert tenant["name"] == f"Home {unique}" and tenant["status"] == "active"

    assert me["roles"] == ["staff"]
    # The platform's matrix, plus what the enabled modules grant staff.
    modules: list[DomainModule] = app.state.services.modules
    module_grants = [p for m in modules for p in m.role_grants.get(Role.staff, ())]
    assert "notes.note:read" in module_grants
    assert me["permissions"] == sorted({*ROLE_GRANTS[Role.staff], *module_grants})
    assert covers(me["permissions"], "identity.member:read")
    for withheld in ("identity.member:write", "identity.invitation:read", "identity.audit:read"):
        assert not covers(me["permissions"], withheld)
    assert me["session_id"] == str(staff.session_id)
    assert me["memberships"] == [{"tenant": tenant, "role": "staff"}]
    assert set(me["memberships"][0]) == set(MembershipRead.model_fields)

    # Nothing of another tenant, and nobody else of this one.
    text = response.text
    for foreign in (
        str(elsewhere.tenant_id),
        elsewhere.tenant_slug,
        f"Elsewhere {unique}",
        elsewhere.email,
        elsewhere_manager.email,
        str(elsewhere_manager.user_id),
        owner.email,
        str(owner.user_id),
    ):
        assert foreign not in text
