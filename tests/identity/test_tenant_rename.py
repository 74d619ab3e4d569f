"""A tenant admin renames their tenant under the rules sign-up applies; nobody else can."""

from __future__ import annotations

import httpx
import pytest

from bizosaas.kit.db import Database
from tests.identity.conftest import API, Invite, Register, mailbox


async def test_a_tenant_admin_renames_the_tenant_and_it_is_audited(
    client: httpx.AsyncClient, register: Register, unique: str
) -> None:
    owner = await register()
    renamed = await client.patch(
        f"{API}/tenant", json={"name": f"  Renamed {unique}  "}, headers=owner.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == f"Renamed {unique}"
    assert renamed.json()["slug"] == owner.tenant_slug  # addresses stay
    me = (await client.get(f"{API}/me", headers=owner.headers)).json()
    assert me["tenant"]["name"] == f"Renamed {unique}"
    audit = await client.get(
        f"{API}/audit", params={"action": "tenant.renamed"}, headers=owner.headers
    )
    (entry,) = audit.json()
    assert entry["details"]["to"] == f"Renamed {unique}"


@pytest.mark.parametrize(
    "name",
    ["x", "y" * 81, "Two\nlines", "Nul\x00byte", "Line\u2028break"],
    ids=["too-short", "too-long", "newline", "nul", "separator"],
)
async def test_a_new_name_follows_the_sign_up_rules(
    client: httpx.AsyncClient, register: Register, name: str
) -> None:
    owner = await register()
    refused = await client.patch(f"{API}/tenant", json={"name": name}, headers=owner.headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    me = (await client.get(f"{API}/me", headers=owner.headers)).json()
    assert me["tenant"]["name"].startswith("Acme")  # unchanged


async def test_a_spaced_out_short_name_is_refused_with_the_tenant_name_code(
    client: httpx.AsyncClient, register: Register
) -> None:
    owner = await register()
    refused = await client.patch(f"{API}/tenant", json={"name": "  x  "}, headers=owner.headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "identity.invalid_tenant_name"


async def test_only_a_tenant_admin_may_rename(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register()
    manager = await invite(owner, "manager")
    refused = await client.patch(
        f"{API}/tenant", json={"name": "Taken Over"}, headers=manager.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.forbidden"
    me = (await client.get(f"{API}/me", headers=owner.headers)).json()
    assert me["tenant"]["name"] != "Taken Over"


async def test_a_renamed_tenant_is_quoted_defanged_in_mail(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner = await register()
    name = "URGENT: verify your bank account at https://bank.example.net/login"
    renamed = await client.patch(f"{API}/tenant", json={"name": name}, headers=owner.headers)
    assert renamed.status_code == 200, renamed.text
    invitee = f"target-{unique}@example.com"
    sent = await client.post(
        f"{API}/invitations", json={"email": invitee, "role": "staff"}, headers=owner.headers
    )
    assert sent.status_code == 201, sent.text
    (invitation,) = await mailbox(database, invitee)
    assert "bank" not in invitation.subject
    assert "https://bank" not in invitation.body and "bank.example" not in invitation.body
    assert "https[:]//bank[.]example[.]net/login" in invitation.body
