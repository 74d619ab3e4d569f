"""A new owner who has not confirmed their address is told so on the Invitations page, can have
the link sent again, and invites once confirmed."""

from __future__ import annotations

import httpx

from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database
from tests.web.pages import link_in, mailbox, post_form, sign_in, tenant_admin

NOTICE = "Confirm your e-mail address to invite people."


async def test_an_unconfirmed_owner_is_asked_to_confirm_before_inviting(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique, verified=False)
    await sign_in(client, owner)
    page = await client.get("/app/invitations")
    assert page.status_code == 200
    assert NOTICE in page.text and "Send invitation" not in page.text

    invitee = f"invitee-{unique}@example.com"
    refused = await post_form(
        client, "/app/invitations", "/app/invitations", {"email": invitee, "role": "staff"}
    )
    assert refused.status_code == 422 and NOTICE in refused.text
    assert await mailbox(database, invitee) == []

    resent = await post_form(client, "/app/invitations", "/app/security/verify-email", {})
    assert resent.status_code == 303
    newest, first = await mailbox(database, owner.email)
    assert newest.subject == first.subject == "Confirm your e-mail address"
    confirmed = await client.get(link_in(newest, "/auth/verify-email"))
    assert confirmed.status_code == 200 and "is confirmed" in confirmed.text

    page = await client.get("/app/invitations")
    assert NOTICE not in page.text and "Send invitation" in page.text
    sent = await post_form(
        client, "/app/invitations", "/app/invitations", {"email": invitee, "role": "staff"}
    )
    assert sent.status_code == 303, sent.text
    assert len(await mailbox(database, invitee)) == 1
