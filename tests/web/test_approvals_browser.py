"""The approvals inbox in a real browser against a real `bizosaas up` (with its Temporal dev
server and in-process worker): a manager of the demo tenant sees a request arrive, approves it
from the inbox, sees it leave the list without the page reloading, and sees its run finish on
the run's page, also without a reload (both through the tenant's realtime channels)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from temporalio.client import Client

from bizosaas.workflows.approvals import ApprovalWorkflow
from bizosaas.workflows.queues import Workload, queue_name
from bizosaas.workflows.runtime import connect
from bizosaas.workflows.schemas import ApprovalRequestInput, ApprovalSpec, Requester, Subject
from bizosaas.workflows.service import approval_workflow_id
from tests.web.browser import Server, Visitor
from tests.web.conftest import run_apart
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
UNRELOADED = "window.__stillTheSamePage"


def tenant_of(server: Server, login: str, password: str) -> uuid.UUID:
    with httpx.Client(base_url=server.url) as api:
        token = api.post("/api/brain/auth/login", json={"email": login, "password": password})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        me = api.get("/api/brain/auth/me", headers=headers)
        return uuid.UUID(me.json()["tenant"]["id"])


def temporal_address(server: Server, visitor: Visitor) -> str:
    """Where `up`'s dev server listens, as the admin console's Workflows page shows it to a
    platform administrator (with the worker polling each of the platform's queues)."""
    sign_in(visitor, *server.login_for("super admin"))
    page = visitor.open("/admin/workflows")
    expect(page.get_by_role("heading", name="Workflows", level=1)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("serving")
    for queue in ("default", "agents", "io"):
        expect(page.locator(f'[data-queue="{queue}"]')).to_contain_text("activity tasks")
    return page.locator(".facts dd code").first.inner_text().strip()


async def ask_manager(address: str, tenant_id: uuid.UUID, title: str) -> uuid.UUID:
    """What any workflow of the platform does through `require_approval`: start the request's
    workflow (`up` uses no queue prefix)."""
    client: Client = await connect(address, "default")
    approval_id = uuid.uuid4()
    await client.start_workflow(
        ApprovalWorkflow.run,
        ApprovalRequestInput(
            tenant_id=tenant_id,
            approval_id=approval_id,
            spec=ApprovalSpec(
                subject=Subject(kind="commerce.price", id="beans-1kg", title=title),
                preview={"product": "House beans 1 kg", "price": {"from": "18.00", "to": "21.50"}},
                requested_by=Requester(kind="agent_run", id="pricing-42"),
                assignee_role="manager",
                sla=timedelta(hours=1),
            ),
        ),
        id=approval_workflow_id(tenant_id, approval_id),
        task_queue=queue_name("", Workload.default),
    )
    return approval_id


def mark(page: Page) -> None:
    page.evaluate(f"{UNRELOADED} = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate(f"{UNRELOADED} === true"))


def test_a_manager_approves_from_the_inbox_and_sees_the_run_finish(
    server: Server, visitor_factory: Callable[[], Visitor]
) -> None:
    address = temporal_address(server, visitor_factory())
    visitor = visitor_factory()
    login, password = server.login_for("Acme manager")
    tenant_id = tenant_of(server, login, password)
    sign_in(visitor, login, password)
    inbox = visitor.open("/app/approvals?filter=my_role")
    expect(inbox.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
    mark(inbox)

    title = f"Raise the price of house beans {uuid.uuid4().hex[:6]}"
    approval_id = run_apart(ask_manager(address, tenant_id, title))
    card = inbox.locator(f'[data-approval="{approval_id}"]')
    expect(card).to_be_visible(timeout=20_000)  # arrived live, over the WebSocket
    expect(card.locator("pre.preview")).to_contain_text('"to": "21.50"')
    assert not_reloaded(inbox)

    run_page = visitor.new_tab()
    run_page.goto(f"{server.url}/app/runs/approval:{approval_id}")
    expect(run_page.locator("[data-run-status]")).to_have_attribute("data-run-status", "running")
    mark(run_page)

    card.get_by_label("Comment").fill("Costs went up; agreed.")
    card.get_by_role("button", name="Approve").click()
    expect(inbox.get_by_role("status").first).to_contain_text(f"You approved “{title}”")
    expect(card).to_have_count(0)
    assert not_reloaded(inbox), "the request left the list without a reload"
    visitor.screenshot("approvals-inbox")

    expect(run_page.locator("[data-run-status]")).to_have_attribute(
        "data-run-status", "completed", timeout=20_000
    )
    assert not_reloaded(run_page), "the run's page followed the run without a reload"
    expect(
        run_page.get_by_role("cell", name=re.compile("workflows.approval.record_decision"))
    ).to_be_visible()
    closed = visitor.open("/app/approvals?show=closed")
    expect(closed.locator(f'[data-approval="{approval_id}"]')).to_contain_text(
        "Costs went up; agreed."
    )
