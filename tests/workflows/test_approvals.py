"""Approvals on a real Temporal dev server, on SQLite and PostgreSQL (as the non-owner role):
people decide through the API, the approval workflow decides what counts, the request row
follows it, and every decision is in the tenant's audit log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle

from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.settings import Settings
from bizosaas.workflows.approvals import ApprovalWorkflow
from bizosaas.workflows.devserver import TemporalDevServer
from bizosaas.workflows.publishing import ReviewAndPublish, ReviewAndPublishInput
from bizosaas.workflows.queues import Workload, queue_name
from bizosaas.workflows.schemas import (
    ApprovalOutcome,
    ApprovalRequestInput,
    ApprovalSpec,
    ApprovalStatus,
    ExpiryAction,
    Requester,
    Subject,
)
from bizosaas.workflows.service import approval_workflow_id
from tests.conftest import client_address, own_database
from tests.identity.conftest import Account, Invite, Register, invite, register
from tests.support.backends import DatabaseTarget
from tests.support.notes.models import Note
from tests.support.waiting import eventually
from tests.workflows.support import app_with_worker, queue_prefix

assert invite and register  # fixtures, used by name
API = "/api/brain/approvals"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def database_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseTarget]:
    async with own_database(request.param, tmp_path_factory.mktemp("approvals")) as target:
        yield target


@pytest.fixture
async def database(database_target: DatabaseTarget) -> AsyncIterator[Database]:
    committed = Database.from_url(database_target.app_url)
    yield committed
    await committed.dispose()


@pytest.fixture
def prefix() -> str:
    return queue_prefix()


@pytest.fixture
async def app(
    settings: Settings, database: Database, temporal: TemporalDevServer, prefix: str
) -> AsyncIterator[FastAPI]:
    async with app_with_worker(settings, database, temporal, prefix) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def spec(**overrides: Any) -> ApprovalSpec:
    values: dict[str, Any] = {
        "subject": Subject(kind="cms.page", id="home", title="Publish the home page"),
        "preview": {"action": "publish", "title": "Home", "changes": ["hero text"]},
        "requested_by": Requester(kind="agent_run", id="run-1"),
        "assignee_role": "manager",
        "sla": timedelta(hours=1),
    }
    return ApprovalSpec(**{**values, **overrides})


async def ask(
    app: FastAPI, prefix: str, tenant_id: uuid.UUID, request: ApprovalSpec
) -> tuple[uuid.UUID, WorkflowHandle[Any, ApprovalOutcome]]:
    """Start an approval as a workflow of the platform would, and wait for its row."""
    temporal: Client = app.state.temporal
    approval_id = uuid.uuid4()
    handle = await temporal.start_workflow(
        ApprovalWorkflow.run,
        ApprovalRequestInput(tenant_id=tenant_id, approval_id=approval_id, spec=request),
        id=approval_workflow_id(tenant_id, approval_id),
        task_queue=queue_name(prefix, Workload.default),
        execution_timeout=timedelta(minutes=5),
    )
    return approval_id, handle


async def row_of(client: httpx.AsyncClient, who: Account, approval_id: uuid.UUID) -> Any:
    return await eventually(
        lambda: client.get(f"{API}/{approval_id}", headers=who.headers),
        lambda response: response.status_code == 200,
        what="the request's row",
    )


async def decide(
    client: httpx.AsyncClient, who: Account, approval_id: uuid.UUID, verdict: str, comment: str = ""
) -> httpx.Response:
    return await client.post(
        f"{API}/{approval_id}/decision",
        json={"verdict": verdict, "comment": comment},
        headers=who.headers,
    )


async def audit_actions(client: httpx.AsyncClient, owner: Account, approval_id: uuid.UUID) -> list:
    response = await client.get("/api/brain/auth/audit", headers=owner.headers)
    assert response.status_code == 200, response.text
    return [
        (event["action"], event["actor_id"])
        for event in reversed(response.json())
        if event["target"] == f"approval:{approval_id}"
    ]


async def test_two_managers_approve_and_the_workflow_goes_on(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register, invite: Invite
) -> None:
    owner = await register()
    first, second = await invite(owner, "manager"), await invite(owner, "manager")
    approval_id, handle = await ask(app, prefix, owner.tenant_id, spec(min_approvers=2))
    opened = (await row_of(client, first, approval_id)).json()
    assert opened["status"] == "pending" and opened["preview"]["changes"] == ["hero text"]

    one = await decide(client, first, approval_id, "approve", "looks right")
    assert one.status_code == 200, one.text
    assert one.json()["status"] == "pending", "two approvers are needed"
    again = await decide(client, first, approval_id, "approve")
    assert again.status_code == 409 and again.json()["code"] == "approvals.already_decided"
    two = await decide(client, second, approval_id, "approve")
    assert two.status_code == 200, two.text

    outcome = await handle.result()
    assert outcome.status is ApprovalStatus.approved and outcome.approved
    assert [d.user_id for d in outcome.decisions] == [first.user_id, second.user_id]
    row = two.json()
    assert row["status"] == "approved" and row["closed_at"]
    assert [(d["user_id"], d["verdict"], d["comment"]) for d in row["decisions"]] == [
        (str(first.user_id), "approve", "looks right"),
        (str(second.user_id), "approve", ""),
    ]
    assert await audit_actions(client, owner, approval_id) == [
        ("approval.approved", str(first.user_id)),
        ("approval.approved", str(second.user_id)),
    ]
    late = await decide(client, owner, approval_id, "reject")
    assert late.status_code == 409 and late.json()["code"] == "approvals.closed"


async def test_one_rejection_closes_the_request(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register, invite: Invite
) -> None:
    owner = await register()
    staff = await invite(owner, "staff")
    approval_id, handle = await ask(
        app, prefix, owner.tenant_id, spec(assignee_role="staff", min_approvers=3)
    )
    await row_of(client, staff, approval_id)
    response = await decide(client, staff, approval_id, "reject", "wrong price")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    outcome = await handle.result()
    assert outcome.status is ApprovalStatus.rejected and not outcome.approved
    assert await audit_actions(client, owner, approval_id) == [
        ("approval.rejected", str(staff.user_id))
    ]


async def test_decisions_from_outside_the_assignment_are_refused_and_change_nothing(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register, invite: Invite
) -> None:
    owner = await register()
    staff, customer = await invite(owner, "staff"), await invite(owner, "client")
    manager = await invite(owner, "manager")
    approval_id, _handle = await ask(app, prefix, owner.tenant_id, spec())
    before = (await row_of(client, staff, approval_id)).json()

    wrong_role = await decide(client, staff, approval_id, "approve")
    assert wrong_role.status_code == 403
    assert wrong_role.json()["code"] == "approvals.not_assignee"
    no_permission = await decide(client, customer, approval_id, "approve")
    assert no_permission.status_code == 403 and no_permission.json()["code"] == "auth.forbidden"
    named = await ask(
        app, prefix, owner.tenant_id, spec(assignee_role=None, assignee_user_id=staff.user_id)
    )
    await row_of(client, staff, named[0])
    other_person = await decide(client, manager, named[0], "approve")
    assert other_person.status_code == 403
    assert other_person.json()["code"] == "approvals.not_assignee"

    after = (await client.get(f"{API}/{approval_id}", headers=staff.headers)).json()
    assert after == before
    assert await audit_actions(client, owner, approval_id) == []
    mine = await client.get(API, params={"filter": "mine"}, headers=staff.headers)
    assert [row["id"] for row in mine.json()] == [str(named[0])]
    by_role = await client.get(API, params={"filter": "my_role"}, headers=manager.headers)
    assert str(approval_id) in [row["id"] for row in by_role.json()]
    assert str(named[0]) not in [row["id"] for row in by_role.json()]


async def test_an_expired_request_escalates_then_the_new_role_decides(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register, invite: Invite
) -> None:
    owner = await register()
    manager = await invite(owner, "manager")
    request = spec(
        sla=timedelta(seconds=1),
        on_expiry=ExpiryAction.escalate,
        escalate_to_role="tenant_admin",
        escalation_sla=timedelta(hours=1),
    )
    approval_id, handle = await ask(app, prefix, owner.tenant_id, request)
    escalated = await eventually(
        lambda: client.get(f"{API}/{approval_id}", headers=owner.headers),
        lambda response: response.status_code == 200 and response.json()["escalated"],
        what="the escalation",
    )
    assert escalated.json()["assignee_role"] == "tenant_admin"
    assert escalated.json()["status"] == "pending"
    too_late = await decide(client, manager, approval_id, "approve")
    assert too_late.status_code == 403 and too_late.json()["code"] == "approvals.not_assignee"
    response = await decide(client, owner, approval_id, "approve")
    assert response.status_code == 200, response.text
    assert (await handle.result()).status is ApprovalStatus.approved
    assert await audit_actions(client, owner, approval_id) == [
        ("approval.escalated", None),
        ("approval.approved", str(owner.user_id)),
    ]


async def test_an_expired_request_is_rejected_when_it_says_so(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register, invite: Invite
) -> None:
    owner = await register()
    manager = await invite(owner, "manager")
    approval_id, handle = await ask(app, prefix, owner.tenant_id, spec(sla=timedelta(seconds=1)))
    outcome = await handle.result()
    assert outcome.status is ApprovalStatus.expired and not outcome.approved
    row = (await client.get(f"{API}/{approval_id}", headers=manager.headers)).json()
    assert row["status"] == "expired" and row["decisions"] == []
    late = await decide(client, manager, approval_id, "approve")
    assert late.status_code == 409 and late.json()["code"] == "approvals.closed"
    assert await audit_actions(client, owner, approval_id) == [("approval.expired", None)]


async def test_another_tenant_can_neither_list_see_nor_decide(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register
) -> None:
    owner, stranger = await register("Acme"), await register("Rival")
    approval_id, _handle = await ask(
        app, prefix, owner.tenant_id, spec(assignee_role="tenant_admin")
    )
    await row_of(client, owner, approval_id)

    listed = await client.get(API, headers=stranger.headers)
    assert listed.status_code == 200 and listed.json() == []
    seen = await client.get(f"{API}/{approval_id}", headers=stranger.headers)
    assert seen.status_code == 404 and seen.json()["code"] == "approvals.not_found"
    decided = await decide(client, stranger, approval_id, "approve")
    assert decided.status_code == 404 and decided.json()["code"] == "approvals.not_found"
    row = (await client.get(f"{API}/{approval_id}", headers=owner.headers)).json()
    assert row["status"] == "pending" and row["decisions"] == []


async def test_a_rejected_review_publishes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    prefix: str,
    register: Register,
    invite: Invite,
) -> None:
    owner = await register()
    manager = await invite(owner, "manager")
    temporal: Client = app.state.temporal
    handle = await temporal.start_workflow(
        ReviewAndPublish.run,
        ReviewAndPublishInput(
            tenant_id=owner.tenant_id,
            review=spec(subject=Subject(kind="notes.note", id="draft", title="Publish a note")),
            publish_activity="notes.publish_note",
            payload={"body": "not yet"},
        ),
        id=f"{owner.tenant_id}:review:{uuid.uuid4()}",
        task_queue=queue_name(prefix, Workload.default),
        execution_timeout=timedelta(minutes=5),
    )
    listed = await eventually(
        lambda: client.get(API, params={"filter": "my_role"}, headers=manager.headers),
        lambda response: response.status_code == 200 and len(response.json()) == 1,
        what="the review in the manager's inbox",
    )
    approval_id = uuid.UUID(listed.json()[0]["id"])
    response = await decide(client, manager, approval_id, "reject", "needs work")
    assert response.status_code == 200, response.text
    result = await handle.result()
    assert result.review.status is ApprovalStatus.rejected and result.published is None
    async with database.unit_of_work(trusted_scope(owner.tenant_id)) as session:
        assert list(await session.scalars(select(Note))) == []
