"""Workspace and account pages over HTTP: members, API keys, sessions, password, e-mail links,
role-based navigation, and the 500 page."""

from __future__ import annotations

import re
from contextlib import aclosing

import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from bizosaas.web.shell import WebRoute
from tests.web.pages import (
    PASSWORD,
    Person,
    headings,
    invited_member,
    link_in,
    mailbox,
    new_client,
    post_form,
    sign_in,
    tenant_admin,
)

NEW_PASSWORD = "a much longer passphrase 2026"


def nav_links(html: str) -> list[str]:
    nav = html.split('<nav class="sidenav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r"<span>([^<]+)</span></a>", nav)


async def test_a_client_sees_only_its_own_pages(
    app: FastAPI, client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    owner = await tenant_admin(database, unique)
    await sign_in(client, owner)
    admin_nav = nav_links((await client.get("/app")).text)
    assert admin_nav == [
        "Dashboard",
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
        assert nav_links((await staff.get("/app")).text) == [
            "Dashboard",
            "Members",
            "Roles",
            "Security",
            "Sessions",
        ]
        members = await staff.get("/app/members")
        assert staff_person.email in members.text and "/remove" not in members.text


async def test_owner_changes_a_role_and_removes_a_member(
    app: FastAPI, client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    owner = await tenant_admin(database, unique)
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


async def test_api_key_is_shown_once_and_can_be_revoked(
    app: FastAPI, client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    owner = await tenant_admin(database, unique)
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


async def test_revoking_another_session_signs_that_browser_out(
    app: FastAPI, client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    owner = await tenant_admin(database, unique)
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
    client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    owner = await tenant_admin(database, unique)
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
    app: FastAPI, database: Database, unique: str
) -> None:
    owner = await tenant_admin(database, unique)
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
    client: httpx.AsyncClient, database: Database, unique: str
) -> None:
    owner = await tenant_admin(database, unique)
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
    async with LifespanManager(application), new_client(application) as browser:
        response = await browser.get("/app/broken-page", headers={"x-request-id": "req-web-500x"})
    assert response.status_code == 500
    assert headings(response.text) == ["Something went wrong on our side"]
    assert "req-web-500x" in response.text and "secret internals" not in response.text
