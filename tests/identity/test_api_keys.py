"""API keys: shown once, hashed, tenant- and permission-scoped, revocable, last use kept."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from bizosaas.identity.credentials.tokens import hash_secret
from bizosaas.identity.models import ApiKey
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.identity.conftest import API, Invite, Register, bearer


async def test_key_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    owner = await register()
    created = await client.post(
        f"{API}/api-keys",
        json={"name": "Stock sync", "permissions": ["identity.member:read"]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("bzk_")
    listed = (await client.get(f"{API}/api-keys", headers=owner.headers)).json()
    assert len(listed) == 1 and "key" not in listed[0]
    assert listed[0]["prefix"] == key[:12] and listed[0]["last_used_at"] is None
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        row = await session.scalar(select(ApiKey))
        assert row is not None and row.key_hash == hash_secret(key) and key not in str(row.__dict__)


async def test_key_grants_only_its_permissions_in_its_tenant(
    client: httpx.AsyncClient, register: Register
) -> None:
    owner = await register()
    key = (
        await client.post(
            f"{API}/api-keys",
            json={"name": "Reader", "permissions": ["identity.member:read"]},
            headers=owner.headers,
        )
    ).json()["key"]
    for headers in (bearer(key), {"X-API-Key": key}):
        members = await client.get(f"{API}/members", headers=headers)
        assert members.status_code == 200, members.text
        assert [m["email"] for m in members.json()] == [owner.email]
    assert (await client.get(f"{API}/audit", headers=bearer(key))).status_code == 403
    assert (await client.get(f"{API}/api-keys", headers=bearer(key))).status_code == 403
    # Person-only endpoints refuse machine credentials.
    assert (await client.get(f"{API}/me", headers=bearer(key))).status_code == 403

    listed = (await client.get(f"{API}/api-keys", headers=owner.headers)).json()
    assert listed[0]["last_used_at"] is not None


async def test_key_cannot_exceed_its_creator(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register()
    staff = await invite(owner, "staff")
    refused = await client.post(
        f"{API}/api-keys",
        json={"name": "Mine", "permissions": ["identity.member:read"]},
        headers=staff.headers,
    )
    assert refused.status_code == 403  # staff may not create keys at all
    limited = (
        await client.post(
            f"{API}/api-keys",
            json={"name": "Key maker", "permissions": ["identity.api_key:*", "notes.*:read"]},
            headers=owner.headers,
        )
    ).json()["key"]
    wider = await client.post(
        f"{API}/api-keys",
        json={"name": "Wider", "permissions": ["identity.audit:read"]},
        headers=bearer(limited),
    )
    assert wider.status_code == 403
    assert wider.json()["code"] == "identity.permission_not_held"
    assert wider.json()["missing"] == ["identity.audit:read"]
    narrower = await client.post(
        f"{API}/api-keys",
        json={"name": "Narrower", "permissions": ["notes.note:read"]},
        headers=bearer(limited),
    )
    assert narrower.status_code == 201, narrower.text


@pytest.mark.parametrize(
    "asked",
    [["foo.bar:baz"], ["identity.members:read"], ["identity.member:read", "warehouse.*:read"]],
    ids=["made-up", "typo", "pattern-matching-nothing"],
)
async def test_a_key_with_a_permission_no_module_declares_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, register: Register, asked: list[str]
) -> None:
    owner = await register()
    refused = await client.post(
        f"{API}/api-keys", json={"name": "Never acts", "permissions": asked}, headers=owner.headers
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "identity.unknown_permission"
    assert problem["unknown"] == [asked[-1]]
    assert asked[-1] in problem["detail"]
    listed = await client.get(f"{API}/api-keys", headers=owner.headers)
    assert listed.json() == []


async def test_revoked_and_unknown_keys_are_refused(
    client: httpx.AsyncClient, register: Register
) -> None:
    owner = await register()
    created = (
        await client.post(
            f"{API}/api-keys",
            json={"name": "Temp", "permissions": ["identity.member:read"]},
            headers=owner.headers,
        )
    ).json()
    key = created["key"]
    assert (await client.get(f"{API}/members", headers=bearer(key))).status_code == 200
    revoked = await client.delete(f"{API}/api-keys/{created['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    assert (await client.get(f"{API}/members", headers=bearer(key))).status_code == 401
    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert (await client.get(f"{API}/members", headers=bearer(tampered))).status_code == 401
    assert (
        await client.get(f"{API}/members", headers={"X-API-Key": "bzk_nonsense"})
    ).status_code == 401


async def test_a_key_past_its_expiry_is_listed_expired_and_refused(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    owner = await register()
    created = await client.post(
        f"{API}/api-keys",
        json={
            "name": "Quarter end",
            "permissions": ["identity.member:read"],
            "expires_at": (utcnow() + timedelta(days=1)).isoformat(),
        },
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    key, key_id = created.json()["key"], created.json()["id"]
    assert (await client.get(f"{API}/members", headers=bearer(key))).status_code == 200
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        await session.execute(
            update(ApiKey).where(ApiKey.id == uuid.UUID(key_id)).values(expires_at=utcnow())
        )
    listed = (await client.get(f"{API}/api-keys", headers=owner.headers)).json()
    assert [(k["id"], k["status"]) for k in listed] == [(key_id, "expired")]
    assert (await client.get(f"{API}/members", headers=bearer(key))).status_code == 401
    await client.delete(f"{API}/api-keys/{key_id}", headers=owner.headers)
    listed = (await client.get(f"{API}/api-keys", headers=owner.headers)).json()
    assert listed[0]["status"] == "revoked"
