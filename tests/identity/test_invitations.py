"""Joining a tenant is by invitation only."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from bizosaas.identity.models import Invitation
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.identity.conftest import (
    API,
    PASSWORD,
    Invite,
    Register,
    bearer,
    login,
    mailbox,
    token_in,
)


async def test_invitation_creates_account_and_membership(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner = await register()
    email = f"New.Person-{unique}@Example.com"
    sent = await client.post(
        f"{API}/invitations", json={"email": email, "role": "manager"}, headers=owner.headers
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["email"] == email.lower() and sent.json()["status"] == "pending"
    assert "token" not in sent.json()

    messages = await mailbox(database, email)
    assert len(messages) == 1 and "invited to join" in messages[0].body
    token = token_in(messages[0])

    missing_password = await client.post(f"{API}/invitations/accept", json={"token": token})
    assert missing_password.status_code == 422

    accepted = await client.post(
        f"{API}/invitations/accept",
        json={"token": token, "password": PASSWORD, "full_name": "New Person"},
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["created_user"] is True and body["role"] == "manager"
    assert body["user"]["email_verified_at"] is not None  # the link proved the address

    tokens = await login(client, email)
    me = (await client.get(f"{API}/me", headers=bearer(tokens.json()["access_token"]))).json()
    assert me["tenant"]["id"] == str(owner.tenant_id)
    assert me["roles"] == ["manager"]

    again = await client.post(
        f"{API}/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert again.status_code == 410
    assert again.json()["code"] == "identity.invitation_invalid"
    listed = (await client.get(f"{API}/invitations", headers=owner.headers)).json()
    assert [i["status"] for i in listed] == ["accepted"]


async def test_existing_user_joins_a_second_tenant(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    first = await register("First")
    second = await register("Second")
    sent = await client.post(
        f"{API}/invitations", json={"email": first.email, "role": "staff"}, headers=second.headers
    )
    assert sent.status_code == 201
    messages = await mailbox(database, first.email)
    token = token_in(next(m for m in messages if "invited" in m.subject))
    accepted = await client.post(f"{API}/invitations/accept", json={"token": token})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["created_user"] is False

    me = (await client.get(f"{API}/me", headers=first.headers)).json()
    assert {m["tenant"]["slug"] for m in me["memberships"]} == {
        first.tenant_slug,
        second.tenant_slug,
    }
    duplicate = await client.post(
        f"{API}/invitations", json={"email": first.email, "role": "staff"}, headers=second.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "identity.already_member"


async def test_revoked_and_expired_invitations_do_not_work(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner = await register()
    revoked_email = f"revoked-{unique}@example.com"
    sent = await client.post(
        f"{API}/invitations", json={"email": revoked_email, "role": "staff"}, headers=owner.headers
    )
    invitation_id = sent.json()["id"]
    token = token_in((await mailbox(database, revoked_email))[0])
    revoke = await client.delete(f"{API}/invitations/{invitation_id}", headers=owner.headers)
    assert revoke.status_code == 204
    refused = await client.post(
        f"{API}/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert refused.status_code == 410

    expired_email = f"expired-{unique}@example.com"
    await client.post(
        f"{API}/invitations", json={"email": expired_email, "role": "staff"}, headers=owner.headers
    )
    token = token_in((await mailbox(database, expired_email))[0])
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        await session.execute(
            update(Invitation)
            .where(Invitation.email == expired_email)
            .values(expires_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    refused = await client.post(
        f"{API}/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert refused.status_code == 410

    forged = await client.post(
        f"{API}/invitations/accept",
        json={"token": f"bzi_{owner.tenant_id.hex}_{'x' * 32}", "password": PASSWORD},
    )
    assert forged.status_code == 410

    listed = (await client.get(f"{API}/invitations", headers=owner.headers)).json()
    assert {i["email"]: i["status"] for i in listed} == {
        revoked_email: "revoked",
        expired_email: "expired",
    }
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        assert len((await session.scalars(select(Invitation))).all()) == 2


async def test_only_admins_invite(
    client: httpx.AsyncClient, register: Register, invite: Invite, unique: str
) -> None:
    owner = await register()
    manager = await invite(owner, "manager")
    refused = await client.post(
        f"{API}/invitations",
        json={"email": f"x-{unique}@example.com", "role": "tenant_admin"},
        headers=manager.headers,
    )
    assert refused.status_code == 403
    listed = await client.get(f"{API}/invitations", headers=manager.headers)
    assert listed.status_code == 200  # managers may see who is invited


async def test_a_new_invitation_replaces_the_pending_one_and_the_audit_log_says_so(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner = await register()
    email = f"again-{unique}@example.com"
    first = await client.post(
        f"{API}/invitations", json={"email": email, "role": "staff"}, headers=owner.headers
    )
    first_token = token_in((await mailbox(database, email))[0])
    second = await client.post(
        f"{API}/invitations", json={"email": email, "role": "manager"}, headers=owner.headers
    )
    assert first.status_code == second.status_code == 201
    refused = await client.post(
        f"{API}/invitations/accept", json={"token": first_token, "password": PASSWORD}
    )
    assert refused.status_code == 410, "the replaced invitation no longer works"

    events = (await client.get(f"{API}/audit", headers=owner.headers)).json()
    revoked = [e for e in events if e["action"] == "invitation.revoked"]
    assert [(e["target"], e["details"]) for e in revoked] == [
        (first.json()["id"], {"email": email, "replaced_by": second.json()["id"]})
    ]
    assert revoked[0]["actor_id"] == str(owner.user_id)
    listed = (await client.get(f"{API}/invitations", headers=owner.headers)).json()
    assert {i["id"]: i["status"] for i in listed} == {
        first.json()["id"]: "revoked",
        second.json()["id"]: "pending",
    }
