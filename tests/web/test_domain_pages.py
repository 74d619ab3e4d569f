"""A domain's pages through its DomainModule: the example notes module adds a workspace page,
its navigation link and its templates, and the shell shows them to the people its permission
allows."""

from __future__ import annotations

import uuid
from contextlib import aclosing

import httpx
import pytest
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from bizosaas.settings import Settings
from bizosaas.web.navigation import NavigationError
from tests.support.lifespan import app_lifespan
from tests.support.notes.models import Note
from tests.web.pages import Person, headings, invited_member, nav_links, sign_in, tenant_admin


async def write_note(database: Database, person: Person, body: str) -> None:
    assert person.tenant_id is not None
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(person.tenant_id))
        session.add(Note(body=body))


async def test_a_tenant_admin_opens_the_notes_page_and_sees_only_their_tenants_notes(
    client: httpx.AsyncClient,
    database: Database,
    identity_context: IdentityContext,
    unique: str,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    other = await tenant_admin(database, identity_context, unique, name="Globex")
    ours, theirs = f"ours {uuid.uuid4().hex[:8]}", f"theirs {uuid.uuid4().hex[:8]}"
    await write_note(database, owner, ours)
    await write_note(database, other, theirs)
    await sign_in(client, owner)

    dashboard = await client.get("/app")
    assert nav_links(dashboard.text)[:3] == ["Dashboard", "Notes", "Approvals"]
    assert '<p class="sidenav-title">Business</p>' in dashboard.text

    notes = await client.get("/app/notes")
    assert notes.status_code == 200
    assert headings(notes.text) == ["Notes"]
    assert ours in notes.text and theirs not in notes.text
    assert '<a href="/app/notes" aria-current="page">' in notes.text, "in the shell's layout"


async def test_a_member_without_the_permission_has_no_link_and_is_refused(
    app: FastAPI,
    database: Database,
    identity_context: IdentityContext,
    unique: str,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await write_note(database, owner, "not for clients")
    _, browser = await invited_member(app, database, owner, "client")
    async with aclosing(browser):
        assert "Notes" not in nav_links((await browser.get("/app")).text)
        refused = await browser.get("/app/notes")
        assert refused.status_code == 403
        assert "not for clients" not in refused.text


async def test_a_link_to_a_section_the_shell_does_not_have_stops_start_up(
    settings: Settings, database: Database
) -> None:
    misplaced = settings.model_copy(
        update={"extra_modules": [*settings.extra_modules, "tests.web.misplaced_link:module"]}
    )
    application = create_app(misplaced, database=database)
    with pytest.raises(NavigationError, match=r"module 'misplaced' .* section 'sales'"):
        async with app_lifespan(application):
            pass


async def test_the_roles_page_lists_every_modules_permissions_with_the_roles_holding_them(
    client: httpx.AsyncClient,
    database: Database,
    identity_context: IdentityContext,
    unique: str,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    page = await client.get("/app/roles")
    assert page.status_code == 200
    assert "<h2>Identity</h2>" in page.text and "<h2>Notes (test module)</h2>" in page.text
    notes = page.text.split("<h2>Notes (test module)</h2>", 1)[1].split("</table>", 1)[0]
    rows = {
        row.split('<code class="small">', 1)[1].split("</code>", 1)[0]: row.count("Yes")
        for row in notes.split("<tr><td>")[1:]
    }
    # Columns: tenant admin, manager, staff, client. Staff read notes through the module's
    # role grant; the platform's matrix gives managers nothing of a domain it does not name.
    assert rows == {"notes.note:read": 2, "notes.note:write": 1}
