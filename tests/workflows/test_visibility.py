"""A tenant's workflow runs through `/api/brain/workflows/runs`, read from Temporal's visibility
and history on a real dev server, on SQLite and PostgreSQL: the list, a run's steps, cancel and
retry, the run changes announced to the tenant, and another tenant kept out (404)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from temporalio.client import Client

from bizosaas.identity.events import TENANT_CREATED
from bizosaas.kit.db import Database
from bizosaas.kit.outbox import OutboxEvent
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows import runs
from bizosaas.workflows.events import RUN_CHANGED
from bizosaas.workflows.publishing import ReviewAndPublish, ReviewAndPublishInput
from bizosaas.workflows.queues import Workload, queue_name
from tests.identity.conftest import Account, Invite, Register, invite, mailbox, register
from tests.support.waiting import eventually
from tests.workflows.apps import app, client, database, database_target, prefix, relay_again
from tests.workflows.test_approvals import ask, row_of, spec

assert invite and register and app and client and database and database_target and prefix
RUNS = "/api/brain/workflows/runs"
pytestmark = pytest.mark.slow


async def runs_of(client: httpx.AsyncClient, who: Account, **params: str) -> list[dict[str, Any]]:
    response = await client.get(RUNS, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def finished_onboarding(
    app: FastAPI, client: httpx.AsyncClient, database: Database, owner: Account
) -> dict[str, Any]:
    await relay_again(app, database, TENANT_CREATED.name, owner.tenant_id)
    listed = await eventually(
        lambda: runs_of(client, owner, kind="onboarding"),
        lambda found: bool(found) and found[0]["status"] == "completed",
        what="the tenant's onboarding run",
    )
    return listed[0]


async def test_a_tenant_lists_its_runs_and_reads_their_steps(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    register: Register,
    invite: Invite,
) -> None:
    owner = await register("Visible")
    run = await finished_onboarding(app, client, database, owner)
    assert run["key"] == f"onboarding:{owner.tenant_id}"
    assert run["workflow_type"] == "workflows.TenantOnboarding"
    assert run["started_by"] == "event:identity.tenant_created"
    assert run["started_at"] <= run["ended_at"] and run["duration_seconds"] >= 0

    staff = await invite(owner, "staff")  # staff may read runs
    detail = await client.get(f"{RUNS}/{run['key']}", headers=staff.headers)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["status"] == "completed" and body["run_id"] == run["run_id"]
    steps = [(s["kind"], s["name"], s["status"], s["attempt"]) for s in body["steps"]]
    assert steps == [
        ("activity", "workflows.onboarding.defaults", "completed", 1),
        ("activity", "workflows.onboarding.welcome", "completed", 1),
    ]
    assert all(s["started_at"] and s["ended_at"] for s in body["steps"])
    assert body["temporal_ui_url"] is None, "the Temporal UI is linked for administrators only"

    cannot = await client.post(f"{RUNS}/{run['key']}/retry", headers=staff.headers)
    assert cannot.status_code == 403 and cannot.json()["code"] == "auth.forbidden"
    unknown = await client.get(f"{RUNS}/onboarding:{uuid.uuid4()}", headers=owner.headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == "workflows.run_not_found"


async def test_another_tenant_can_neither_list_nor_see_nor_touch_a_run(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register
) -> None:
    owner, stranger = await register("Owner"), await register("Stranger")
    approval_id, handle = await ask(app, prefix, owner.tenant_id, spec())
    await row_of(client, owner, approval_id)
    key = f"approval:{approval_id}"

    assert key not in [run["key"] for run in await runs_of(client, stranger)]
    for response in (
        await client.get(f"{RUNS}/{key}", headers=stranger.headers),
        await client.post(f"{RUNS}/{key}/cancel", headers=stranger.headers),
        await client.post(f"{RUNS}/{key}/retry", headers=stranger.headers),
        await client.get(f"{RUNS}/{owner.tenant_id}:{key}", headers=stranger.headers),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "workflows.run_not_found"
    still = await client.get(f"{RUNS}/{key}", headers=owner.headers)
    assert still.json()["status"] == "running"
    assert key in [run["key"] for run in await runs_of(client, owner, status="running")]
    await handle.cancel()


async def test_cancelling_a_running_approval_closes_it(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register
) -> None:
    owner = await register("Cancels")
    approval_id, handle = await ask(app, prefix, owner.tenant_id, spec(sla=timedelta(hours=2)))
    await row_of(client, owner, approval_id)
    key = f"approval:{approval_id}"
    # The row is written by the first activity; the deadline's timer follows it.
    running = await eventually(
        lambda: client.get(f"{RUNS}/{key}", headers=owner.headers),
        lambda response: len(response.json()["steps"]) == 2,
        what="the request's deadline timer",
    )
    assert running.json()["status"] == "running"
    opened, deadline = running.json()["steps"]
    assert (opened["name"], opened["status"]) == ("workflows.approval.open", "completed")
    assert (deadline["kind"], deadline["status"]) == ("timer", "running")
    waits = int(deadline["name"].removeprefix("approval deadline (").removesuffix(" s)"))
    assert 7100 <= waits <= 7200, "what is left of the two hours after the row was written"

    cancelled = await client.post(f"{RUNS}/{key}/cancel", headers=owner.headers)
    assert cancelled.status_code == 202, cancelled.text
    ended = await eventually(
        lambda: client.get(f"{RUNS}/{key}", headers=owner.headers),
        lambda response: response.json()["status"] == "cancelled",
        what="the cancelled run",
    )
    steps = {s["name"]: s["status"] for s in ended.json()["steps"]}
    assert steps[deadline["name"]] == "cancelled"
    assert steps["workflows.approval.close"] == "completed"
    row = await client.get(f"/api/brain/approvals/{approval_id}", headers=owner.headers)
    assert row.json()["status"] == "cancelled"
    again = await client.post(f"{RUNS}/{key}/cancel", headers=owner.headers)
    assert again.status_code == 409 and again.json()["code"] == "workflows.run_closed"
    retry = await client.post(f"{RUNS}/{key}/retry", headers=owner.headers)
    assert retry.status_code == 409 and retry.json()["code"] == "workflows.run_not_retryable"
    assert handle.id.endswith(key)


async def test_retrying_a_run_starts_it_again_with_the_same_input(
    app: FastAPI, client: httpx.AsyncClient, database: Database, register: Register
) -> None:
    owner = await register("Retries")
    first = await finished_onboarding(app, client, database, owner)
    response = await client.post(f"{RUNS}/{first['key']}/retry", headers=owner.headers)
    assert response.status_code == 201, response.text
    second = response.json()
    assert second["key"] == first["key"] and second["run_id"] != first["run_id"]
    assert second["started_by"] == f"user:{owner.user_id}"
    both = await eventually(
        lambda: runs_of(client, owner, kind="onboarding"),
        lambda found: len(found) == 2 and all(r["status"] == "completed" for r in found),
        what="the second run",
    )
    assert {r["run_id"] for r in both} == {first["run_id"], second["run_id"]}
    welcomes = [m for m in await mailbox(database, owner.email) if m.subject.startswith("Welcome")]
    assert len(welcomes) == 1, "the same input, the same idempotent welcome: sent once"
    older = await client.get(
        f"{RUNS}/{first['key']}", params={"run_id": first["run_id"]}, headers=owner.headers
    )
    assert older.json()["run_id"] == first["run_id"] and older.json()["started_by"].startswith(
        "event:"
    )


async def test_run_changes_are_announced_to_the_tenant(
    app: FastAPI, client: httpx.AsyncClient, database: Database, register: Register
) -> None:
    owner = await register("Announced")
    run = await finished_onboarding(app, client, database, owner)

    async def announced() -> list[dict[str, Any]]:
        async with database.unit_of_work() as session:
            rows = await session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.name == RUN_CHANGED.name, OutboxEvent.tenant_id == owner.tenant_id
                )
            )
            return [row.payload for row in rows]

    changes = await eventually(
        announced, lambda found: len(found) >= 2, what="the run's announcements"
    )
    assert [(c["key"], c["status"]) for c in changes] == [
        (run["key"], "running"),
        (run["key"], "completed"),
    ]
    assert changes[0]["run_id"] == run["run_id"]


async def test_a_failing_step_shows_its_attempts_and_error_until_the_run_is_cancelled(
    app: FastAPI, client: httpx.AsyncClient, prefix: str, register: Register
) -> None:
    owner = await register("Failing")
    key = f"review:{uuid.uuid4()}"
    temporal: Client = app.state.temporal
    await temporal.start_workflow(
        ReviewAndPublish.run,
        ReviewAndPublishInput(
            tenant_id=owner.tenant_id,
            review=spec(assignee_role="tenant_admin"),
            publish_activity="notes.publish_note",
            payload={},  # the notes module's publish step needs a body: every attempt fails
        ),
        id=f"{owner.tenant_id}:{key}",
        task_queue=queue_name(prefix, Workload.default),
    )
    pending = await eventually(
        lambda: client.get("/api/brain/approvals", headers=owner.headers),
        lambda response: bool(response.json()),
        what="the review's approval request",
    )
    approval_id = pending.json()[0]["id"]
    decided = await client.post(
        f"/api/brain/approvals/{approval_id}/decision",
        json={"verdict": "approve"},
        headers=owner.headers,
    )
    assert decided.status_code == 200, decided.text

    def publish_step(response: httpx.Response) -> dict[str, Any]:
        return next(s for s in response.json()["steps"] if s["name"] == "notes.publish_note")

    retrying = await eventually(
        lambda: client.get(f"{RUNS}/{key}", headers=owner.headers),
        lambda response: (
            any(s["name"] == "notes.publish_note" for s in response.json()["steps"])
            and publish_step(response)["attempt"] >= 2
        ),
        what="the publish step's retries",
    )
    step = publish_step(retrying)
    assert step["status"] in {"scheduled", "running"} and "body" in step["error"]
    assert retrying.json()["status"] == "running"
    child = retrying.json()["steps"][0]
    assert child["kind"] == "child_workflow" and child["status"] == "completed"
    assert f"approval:{approval_id}" in child["name"]

    cancelled = await client.post(f"{RUNS}/{key}/cancel", headers=owner.headers)
    assert cancelled.status_code == 202, cancelled.text
    ended = await eventually(
        lambda: client.get(f"{RUNS}/{key}", headers=owner.headers),
        lambda response: response.json()["status"] == "cancelled",
        what="the cancelled run",
    )
    assert publish_step(ended)["status"] == "cancelled"


async def test_platform_administrators_get_a_link_to_the_run_in_temporals_ui(
    app: FastAPI, client: httpx.AsyncClient, database: Database, register: Register
) -> None:
    owner = await register("Linked")
    run = await finished_onboarding(app, client, database, owner)
    detail = await runs.get_run(
        app.state.temporal,
        scope=trusted_scope(owner.tenant_id),
        run_key=run["key"],
        temporal_ui_url="http://127.0.0.1:8233/",
    )
    assert detail.temporal_ui_url == (
        f"http://127.0.0.1:8233/namespaces/default/workflows/"
        f"{owner.tenant_id}:{run['key']}/{run['run_id']}/history"
    )
