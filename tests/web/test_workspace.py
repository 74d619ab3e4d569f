"""Workspace and account pages over HTTP: members, invitations, switching workspace, API keys,
sessions, password, e-mail links, role-based navigation, and the 500 page."""

from __future__ import annotations

import re
from contextlib import aclosing

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy import update

from bizosaas.gateway.app import create_app
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.models import ApiKey
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from bizosaas.settings import Settings
from bizosaas.web.shell import WebRoute
from tests.support.lifespan import app_lifespan
from tests.web.pages import (
    PASSWORD,
    Person,
    expire_invitations,
    headings,
    invitation_link,
    invited_member,
    join_workspace,
    link_in,
    mailbox,
    nav_links,
    new_client,
    post_form,
    sign_in,
    stat_value,
    super_admin,
    tenant_admin,
)

NEW_PASSWORD = "a much longer passphrase 2026"


async def test_a_client_sees_only_its_own_pages(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    admin_nav = nav_links((await client.get("/app")).text)
    assert admin_nav == [
        "Dashboard",
        "Products",
        "Inventory",
        "Orders",
        "Discounts",
        "Payments",
        "Channels",
        "Notes",
        "Approvals",
        "Runs",
        "Schedules",
        "Members",
        "Invitations",
        "Roles",
        "API keys",
        "Audit log",
        "Security",
        "Sessions",
    ]
    _, browser = await invited_member(app, database, owner, "client")
    async with aclosing(browser):
        dashboard = await browser.get("/app")
        assert nav_links(dashboard.text) == ["Dashboard", "Security", "Sessions"]
        for path in ("/app/members", "/app/invitations", "/app/api-keys", "/app/audit", "/admin"):
            response = await browser.get(path)
            assert response.status_code == 403, path
        # Forms are checked on the server too, not only hidden.
        forged = await post_form(
            browser, "/app", "/app/invitations", {"email": "x@example.com", "role": "tenant_admin"}
        )
        assert forged.status_code == 403
    staff_person, staff = await invited_member(app, database, owner, "staff")
    async with aclosing(staff):
        # Staff read notes through the example module's role grant, and the store's products
        # and inventory through the platform's commerce.*:read grant.
        assert nav_links((await staff.get("/app")).text) == [
            "Dashboard",
            "Products",
            "Inventory",
            "Orders",
            "Discounts",
            "Payments",
            "Channels",
            "Notes",
            "Approvals",
            "Runs",
            "Members",
            "Roles",
            "Security",
            "Sessions",
        ]
        members = await staff.get("/app/members")
        assert staff_person.email in members.text and "/remove" not in members.text


async def test_owner_changes_a_role_and_removes_a_member(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    staff_person, staff = await invited_member(app, database, owner, "staff")
    await sign_in(client, owner)
    members = await client.get("/app/members")
    user_id = re.search(r"/app/members/([0-9a-f-]+)/role", members.text)
    assert user_id
    changed = await post_form(
        client, "/app/members", f"/app/members/{user_id.group(1)}/role", {"role": "manager"}
    )
    assert changed.status_code == 303
    page = await client.get("/app/members")
    assert f"{staff_person.email} is now Manager" in page.text

    removed = await post_form(client, "/app/members", f"/app/members/{user_id.group(1)}/remove", {})
    assert removed.status_code == 303
    page = await client.get("/app/members")
    assert "was removed" in page.text and staff_person.email not in page.text.split("</h1>")[1]
    async with aclosing(staff):
        gone = await staff.get("/app")
        assert gone.status_code in {303, 403}, "a removed member's session no longer opens it"


def workspace_choices(html: str) -> dict[str, str]:
    """The tenant switcher's options: workspace name -> tenant id."""
    switcher = html.split('action="/switch-tenant"', 1)[1].split("</form>", 1)[0]
    return {
        name: value
        for value, name in re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)<', switcher)
    }


def chosen_workspace(html: str) -> str:
    found = re.search(r"<option value=\"[^\"]+\" selected>([^<]+)<", html)
    assert found, "no workspace is selected in the switcher"
    return found.group(1)


async def test_an_invitation_sent_from_the_workspace_is_mailed_and_listed_until_accepted(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    invitee = f"invitee-{unique}@example.com"
    sent = await post_form(
        client, "/app/invitations", "/app/invitations", {"email": invitee, "role": "manager"}
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/app/invitations"
    listing = await client.get("/app/invitations")
    assert f"Invitation sent to {invitee}." in listing.text
    row = listing.text.split(f"<td>{invitee}</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Manager</td>" in row and "/revoke" in row
    assert stat_value((await client.get("/app")).text, "Pending invitations") == 1

    [message] = await mailbox(database, invitee)
    assert message.subject == "You have been invited to a workspace on BizOSaaS"
    assert f'the workspace "Acme {unique}"' in message.body
    link = link_in(message, "/auth/accept-invitation")
    # The platform's mail sink shows the same message to platform administrators.
    async with new_client(app) as platform:
        await sign_in(platform, await super_admin(database, identity_context))
        sink = await platform.get("/admin/mail")
        assert invitee in sink.text and message.subject in sink.text
        opened = await platform.get(f"/admin/mail/{message.id}")
        assert opened.status_code == 200 and link.replace("&", "&amp;") in opened.text

    async with new_client(app) as invited:
        accepted = await post_form(
            invited,
            link,
            "/auth/accept-invitation",
            {"token": link.split("token=", 1)[1], "full_name": "Mia", "password": PASSWORD},
        )
        assert accepted.status_code == 303 and accepted.headers["location"] == "/app"
    assert invitee not in (await client.get("/app/invitations")).text
    assert stat_value((await client.get("/app")).text, "Pending invitations") == 0
    assert invitee in (await client.get("/app/members")).text


async def test_a_revoked_invitation_leaves_the_list_and_its_link_stops_working(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    invitee = f"revoked-{unique}@example.com"
    await post_form(
        client, "/app/invitations", "/app/invitations", {"email": invitee, "role": "staff"}
    )
    listing = await client.get("/app/invitations")
    revoke = re.search(r'action="(/app/invitations/[0-9a-f-]+/revoke)"', listing.text)
    assert revoke and invitee in listing.text
    link = await invitation_link(database, invitee)

    revoked = await post_form(client, "/app/invitations", revoke.group(1), {})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/app/invitations"
    after = await client.get("/app/invitations")
    assert "The invitation was revoked; its link no longer works." in after.text
    assert invitee not in after.text and revoke.group(1) not in after.text
    assert "No pending invitations" in after.text
    assert stat_value((await client.get("/app")).text, "Pending invitations") == 0
    again = await post_form(client, "/app/invitations", revoke.group(1), {})
    assert again.status_code == 303
    assert "already used or revoked" in (await client.get("/app/invitations")).text

    async with new_client(app) as invited:
        form = await invited.get(link)
        assert form.status_code == 200
        accepted = await post_form(
            invited,
            link,
            "/auth/accept-invitation",
            {"token": link.split("token=", 1)[1], "full_name": "Late", "password": PASSWORD},
        )
        assert accepted.status_code == 410
        assert headings(accepted.text) == ["This invitation cannot be used"]
        assert "bizosaas_session=" not in str(accepted.headers.get_list("set-cookie"))
        assert (await invited.get("/app")).status_code == 303
    members = await client.get("/app/members")
    assert invitee not in members.text


def invitation_groups(html: str) -> tuple[str, str]:
    """The Invitations page's pending group and its expired group ("" when it shows none)."""
    pending = html.split("<h2>Pending invitations</h2>", 1)[1]
    pending, _, expired = pending.partition("<h2>Expired invitations</h2>")
    return pending, expired


async def accept(app: FastAPI, link: str, full_name: str) -> httpx.Response:
    """Accept the invitation behind `link` as a new person, in a browser of their own."""
    async with new_client(app) as invited:
        return await post_form(
            invited,
            link,
            "/auth/accept-invitation",
            {"token": link.split("token=", 1)[1], "full_name": full_name, "password": PASSWORD},
        )


async def test_an_expired_invitation_is_listed_apart_and_can_be_sent_again_or_revoked(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    waiting, lapsed, dropped = (
        f"{name}-{unique}@example.com" for name in ("waiting", "lapsed", "dropped")
    )
    for email, role in ((waiting, "manager"), (lapsed, "staff"), (dropped, "client")):
        sent = await post_form(
            client, "/app/invitations", "/app/invitations", {"email": email, "role": role}
        )
        assert sent.status_code == 303
    old_link = await invitation_link(database, lapsed)
    await expire_invitations(database, owner, lapsed)
    await expire_invitations(database, owner, dropped)

    pending, expired = invitation_groups((await client.get("/app/invitations")).text)
    assert waiting in pending and lapsed not in pending and dropped not in pending
    assert lapsed in expired and dropped in expired and waiting not in expired
    row = expired.split(f"<td>{lapsed} ", 1)[1].split("</tr>", 1)[0]
    assert "Expired" in row and "<td>Staff</td>" in row
    assert "/resend" in row and "/revoke" in row
    assert stat_value((await client.get("/app")).text, "Pending invitations") == 1
    assert (await accept(app, old_link, "Too Late")).status_code == 410

    resend = re.search(r'action="(/app/invitations/[0-9a-f-]+/resend)"', row)
    assert resend
    resent = await post_form(client, "/app/invitations", resend.group(1), {})
    assert resent.status_code == 303 and resent.headers["location"] == "/app/invitations"
    listing = await client.get("/app/invitations")
    assert f"A new invitation was sent to {lapsed}." in listing.text
    pending, expired = invitation_groups(listing.text)
    assert lapsed in pending and lapsed not in expired and resend.group(1) not in listing.text
    row = pending.split(f"<td>{lapsed}</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Staff</td>" in row and "Expired" not in row
    assert stat_value((await client.get("/app")).text, "Pending invitations") == 2
    new_link = await invitation_link(database, lapsed)
    assert new_link != old_link and len(await mailbox(database, lapsed)) == 2

    again = await post_form(client, "/app/invitations", resend.group(1), {})
    assert again.status_code == 303
    assert (
        "Only an expired, unanswered invitation can be sent again."
        in (await client.get("/app/invitations")).text
    )
    assert len(await mailbox(database, lapsed)) == 2

    revoke = re.search(r'action="(/app/invitations/[0-9a-f-]+/revoke)"', expired)
    assert revoke
    revoked = await post_form(client, "/app/invitations", revoke.group(1), {})
    assert revoked.status_code == 303
    after = await client.get("/app/invitations")
    assert "The invitation was revoked; its link no longer works." in after.text
    assert dropped not in after.text and "<h2>Expired invitations</h2>" not in after.text
    assert len(await mailbox(database, dropped)) == 1
    assert stat_value((await client.get("/app")).text, "Pending invitations") == 2

    assert (await accept(app, old_link, "Too Late")).status_code == 410
    joined = await accept(app, new_link, "Lapsed")
    assert joined.status_code == 303 and joined.headers["location"] == "/app"
    assert lapsed in (await client.get("/app/members")).text
    assert stat_value((await client.get("/app")).text, "Pending invitations") == 1


async def test_a_member_of_two_workspaces_switches_between_them(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    person = await tenant_admin(database, identity_context, unique, name="First")
    other_owner = await tenant_admin(database, identity_context, unique, name="Second")
    await sign_in(client, person)
    await join_workspace(app, database, person, client, other_owner)
    joined = await client.get("/app")
    assert chosen_workspace(joined.text) == f"Second {unique}"
    assert f"Second {unique} workspace" in joined.text
    choices = workspace_choices(joined.text)
    assert set(choices) == {f"First {unique}", f"Second {unique}"}

    old_cookie = client.cookies["bizosaas_session"]
    switched = await post_form(
        client,
        "/app/members",
        "/switch-tenant",
        {"tenant_id": choices[f"First {unique}"], "next": "/app/members"},
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/app/members"
    members = await client.get("/app/members")
    assert f"You are now working in First {unique}." in members.text
    assert chosen_workspace(members.text) == f"First {unique}"
    assert f"Everyone with access to First {unique}." in members.text
    assert other_owner.email not in members.text
    assert person.email in members.text

    # The switch ended the session of the other workspace: its cookie opens nothing now.
    async with new_client(app) as replay:
        replay.cookies.set("bizosaas_session", old_cookie)
        assert (await replay.get("/app")).status_code == 303


async def test_api_key_is_shown_once_and_can_be_revoked(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    empty_name = await post_form(client, "/app/api-keys", "/app/api-keys", {"access": "read"})
    assert empty_name.status_code == 422 and 'id="f-name-error"' in empty_name.text
    created = await post_form(
        client, "/app/api-keys", "/app/api-keys", {"name": "Accounting export", "access": "read"}
    )
    assert created.status_code == 200
    secret = re.search(r'id="new-api-key">([^<]+)<', created.text)
    assert secret and secret.group(1).startswith("bzk_")
    listing = await client.get("/app/api-keys")
    assert "Accounting export" in listing.text and secret.group(1) not in listing.text

    # The key works for programs (it reads, it may not write) ...
    async with new_client(app) as program:
        headers = {"accept": "application/json", "x-api-key": secret.group(1)}
        members = await program.get("/api/brain/auth/members", headers=headers)
        assert members.status_code == 200 and owner.email in members.text
    key_id = re.search(r"/app/api-keys/([0-9a-f-]+)/revoke", listing.text)
    assert key_id
    revoked = await post_form(
        client, "/app/api-keys", f"/app/api-keys/{key_id.group(1)}/revoke", {}
    )
    assert revoked.status_code == 303
    assert "Revoked" in (await client.get("/app/api-keys")).text
    # ... until it is revoked.
    async with new_client(app) as program:
        refused = await program.get("/api/brain/auth/members", headers=headers)
        assert refused.status_code == 401


async def test_an_api_key_past_its_expiry_shows_expired_and_is_not_counted_active(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    for name in ("Nightly import", "Year end"):
        created = await post_form(
            client, "/app/api-keys", "/app/api-keys", {"name": name, "access": "read"}
        )
        assert created.status_code == 200
    assert stat_value((await client.get("/app")).text, "Active API keys") == 2
    assert owner.tenant_id
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        await session.execute(
            update(ApiKey).where(ApiKey.name == "Year end").values(expires_at=utcnow())
        )
    listing = (await client.get("/app/api-keys")).text
    rows = {
        name: row
        for row in re.findall(r"<tr>(.*?)</tr>", listing, flags=re.S)
        for name in ("Nightly import", "Year end")
        if f"<td>{name}</td>" in row
    }
    assert "Expired" in rows["Year end"] and "Active" not in rows["Year end"]
    assert "Active" in rows["Nightly import"]
    assert "/revoke" in rows["Year end"], "an expired key can still be revoked to clear it"
    assert stat_value((await client.get("/app")).text, "Active API keys") == 1


async def test_revoking_another_session_signs_that_browser_out(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    async with new_client(app) as laptop:
        await sign_in(laptop, owner)
        assert (await laptop.get("/app")).status_code == 200
        sessions = await client.get("/app/sessions")
        assert "this browser" in sessions.text
        ids = re.findall(r"/app/sessions/([0-9a-f-]+)/revoke", sessions.text)
        assert len(ids) == 2
        other = ids[1]  # the current session is listed first
        await post_form(client, "/app/sessions", f"/app/sessions/{other}/revoke", {})
        locked_out = await laptop.get("/app")
        assert locked_out.status_code == 303 and locked_out.headers["location"].startswith("/login")
    assert (await client.get("/app")).status_code == 200


async def test_password_change_shows_errors_by_the_field(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    wrong = await post_form(
        client,
        "/app/security",
        "/app/security/password",
        {
            "current_password": "not it at all",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422
    assert 'id="f-current_password-error"' in wrong.text and NEW_PASSWORD not in wrong.text
    mismatch = await post_form(
        client,
        "/app/security",
        "/app/security/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": "x"},
    )
    assert 'id="f-new_password_confirm-error"' in mismatch.text
    weak = await post_form(
        client,
        "/app/security",
        "/app/security/password",
        {"current_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"},
    )
    assert weak.status_code == 422 and 'id="f-new_password-error"' in weak.text
    done = await post_form(
        client,
        "/app/security",
        "/app/security/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert done.status_code == 303
    assert "Your password has been changed" in (await client.get("/app/security")).text


async def test_password_reset_through_the_mailed_link(
    app: FastAPI,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    async with new_client(app) as browser:
        asked = await post_form(
            browser, "/auth/forgot-password", "/auth/forgot-password", {"email": owner.email}
        )
        assert asked.status_code == 200 and "Check your e-mail" in asked.text
        unknown = await post_form(
            browser,
            "/auth/forgot-password",
            "/auth/forgot-password",
            {"email": f"nobody-{unique}@example.com"},
        )
        assert unknown.text.count("we have sent it a link") == 1, "same answer for anyone"
        link = link_in((await mailbox(database, owner.email))[0], "/auth/reset-password")
        token = link.split("token=", 1)[1]
        weak = await post_form(
            browser,
            link,
            "/auth/reset-password",
            {"token": token, "password": "short", "password_confirm": "short"},
        )
        assert weak.status_code == 422 and 'id="f-password-error"' in weak.text
        reset = await post_form(
            browser,
            link,
            "/auth/reset-password",
            {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        )
        assert reset.status_code == 303 and reset.headers["location"] == "/login"
        again = await post_form(
            browser,
            link,
            "/auth/reset-password",
            {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        )
        assert again.status_code == 422 and "expired or was already used" in again.text
        signed_in = await sign_in(browser, Person(owner.email, None, None, NEW_PASSWORD))
        assert signed_in.status_code == 303


async def test_email_verification_link(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique, verified=False)
    await sign_in(client, owner)
    assert "Not verified" in (await client.get("/app/security")).text
    link = link_in((await mailbox(database, owner.email))[0], "/auth/verify-email")
    confirmed = await client.get(link)
    assert confirmed.status_code == 200 and "Your e-mail address is confirmed" in confirmed.text
    reused = await client.get(link)
    assert reused.status_code == 400 and "does not work any more" in reused.text


async def test_an_unexpected_page_error_shows_the_500_page(
    settings: Settings, database: Database
) -> None:
    broken = APIRouter(route_class=WebRoute)

    @broken.get("/app/broken-page")
    async def broken_page() -> None:
        raise RuntimeError("secret internals")

    application = create_app(settings, database=database)
    application.include_router(broken)
    async with app_lifespan(application), new_client(application) as browser:
        response = await browser.get("/app/broken-page", headers={"x-request-id": "req-web-500x"})
    assert response.status_code == 500
    assert headings(response.text) == ["Something went wrong on our side"]
    assert "req-web-500x" in response.text and "secret internals" not in response.text
