"""Creating an invitation or an API key may be retried with an `Idempotency-Key`: the retry gets
the first answer and nothing is created, audited or mailed twice."""

from __future__ import annotations

from pathlib import Path

import httpx

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.identity.conftest import API, Invite, Register, mailbox


async def audited(client: httpx.AsyncClient, headers: dict[str, str], action: str) -> int:
    response = await client.get(f"{API}/audit", params={"action": action}, headers=headers)
    assert response.status_code == 200, response.text
    return len(response.json())


async def test_a_retried_invitation_is_sent_once(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner = await register()
    email = f"retry-{unique}@example.com"
    keyed = {**owner.headers, "Idempotency-Key": f"invite-{unique}"}
    first = await client.post(
        f"{API}/invitations", json={"email": email, "role": "staff"}, headers=keyed
    )
    retry = await client.post(
        f"{API}/invitations", json={"email": email, "role": "staff"}, headers=keyed
    )
    assert first.status_code == retry.status_code == 201, retry.text
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    listed = (await client.get(f"{API}/invitations", headers=owner.headers)).json()
    assert [invitation["email"] for invitation in listed] == [email]
    assert await audited(client, owner.headers, "invitation.created") == 1
    assert await audited(client, owner.headers, "invitation.revoked") == 0
    assert len(await mailbox(database, email)) == 1


async def test_a_retried_api_key_is_created_once_and_its_secret_shown_again(
    client: httpx.AsyncClient, register: Register, unique: str
) -> None:
    owner = await register()
    keyed = {**owner.headers, "Idempotency-Key": f"key-{unique}"}
    payload = {"name": "Stock sync", "permissions": ["identity.member:read"]}
    first = await client.post(f"{API}/api-keys", json=payload, headers=keyed)
    retry = await client.post(f"{API}/api-keys", json=payload, headers=keyed)
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content and retry.headers["idempotent-replayed"] == "true"
    assert len((await client.get(f"{API}/api-keys", headers=owner.headers)).json()) == 1
    assert await audited(client, owner.headers, "api_key.created") == 1
    # The replayed secret is the one stored: it works.
    secret = retry.json()["key"]
    members = await client.get(f"{API}/members", headers={"Authorization": f"Bearer {secret}"})
    assert members.status_code == 200


async def test_without_a_key_every_request_creates(
    client: httpx.AsyncClient, register: Register
) -> None:
    owner = await register()
    payload = {"name": "Twice", "permissions": ["identity.member:read"]}
    for _ in range(2):
        created = await client.post(f"{API}/api-keys", json=payload, headers=owner.headers)
        assert created.status_code == 201 and "idempotent-replayed" not in created.headers
    assert len((await client.get(f"{API}/api-keys", headers=owner.headers)).json()) == 2


async def test_a_key_reused_for_another_request_is_refused(
    client: httpx.AsyncClient, register: Register, unique: str
) -> None:
    owner = await register()
    keyed = {**owner.headers, "Idempotency-Key": f"reused-{unique}"}
    sent = await client.post(
        f"{API}/invitations",
        json={"email": f"a-{unique}@example.com", "role": "staff"},
        headers=keyed,
    )
    assert sent.status_code == 201
    other_body = await client.post(
        f"{API}/invitations",
        json={"email": f"b-{unique}@example.com", "role": "staff"},
        headers=keyed,
    )
    other_route = await client.post(
        f"{API}/api-keys",
        json={"name": "K", "permissions": ["identity.member:read"]},
        headers=keyed,
    )
    for refused in (other_body, other_route):
        assert refused.status_code == 422
        assert refused.json()["code"] == "idempotency.key_reused"
    assert len((await client.get(f"{API}/invitations", headers=owner.headers)).json()) == 1
    assert (await client.get(f"{API}/api-keys", headers=owner.headers)).json() == []


async def test_keys_are_per_tenant_and_per_member(
    client: httpx.AsyncClient, register: Register, invite: Invite, unique: str
) -> None:
    alpha = await register("Alpha")
    beta = await register("Beta")
    co_admin = await invite(alpha, "tenant_admin")
    key = f"same-{unique}"
    payload = {"name": "Shared name", "permissions": ["identity.member:read"]}
    answers = [
        await client.post(
            f"{API}/api-keys", json=payload, headers={**who.headers, "Idempotency-Key": key}
        )
        for who in (alpha, beta, co_admin)
    ]
    first, other_tenant, other_member = answers
    assert first.status_code == other_tenant.status_code == 201
    assert "idempotent-replayed" not in other_tenant.headers
    assert other_tenant.json()["key"] != first.json()["key"]
    # Another member of the same tenant never gets someone else's answer (nor its secret).
    assert other_member.status_code == 422
    assert first.json()["key"] not in other_member.text
    assert len((await client.get(f"{API}/api-keys", headers=alpha.headers)).json()) == 1
    assert len((await client.get(f"{API}/api-keys", headers=beta.headers)).json()) == 1


async def test_a_refusal_is_replayed_too(client: httpx.AsyncClient, register: Register) -> None:
    owner = await register()
    keyed = {**owner.headers, "Idempotency-Key": "invite-myself"}
    first = await client.post(
        f"{API}/invitations", json={"email": owner.email, "role": "staff"}, headers=keyed
    )
    retry = await client.post(
        f"{API}/invitations", json={"email": owner.email, "role": "staff"}, headers=keyed
    )
    assert first.status_code == 409, first.text
    assert retry.status_code == 409 and retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"


def test_openapi_offers_the_header_on_both_operations(tmp_path: Path) -> None:
    document = create_app(Settings(data_dir=tmp_path)).openapi()
    for path in (f"{API}/invitations", f"{API}/api-keys"):
        parameters = document["paths"][path]["post"]["parameters"]
        assert {"name": "Idempotency-Key", "in": "header", "required": False}.items() <= next(
            p for p in parameters if p["name"] == "Idempotency-Key"
        ).items()
        assert "parameters" not in document["paths"][path]["get"] or all(
            p["name"] != "Idempotency-Key" for p in document["paths"][path]["get"]["parameters"]
        )
