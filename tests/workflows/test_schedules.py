"""A tenant's schedules through `/api/brain/workflows/schedules`, as Temporal Schedules on a real
dev server, on SQLite and PostgreSQL: create, list, pause, resume, run now, delete; the daily
digest they run (pending approvals and yesterday's runs, by e-mail to the administrators); the
default schedule onboarding creates; and another tenant kept out (404)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bizosaas.identity.events import TENANT_CREATED
from bizosaas.kit.db import Database
from tests.identity.conftest import Account, Invite, Register, invite, mailbox, register
from tests.support.waiting import eventually
from tests.workflows.apps import app, client, database, database_target, prefix, relay_again
from tests.workflows.test_approvals import ask, row_of, spec

assert invite and register and app and client and database and database_target and prefix
SCHEDULES = "/api/brain/workflows/schedules"
pytestmark = pytest.mark.slow


async def schedules_of(client: httpx.AsyncClient, who: Account) -> list[dict[str, Any]]:
    response = await client.get(SCHEDULES, headers=who.headers)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def test_a_schedule_is_created_paused_resumed_and_deleted(
    client: httpx.AsyncClient, register: Register, invite: Invite
) -> None:
    owner = await register("Scheduler")
    created = await client.post(
        SCHEDULES, json={"name": "morning", "hour": 6, "minute": 30}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["kind"], body["hour"], body["minute"]) == (
        "morning",
        "daily_digest",
        6,
        30,
    )
    assert not body["paused"] and body["next_runs"][0].endswith("06:30:00Z")
    listed = await eventually(
        lambda: schedules_of(client, owner),
        lambda found: "morning" in [s["name"] for s in found],
        what="the schedule in the list",
    )
    assert next(s for s in listed if s["name"] == "morning")["hour"] == 6

    twice = await client.post(SCHEDULES, json={"name": "morning"}, headers=owner.headers)
    assert twice.status_code == 409 and twice.json()["code"] == "workflows.schedule_exists"
    bad = await client.post(SCHEDULES, json={"name": "Not A Name"}, headers=owner.headers)
    assert bad.status_code == 422
    bad_hour = await client.post(
        SCHEDULES, json={"name": "late", "hour": 24}, headers=owner.headers
    )
    assert bad_hour.status_code == 422

    paused = await client.post(
        f"{SCHEDULES}/morning/pause", json={"note": "on holiday"}, headers=owner.headers
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] and paused.json()["note"] == "on holiday"
    resumed = await client.post(f"{SCHEDULES}/morning/unpause", headers=owner.headers)
    assert resumed.status_code == 200 and not resumed.json()["paused"]

    staff = await invite(owner, "staff")  # staff hold no schedule permission
    refused = await client.delete(f"{SCHEDULES}/morning", headers=staff.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
    deleted = await client.delete(f"{SCHEDULES}/morning", headers=owner.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"{SCHEDULES}/morning", headers=owner.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "workflows.schedule_not_found"


async def test_another_tenant_can_neither_see_nor_touch_a_schedule(
    client: httpx.AsyncClient, register: Register
) -> None:
    owner, stranger = await register("Keeps"), await register("Pries")
    created = await client.post(SCHEDULES, json={"name": "private"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    await eventually(
        lambda: schedules_of(client, owner),
        lambda found: "private" in [s["name"] for s in found],
        what="the schedule in its tenant's list",
    )
    assert "private" not in [s["name"] for s in await schedules_of(client, stranger)]
    for response in (
        await client.get(f"{SCHEDULES}/private", headers=stranger.headers),
        await client.post(f"{SCHEDULES}/private/pause", headers=stranger.headers),
        await client.post(f"{SCHEDULES}/private/unpause", headers=stranger.headers),
        await client.post(f"{SCHEDULES}/private/trigger", headers=stranger.headers),
        await client.delete(f"{SCHEDULES}/private", headers=stranger.headers),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "workflows.schedule_not_found"
    # The stranger's own schedule of the same name is theirs alone.
    theirs = await client.post(SCHEDULES, json={"name": "private"}, headers=stranger.headers)
    assert theirs.status_code == 201, theirs.text
    mine = await client.get(f"{SCHEDULES}/private", headers=owner.headers)
    assert mine.status_code == 200 and not mine.json()["paused"]


async def test_a_digest_run_mails_pending_approvals_and_runs_to_the_administrators(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    prefix: str,
    register: Register,
) -> None:
    owner = await register("Digest")
    approval_id, handle = await ask(app, prefix, owner.tenant_id, spec())
    await row_of(client, owner, approval_id)
    created = await client.post(
        SCHEDULES, json={"name": "digest-now", "paused": True}, headers=owner.headers
    )
    assert created.status_code == 201 and created.json()["paused"]
    triggered = await client.post(f"{SCHEDULES}/digest-now/trigger", headers=owner.headers)
    assert triggered.status_code == 200, triggered.text

    runs = await eventually(
        lambda: client.get(
            "/api/brain/workflows/runs", params={"kind": "digest"}, headers=owner.headers
        ),
        lambda response: bool(response.json()) and response.json()[0]["status"] == "completed",
        what="the digest run",
    )
    run = runs.json()[0]
    assert run["started_by"] == "schedule:digest-now"
    assert run["key"].startswith("digest:digest-now-")

    async def digests() -> list[Any]:
        mail = await mailbox(database, owner.email)
        return [m for m in mail if m.subject.startswith("Your BizOSaaS digest")]

    [message] = await eventually(digests, bool, what="the digest e-mail")
    assert "Approval requests waiting: 1" in message.body
    assert "Publish the home page (for manager" in message.body
    await handle.cancel()


async def test_onboarding_gives_a_new_tenant_a_daily_digest(
    app: FastAPI, client: httpx.AsyncClient, database: Database, register: Register
) -> None:
    owner = await register("Defaults")
    await relay_again(app, database, TENANT_CREATED.name, owner.tenant_id)
    found = await eventually(
        lambda: schedules_of(client, owner),
        lambda schedules: "daily-digest" in [s["name"] for s in schedules],
        what="the default schedule",
    )
    default = next(s for s in found if s["name"] == "daily-digest")
    assert (default["kind"], default["hour"], default["minute"], default["paused"]) == (
        "daily_digest",
        7,
        0,
        False,
    )

    async def welcomes() -> list[Any]:
        mail = await mailbox(database, owner.email)
        return [m for m in mail if m.subject.startswith("Welcome")]

    [welcome] = await eventually(welcomes, bool, what="the welcome e-mail")
    assert "a digest of the approvals waiting" in welcome.body
