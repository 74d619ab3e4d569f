"""Workflows' pages over HTTP against a real Temporal dev server, on SQLite and PostgreSQL: the
approvals inbox (filters, the preview in full, approving with a comment, a refused decision),
runs and a run's steps (cancel), schedules (create, pause, delete), the admin console's queues
with their pollers; and another tenant's run is a 404 page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database
from tests.conftest import client_address
from tests.identity.conftest import Account, Invite, Register, invite, register
from tests.support.waiting import eventually
from tests.web.pages import Person, csrf_of, headings, nav_links, sign_in, super_admin
from tests.workflows.apps import app, database, database_target, prefix
from tests.workflows.test_approvals import ask, row_of, spec

assert invite and register and app and database and database_target and prefix
pytestmark = pytest.mark.slow


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The API client the identity fixtures use to sign people up."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def browser_of(app: FastAPI, who: Account | Person) -> httpx.AsyncClient:
    """A signed-in browser-like client (asks for HTML, keeps cookies)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    browser = httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
    )
    person = who if isinstance(who, Person) else Person(who.email, who.user_id, who.tenant_id)
    signed = await sign_in(browser, person)
    assert signed.status_code == 303, signed.text
    return browser


async def test_a_manager_approves_from_the_inbox_and_a_stranger_is_refused(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register, invite: Invite
) -> None:
    owner = await register("Inbox")
    manager, staff = await invite(owner, "manager"), await invite(owner, "staff")
    preview = {"action": "publish", "price": "12.50 EUR", "lines": ["hero <b>text</b>"]}
    approval_id, handle = await ask(app, prefix, owner.tenant_id, spec(preview=preview))
    await row_of(client, manager, approval_id)

    browser = await browser_of(app, manager)
    inbox = await browser.get("/app/approvals", params={"filter": "my_role"})
    assert inbox.status_code == 200 and headings(inbox.text) == ["Approvals"]
    links = nav_links(inbox.text)
    assert links[links.index("Approvals") :][:3] == ["Approvals", "Runs", "Schedules"]
    assert "Publish the home page" in inbox.text
    # The preview in full, as JSON text: markup in it is escaped, never rendered.
    assert '"price": "12.50 EUR"' in inbox.text
    assert '"hero \\u003cb\\u003etext\\u003c/b\\u003e"' in inbox.text
    assert "<b>text</b>" not in inbox.text
    mine = await browser.get("/app/approvals", params={"filter": "mine"})
    assert "Publish the home page" not in mine.text, "assigned to a role, not to the manager"

    staff_browser = await browser_of(app, staff)
    staff_inbox = await staff_browser.get("/app/approvals")
    refused = await staff_browser.post(
        f"/app/approvals/{approval_id}/decision",
        data={"csrf_token": csrf_of(staff_inbox.text), "verdict": "approve"},
    )
    assert refused.status_code == 303
    page = await staff_browser.get(refused.headers["location"])
    assert "the request is for the role manager" in page.text
    assert "Publish the home page" in page.text, "a refused decision changes nothing"

    decided = await browser.post(
        f"/app/approvals/{approval_id}/decision",
        data={
            "csrf_token": csrf_of(inbox.text),
            "verdict": "approve",
            "comment": "fine by me",
            "back": "/app/approvals?filter=my_role",
        },
    )
    assert decided.status_code == 303
    assert decided.headers["location"] == "/app/approvals?filter=my_role"
    after = await browser.get(decided.headers["location"])
    assert "You approved “Publish the home page”. It is now approved." in after.text
    assert "Publish the home page" not in after.text.split("data-live-region", 1)[1]
    assert (await handle.result()).approved
    closed = await browser.get("/app/approvals", params={"show": "closed"})
    assert "fine by me" in closed.text

    stranger = await register("Stranger")
    outsider = await browser_of(app, stranger)
    assert "Publish the home page" not in (await outsider.get("/app/approvals")).text
    hidden = await outsider.get(f"/app/runs/approval:{approval_id}")
    assert hidden.status_code == 404
    for open_client in (browser, staff_browser, outsider):
        await open_client.aclose()


async def test_runs_schedules_and_the_admin_console(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    identity_context: IdentityContext,
    prefix: str,
    register: Register,
) -> None:
    owner = await register("Pages")
    approval_id, _handle = await ask(app, prefix, owner.tenant_id, spec(sla=timedelta(hours=3)))
    await row_of(client, owner, approval_id)
    browser = await browser_of(app, owner)
    key = f"approval:{approval_id}"
    runs = await eventually(
        lambda: browser.get("/app/runs"), lambda page: key in page.text, what="the run's row"
    )
    assert runs.status_code == 200 and headings(runs.text) == ["Runs"]
    detail = await browser.get(f"/app/runs/{key}")
    assert detail.status_code == 200 and "workflows.approval.open" in detail.text
    assert "Open in Temporal" not in detail.text
    cancelled = await browser.post(
        f"/app/runs/{key}/cancel", data={"csrf_token": csrf_of(detail.text)}
    )
    assert cancelled.status_code == 303
    assert "Cancellation requested." in (await browser.get(f"/app/runs/{key}")).text
    await eventually(
        lambda: browser.get(f"/app/runs/{key}"),
        lambda page: 'data-run-status="cancelled"' in page.text,
        what="the cancelled run's page",
    )

    schedules = await browser.get("/app/schedules")
    assert schedules.status_code == 200 and headings(schedules.text) == ["Schedules"]
    token = csrf_of(schedules.text)
    created = await browser.post(
        "/app/schedules", data={"csrf_token": token, "name": "evening", "at": "18:45"}
    )
    assert created.status_code == 303
    listed = await browser.get("/app/schedules")
    assert "Schedule evening created." in listed.text and "daily at 18:45" in listed.text
    await browser.post("/app/schedules/evening/pause", data={"csrf_token": token})
    paused = await browser.get("/app/schedules")
    assert (
        "Schedule evening paused." in paused.text
        and "/app/schedules/evening/unpause" in paused.text
    )
    await browser.post("/app/schedules/evening/delete", data={"csrf_token": token})
    assert 'data-schedule="evening"' not in (await browser.get("/app/schedules")).text
    bad = await browser.post(
        "/app/schedules", data={"csrf_token": token, "name": "Bad Name", "at": "7"}
    )
    assert bad.status_code == 303
    assert "lower-case letters" in (await browser.get("/app/schedules")).text

    assert (await browser.get("/admin/workflows")).status_code == 403
    await browser.aclose()

    refused = await client.get("/api/brain/workflows/queues", headers=owner.headers)
    assert refused.status_code == 403
    administrator = await super_admin(database, identity_context)
    token = await client.post(
        "/api/brain/auth/login",
        json={"email": administrator.email, "password": administrator.password},
    )
    assert token.status_code == 200, token.text
    queues = await client.get(
        "/api/brain/workflows/queues",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert queues.status_code == 200, queues.text
    assert [q["name"] for q in queues.json()] == [
        f"{prefix}{w}" for w in ("default", "agents", "io")
    ]
    assert all(
        {p["task_type"] for p in q["pollers"]} == {"workflow", "activity"} for q in queues.json()
    )

    root = await browser_of(app, administrator)
    console = await root.get("/admin/workflows")
    assert console.status_code == 200 and headings(console.text) == ["Workflows"]
    assert "serving" in console.text
    for workload in ("default", "agents", "io"):
        row = console.text.split(f'data-queue="{prefix}{workload}"', 1)[1].split("</tr>", 1)[0]
        assert "workflow tasks" in row and "activity tasks" in row, "the worker polls each queue"
    await root.aclose()
