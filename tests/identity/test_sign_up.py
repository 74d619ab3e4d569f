"""Sign-up tells nobody which addresses have accounts, and a new tenant sends no mail until its
owner has confirmed their address."""

from __future__ import annotations

import httpx
import pytest

from bizosaas.kit.db import Database
from tests.identity.conftest import API, PASSWORD, Register, bearer, login, mailbox, token_in


def sign_up(email: str, **changes: str) -> dict[str, str]:
    return {
        "email": email,
        "password": PASSWORD,
        "full_name": "Someone",
        "tenant_name": "Copycat",
        **changes,
    }


async def test_a_taken_address_gets_the_same_answer_and_a_mail_to_its_owner(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    account = await register()
    fresh = await client.post(f"{API}/register", json=sign_up(f"fresh-{unique}@example.com"))
    taken = await client.post(
        f"{API}/register",
        json=sign_up(account.email.upper(), password="another long passphrase"),
    )
    assert taken.status_code == fresh.status_code == 202
    assert taken.content == fresh.content
    assert taken.headers["content-type"] == fresh.headers["content-type"]

    newest = (await mailbox(database, account.email))[0]
    assert newest.subject == "Someone tried to sign up with your e-mail address"
    assert "nothing was created or changed" in newest.body
    assert "token=" not in newest.body  # nothing in it lets anyone in
    # Nothing changed: the owner's password still works, the other one does not, and the
    # owner still belongs to one tenant only.
    assert (await login(client, account.email, "another long passphrase")).status_code == 401
    tokens = (await login(client, account.email)).json()
    me = (await client.get(f"{API}/me", headers=bearer(tokens["access_token"]))).json()
    assert [m["tenant"]["id"] for m in me["memberships"]] == [str(account.tenant_id)]


async def test_weak_password_is_refused_alike_for_new_and_taken_addresses(
    client: httpx.AsyncClient, register: Register, unique: str
) -> None:
    account = await register()
    answers = [
        await client.post(f"{API}/register", json=sign_up(email, password="short"))
        for email in (account.email, f"new-{unique}@example.com")
    ]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].json()["code"] == answers[1].json()["code"] == "identity.weak_password"


async def test_a_new_owner_confirms_the_address_then_signs_in(
    client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    email = f"new-owner-{unique}@example.com"
    answer = await client.post(f"{API}/register", json=sign_up(email, tenant_name=f"T {unique}"))
    assert answer.status_code == 202
    assert "Check your mailbox" in answer.json()["detail"]
    assert "tokens" not in answer.json() and "user" not in answer.json()

    (message,) = await mailbox(database, email)
    assert message.subject == "Confirm your e-mail address"
    confirmed = await client.get(f"/auth/verify-email?token={token_in(message)}")
    assert confirmed.status_code == 200 and "is confirmed" in confirmed.text
    tokens = await login(client, email)
    assert tokens.status_code == 200, tokens.text
    me = (await client.get(f"{API}/me", headers=bearer(tokens.json()["access_token"]))).json()
    assert me["user"]["email_verified_at"] is not None
    assert me["roles"] == ["tenant_admin"] and me["tenant"]["name"] == f"T {unique}"


async def test_reset_request_answers_alike_for_known_and_unknown_addresses(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    account = await register()
    known = await client.post(f"{API}/password/reset/request", json={"email": account.email})
    unknown = await client.post(
        f"{API}/password/reset/request", json={"email": f"nobody-{unique}@example.com"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert any("Reset" in m.subject for m in await mailbox(database, account.email))
    assert await mailbox(database, f"nobody-{unique}@example.com") == []


async def test_an_unverified_owner_cannot_invite_until_confirmed(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner = await register(verified=False)
    invitee = f"invitee-{unique}@example.com"
    refused = await client.post(
        f"{API}/invitations", json={"email": invitee, "role": "staff"}, headers=owner.headers
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "identity.email_unverified"
    listed = await client.get(f"{API}/invitations", headers=owner.headers)
    assert listed.json() == []
    assert await mailbox(database, invitee) == []

    (confirmation,) = await mailbox(database, owner.email)
    confirmed = await client.post(
        f"{API}/email/verify/confirm", json={"token": token_in(confirmation)}
    )
    assert confirmed.status_code == 204
    sent = await client.post(
        f"{API}/invitations", json={"email": invitee, "role": "staff"}, headers=owner.headers
    )
    assert sent.status_code == 201, sent.text
    assert len(await mailbox(database, invitee)) == 1


@pytest.mark.parametrize(
    "name",
    ["x" * 81, "  x  ", "Line\u2028break"],
    ids=["too-long", "too-short", "separator"],
)
async def test_tenant_names_are_short_plain_lines(
    client: httpx.AsyncClient, unique: str, name: str
) -> None:
    answer = await client.post(
        f"{API}/register", json=sign_up(f"named-{unique}@example.com", tenant_name=name)
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_eighty_characters_is_a_valid_tenant_name(
    client: httpx.AsyncClient, unique: str
) -> None:
    answer = await client.post(
        f"{API}/register", json=sign_up(f"long-{unique}@example.com", tenant_name="y" * 80)
    )
    assert answer.status_code == 202, answer.text


async def test_invitation_mail_never_links_the_tenant_name(
    client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    email = f"phish-{unique}@example.com"
    name = "URGENT: verify your bank account at https://bank.example.net/login"
    assert (await client.post(f"{API}/register", json=sign_up(email, tenant_name=name))).is_success
    (confirmation,) = await mailbox(database, email)
    await client.post(f"{API}/email/verify/confirm", json={"token": token_in(confirmation)})
    owner = (await login(client, email)).json()["access_token"]
    invitee = f"target-{unique}@example.com"
    sent = await client.post(
        f"{API}/invitations", json={"email": invitee, "role": "staff"}, headers=bearer(owner)
    )
    assert sent.status_code == 201, sent.text

    (invitation,) = await mailbox(database, invitee)
    assert invitation.subject == "You have been invited to a workspace on BizOSaaS"
    assert "bank" not in invitation.subject
    assert "https://bank" not in invitation.body and "bank.example" not in invitation.body
    assert "https[:]//bank[.]example[.]net/login" in invitation.body
