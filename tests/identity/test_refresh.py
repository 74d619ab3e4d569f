"""Refresh token rotation and reuse detection."""

from __future__ import annotations

import httpx

from tests.identity.conftest import API, Register


async def test_refresh_rotates_and_old_token_dies(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    first = await client.post(f"{API}/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200, first.text
    pair = first.json()
    assert pair["refresh_token"] != account.refresh_token
    assert pair["session_id"] == str(account.session_id)
    me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200

    second = await client.post(f"{API}/refresh", json={"refresh_token": pair["refresh_token"]})
    assert second.status_code == 200, second.text


async def test_reusing_a_dead_refresh_token_revokes_the_session(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    rotated = (
        await client.post(f"{API}/refresh", json={"refresh_token": account.refresh_token})
    ).json()

    reuse = await client.post(f"{API}/refresh", json={"refresh_token": account.refresh_token})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "identity.refresh_token_reused"

    # Every token of that login is dead: the rotated refresh token and both access tokens.
    after = await client.post(f"{API}/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    for token in (account.access_token, rotated["access_token"]):
        me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
        assert me.json()["code"] == "identity.session_revoked"


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/refresh", json={"refresh_token": "bzr_" + "x" * 43})
    assert response.status_code == 401
    assert response.json()["code"] == "identity.invalid_refresh_token"
