"""Activities with due dates, assignees and reminders mailed through the outbox at their time;
notes sanitised; one timeline per record mixing activities, notes and stage changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bizosaas.crm.service.activities import send_due_reminders
from bizosaas.kit.db import Database
from tests.crm.conftest import Crm, person, sales_pipeline
from tests.identity.conftest import Invite, mailbox


async def test_notes_are_sanitised(crm: Crm) -> None:
    someone = await person(crm, "Grace", "Hopper")
    note = await crm.ok(
        "POST",
        "/notes",
        201,
        json={
            "record_type": "person",
            "record_id": someone["id"],
            "body_html": '<p onclick="steal()">Met at <b>COBOL</b> day<script>alert(1)</script>'
            '<a href="javascript:alert(2)">x</a></p>',
        },
    )
    assert "script" not in note["body_html"] and "onclick" not in note["body_html"]
    assert "javascript" not in note["body_html"]
    assert "<b>COBOL</b>" in note["body_html"]


async def test_timeline_mixes_activities_notes_and_stage_changes(crm: Crm) -> None:
    sales = await sales_pipeline(crm)
    made = await crm.ok(
        "POST",
        "/deals",
        201,
        json={"title": "Order", "pipeline_id": sales["id"], "currency": "EUR"},
    )
    ref = {"record_type": "deal", "record_id": made["id"]}
    call = await crm.ok(
        "POST", "/activities", 201, json={**ref, "kind": "call", "subject": "Intro"}
    )
    assert call["assignee_id"] == str(crm.account.user_id) and call["done"] is False
    await crm.ok("POST", "/notes", 201, json={**ref, "body_html": "Keen"})
    await crm.ok("POST", f"/deals/{made['id']}/move", json={"stage_id": sales["stages"][1]["id"]})
    done = await crm.ok("PATCH", f"/activities/{call['id']}", json={"done": True})
    assert done["done"] and done["done_at"]

    timeline = await crm.ok("GET", f"/timeline/deal/{made['id']}")
    kinds = [item["kind"] for item in timeline]
    assert sorted(kinds) == ["activity", "note", "stage_change", "stage_change"]
    times = [item["at"] for item in timeline]
    assert times == sorted(times, reverse=True), "newest first"
    await crm.problem(
        "POST",
        "/activities",
        404,
        "crm.not_found",
        json={"record_type": "person", "record_id": made["id"], "kind": "task", "subject": "x"},
    )


async def test_my_open_activities_due_first(crm: Crm) -> None:
    someone = await person(crm, "Alan", "Turing")
    ref = {"record_type": "person", "record_id": someone["id"]}
    now = datetime.now(UTC)
    later = await crm.ok(
        "POST",
        "/activities",
        201,
        json={
            **ref,
            "kind": "task",
            "subject": "Later",
            "due_at": (now + timedelta(days=3)).isoformat(),
        },
    )
    soon = await crm.ok(
        "POST",
        "/activities",
        201,
        json={
            **ref,
            "kind": "meeting",
            "subject": "Soon",
            "due_at": (now + timedelta(hours=1)).isoformat(),
        },
    )
    undated = await crm.ok(
        "POST", "/activities", 201, json={**ref, "kind": "task", "subject": "Someday"}
    )
    finished = await crm.ok(
        "POST", "/activities", 201, json={**ref, "kind": "task", "subject": "Done"}
    )
    await crm.ok("PATCH", f"/activities/{finished['id']}", json={"done": True})

    mine = await crm.ok("GET", "/activities/mine")
    assert [a["id"] for a in mine] == [soon["id"], later["id"], undated["id"]]
    today = await crm.ok(
        "GET", "/activities/mine", params={"due_before": (now + timedelta(days=1)).isoformat()}
    )
    assert [a["id"] for a in today] == [soon["id"]]


async def test_reminders_are_mailed_once_at_their_time(
    crm: Crm, invite: Invite, database: Database
) -> None:
    staff = await invite(crm.account, "staff")
    someone = await person(crm, "Katherine", "Johnson")
    now = datetime.now(UTC)
    ref = {"record_type": "person", "record_id": someone["id"]}
    due = await crm.ok(
        "POST",
        "/activities",
        201,
        json={
            **ref,
            "kind": "call",
            "subject": "Call about orbit.example",
            "assignee_id": str(staff.user_id),
            "due_at": (now + timedelta(hours=2)).isoformat(),
            "remind_at": (now + timedelta(hours=1)).isoformat(),
        },
    )
    cancelled = await crm.ok(
        "POST",
        "/activities",
        201,
        json={
            **ref,
            "kind": "task",
            "subject": "Dropped",
            "remind_at": (now + timedelta(hours=1)).isoformat(),
        },
    )
    await crm.ok("PATCH", f"/activities/{cancelled['id']}", json={"done": True})

    assert await send_due_reminders(database, now=now) == 0, "not yet"
    assert await send_due_reminders(database, now=now + timedelta(hours=1, seconds=1)) == 1
    assert await send_due_reminders(database, now=now + timedelta(hours=5)) == 0, "sent once"

    mails = [m for m in await mailbox(database, staff.email) if m.subject.startswith("Reminder")]
    assert len(mails) == 1
    assert "Call about orbit[.]example" in mails[0].body
    assert (await crm.ok("GET", f"/activities/{due['id']}"))["reminded_at"] is not None
    owner_mail = await mailbox(database, crm.account.email)
    assert not [m for m in owner_mail if m.subject.startswith("Reminder")], "done: not reminded"

    await crm.ok(
        "PATCH",
        f"/activities/{due['id']}",
        json={"remind_at": (now + timedelta(hours=6)).isoformat()},
    )
    assert await send_due_reminders(database, now=now + timedelta(hours=6, seconds=1)) == 1, (
        "a new reminder time is a new reminder"
    )


async def test_assignee_must_be_a_member(crm: Crm, rival: Crm) -> None:
    someone = await person(crm, "Mary", "Jackson")
    await crm.problem(
        "POST",
        "/activities",
        422,
        "crm.invalid_owner",
        json={
            "record_type": "person",
            "record_id": someone["id"],
            "kind": "task",
            "subject": "x",
            "assignee_id": str(rival.account.user_id),
        },
    )
    await crm.problem(
        "POST",
        "/activities",
        422,
        "request.validation_failed",
        json={
            "record_type": "person",
            "record_id": someone["id"],
            "kind": "task",
            "subject": "x",
            "due_at": 1_700_000_000,
        },
    )
    await crm.problem(
        "GET", "/activities/mine", 422, "request.validation_failed", params={"due_before": "-242"}
    )
    assert await crm.ok("GET", f"/timeline/person/{someone['id']}") == []
