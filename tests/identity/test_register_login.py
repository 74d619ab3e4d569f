"""Sign-up and password login."""

from __future__ import annotations

import httpx

from tests.identity.conftest import API, PASSWORD, Register


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
