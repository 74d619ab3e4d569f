"""Tenant isolation: tenant B using tenant A's ids gets 404 and changes nothing; a client
cannot reach admin actions; client-supplied tenant headers are ignored."""

from __future__ import annotations

import uuid

import httpx

from tests.identity.conftest import API, Account, Invite, Register


async def _snapshot(client: httpx.AsyncClient, owner: Account) -> dict[str, object]:
    return {
        path: (await client.get(f"{API}/{path}", headers=owner.headers)).json()
        for path in ("members", "invitations", "api-keys", "sessions")
    }


async def test_tenant_b_cannot_touch_tenant_a(
    client: httpx.AsyncClient, register: Register, invite: Invite, unique: str
) -> None:
    a_owner = await register("Tenant A")
    a_staff = await invite(a_owner, "staff")
    a_invitation = (
        await client.post(
            f"{API}/invitations",
            json={"email": f"pending-{unique}@example.com", "role": "staff"},
            headers=a_owner.headers,
        )
    ).json()
    a_key = (
        await client.post(
            f"{API}/api-keys",
            json={"name": "A key", "permissions": ["identity.member:read"]},
            headers=a_owner.headers,
        )
    ).json()
    b_owner = await register("Tenant B")
    before = await _snapshot(client, a_owner)

    attempts = [
        ("PATCH", f"members/{a_staff.user_id}", {"role": "tenant_admin"}),
        ("PATCH", f"members/{a_owner.user_id}", {"role": "client"}),
        ("DELETE", f"members/{a_staff.user_id}", None),
        ("DELETE", f"members/{a_owner.user_id}", None),
        ("DELETE", f"invitations/{a_invitation['id']}", None),
        ("DELETE", f"api-keys/{a_key['id']}", None),
        ("DELETE", f"sessions/{a_owner.session_id}", None),
        ("DELETE", f"sessions/{a_staff.session_id}", None),
    ]
    for method, path, body in attempts:
        response = await client.request(method, f"{API}/{path}", json=body, headers=b_owner.headers)
        assert response.status_code == 404, (method, path, response.status_code, response.text)

    # Nothing of A's shows up in B's lists.
    for path in ("members", "invitations", "api-keys", "audit"):
        rows = (await client.get(f"{API}/{path}", headers=b_owner.headers)).json()
        text = str(rows)
        assert a_staff.email not in text and a_invitation["id"] not in text
        assert a_key["id"] not in text and str(a_owner.tenant_id) not in text

    assert await _snapshot(client, a_owner) == before
    assert (await client.get(f"{API}/me", headers=a_staff.headers)).status_code == 200
    assert (
        await client.get(f"{API}/members", headers={"X-API-Key": a_key["key"]})
    ).status_code == 200


async def test_tenant_headers_from_the_client_are_ignored(
    client: httpx.AsyncClient, register: Register
) -> None:
    a_owner = await register("Tenant A")
    b_owner = await register("Tenant B")
    for header in ("X-Tenant-ID", "X-Tenant", "X-Tenant-Slug"):
        headers = {**b_owner.headers, header: str(a_owner.tenant_id)}
        members = (await client.get(f"{API}/members", headers=headers)).json()
        assert [m["email"] for m in members] == [b_owner.email]
        me = (await client.get(f"{API}/me", headers=headers)).json()
        assert me["tenant"]["id"] == str(b_owner.tenant_id)


async def test_client_role_cannot_reach_admin_actions(
    client: httpx.AsyncClient, register: Register, invite: Invite, unique: str
) -> None:
    owner = await register()
    customer = await invite(owner, "client")
    staff = await invite(owner, "staff")
    forbidden = [
        ("GET", "members", None),
        ("PATCH", f"members/{staff.user_id}", {"role": "client"}),
        ("DELETE", f"members/{staff.user_id}", None),
        ("GET", "invitations", None),
        ("POST", "invitations", {"email": f"x-{unique}@example.com", "role": "tenant_admin"}),
        ("DELETE", f"invitations/{uuid.uuid4()}", None),
        ("GET", "api-keys", None),
        ("POST", "api-keys", {"name": "k", "permissions": ["*"]}),
        ("GET", "audit", None),
        ("GET", "admin/tenants", None),
        ("GET", "admin/users", None),
        ("GET", "admin/mail", None),
        ("POST", f"admin/tenants/{owner.tenant_id}/suspend", None),
    ]
    for method, path, body in forbidden:
        response = await client.request(
            method, f"{API}/{path}", json=body, headers=customer.headers
        )
        assert response.status_code == 403, (method, path, response.status_code)
    members = (await client.get(f"{API}/members", headers=owner.headers)).json()
    assert {m["role"] for m in members} == {"tenant_admin", "client", "staff"}
    # The client still manages their own account.
    assert (await client.get(f"{API}/me", headers=customer.headers)).status_code == 200
    assert (await client.get(f"{API}/sessions", headers=customer.headers)).status_code == 200
