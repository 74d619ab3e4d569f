"""Sign-up and password login."""

from __future__ import annotations

import httpx

from tests.identity.conftest import API, PASSWORD, Invite, Register, bearer, login


async def test_register_creates_tenant_and_admin(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register("Bean Co")
    me = await client.get(f"{API}/me", headers=account.headers)
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user"]["email"] == account.email
    assert body["tenant"]["id"] == str(account.tenant_id)
    assert body["roles"] == ["tenant_admin"]
    assert body["permissions"] == ["*"]


async def test_login_returns_token_pair(client: httpx.AsyncClient, register: Register) -> None:
    account = await register()
    response = await client.post(
        f"{API}/login", json={"email": account.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["access_token"] and body["refresh_token"]


async def test_login_picks_the_requested_tenant(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    first = await register("First")
    second = await register("Second")
    member = await invite(second, "staff", email=f"both-{first.email}")
    # Make `member` a member of `first` too.
    await invite(first, "client", email=member.email)

    for account, role in ((first, "client"), (second, "staff")):
        response = await login(client, member.email, tenant=account.tenant_slug)
        assert response.status_code == 200, response.text
        assert response.json()["tenant_id"] == str(account.tenant_id)
        me = await client.get(f"{API}/me", headers=bearer(response.json()["access_token"]))
        assert me.json()["roles"] == [role]

    stranger = await register("Stranger")
    refused = await login(client, member.email, tenant=stranger.tenant_slug)
    assert refused.status_code == 404
    assert refused.json()["code"] == "identity.tenant_not_found"


async def test_bad_input_is_a_clear_problem(client: httpx.AsyncClient, unique: str) -> None:
    response = await client.post(
        f"{API}/register",
        json={"email": "not-an-email", "password": PASSWORD, "full_name": "", "tenant_name": "X"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert {("body", "email"), ("body", "full_name"), ("body", "tenant_name")} <= fields
    assert (await login(client, f"x-{unique}@example.com")).status_code == 401
    assert (await client.get(f"{API}/me")).status_code == 401
    garbage = await client.get(f"{API}/me", headers=bearer("not.a.token"))
    assert garbage.status_code == 401
