"""Activities (tasks, calls, meetings) and notes about a record, the record's timeline, a
member's open tasks, and the reminders mailed at their time.

Reminders. An activity with a `remind_at` puts one row in `crm_reminders` (activity id,
tenant id, time), in the activity's transaction; changing the time replaces it, marking the
activity done or clearing the time removes it. `send_due_reminders` takes due rows one at a
time (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several processes share the queue), and within
the tenant's scope checks the activity is still open and still due, writes an
`identity.mail_requested` event to the outbox for the assignee and deletes the row, all in one
transaction: a reminder is mailed once, or (if the process dies first) on the next sweep. The
module's start-up runs the sweep in every process that relays the outbox, every
`BIZOSAAS_CRM_REMINDER_SWEEP_SECONDS`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm import repository
from bizosaas.crm.access import Viewer
from bizosaas.crm.exceptions import CrmNotFound
from bizosaas.crm.models import Activity, Deal, ExternalEvent, Note, RecordType
from bizosaas.crm.schemas import (
    ActivityCreate,
    ActivityRead,
    ActivityUpdate,
    ExternalEventRead,
    NoteCreate,
    NoteRead,
    TimelineItem,
)
from bizosaas.crm.search import MODELS
from bizosaas.crm.service.access import check_members
from bizosaas.crm.service.deals import stage_change_read
from bizosaas.crm.service.records import found
from bizosaas.crm.service.values import sanitise_html
from bizosaas.identity import service as identity
from bizosaas.identity.events import MAIL_REQUESTED, MailRequested
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from bizosaas.kit.text import unlinkable


def activity_read(activity: Activity) -> ActivityRead:
    return ActivityRead(
        id=activity.id,
        record_type=RecordType(activity.record_type),
        record_id=activity.record_id,
        kind=activity.kind,
        subject=activity.subject,
        details=activity.details,
        due_at=activity.due_at,
        assignee_id=activity.assignee_id,
        remind_at=activity.remind_at,
        reminded_at=activity.reminded_at,
        done=activity.done_at is not None,
        done_at=activity.done_at,
        created_at=activity.created_at,
    )


def external_event_read(event: ExternalEvent) -> ExternalEventRead:
    return ExternalEventRead(
        event_id=event.event_id, name=event.name, summary=event.summary, data=dict(event.data)
    )


def note_read(note: Note) -> NoteRead:
    return NoteRead(
        id=note.id,
        record_type=RecordType(note.record_type),
        record_id=note.record_id,
        body_html=note.body_html,
        author_id=note.author_id,
        created_at=note.created_at,
    )


async def _visible_record(
    session: AsyncSession, *, viewer: Viewer, record_type: RecordType, record_id: uuid.UUID
) -> None:
    await found(session, MODELS[record_type], viewer=viewer, record_id=record_id)


async def _activity(session: AsyncSession, *, viewer: Viewer, activity_id: uuid.UUID) -> Activity:
    """The activity, if the viewer may see the record it is about."""
    await bind_tenant(session, viewer.scope)
    activity = await repository.get(session, Activity, scope=viewer.scope, row_id=activity_id)
    if activity is None:
        raise CrmNotFound(f"No activity {activity_id} in this CRM.")
    try:
        await _visible_record(
            session,
            viewer=viewer,
            record_type=RecordType(activity.record_type),
            record_id=activity.record_id,
        )
    except CrmNotFound:
        raise CrmNotFound(f"No activity {activity_id} in this CRM.") from None
    return activity


async def _schedule(session: AsyncSession, activity: Activity, *, viewer: Viewer) -> None:
    due = activity.remind_at if activity.done_at is None and activity.reminded_at is None else None
    await repository.schedule_reminder(
        session, scope=viewer.scope, activity_id=activity.id, remind_at=due
    )


async def create_activity(
    session: AsyncSession, *, viewer: Viewer, data: ActivityCreate
) -> ActivityRead:
    await _visible_record(
        session, viewer=viewer, record_type=data.record_type, record_id=data.record_id
    )
    assignee = data.assignee_id if "assignee_id" in data.model_fields_set else viewer.member_id
    await check_members(session, scope=viewer.scope, user_ids=[assignee])
    activity = Activity(
        kind=data.kind,
        subject=data.subject,
        details=data.details,
        record_type=data.record_type,
        record_id=data.record_id,
        due_at=data.due_at,
        assignee_id=assignee,
        remind_at=data.remind_at,
        created_by=viewer.member_id,
    )
    session.add(activity)
    await session.flush()
    await _schedule(session, activity, viewer=viewer)
    await session.flush()
    return activity_read(activity)


async def read_activity(
    session: AsyncSession, *, viewer: Viewer, activity_id: uuid.UUID
) -> ActivityRead:
    return activity_read(await _activity(session, viewer=viewer, activity_id=activity_id))


async def update_activity(
    session: AsyncSession, *, viewer: Viewer, activity_id: uuid.UUID, data: ActivityUpdate
) -> ActivityRead:
    activity = await _activity(session, viewer=viewer, activity_id=activity_id)
    given = data.model_fields_set
    if data.subject is not None:
        activity.subject = data.subject
    if data.details is not None:
        activity.details = data.details
    if "due_at" in given:
        activity.due_at = data.due_at
    if "assignee_id" in given:
        await check_members(session, scope=viewer.scope, user_ids=[data.assignee_id])
        activity.assignee_id = data.assignee_id
    if "remind_at" in given:
        activity.remind_at, activity.reminded_at = data.remind_at, None
    if data.done is not None:
        activity.done_at = (activity.done_at or utcnow()) if data.done else None
    await _schedule(session, activity, viewer=viewer)
    await session.flush()
    return activity_read(activity)


async def delete_activity(session: AsyncSession, *, viewer: Viewer, activity_id: uuid.UUID) -> None:
    activity = await _activity(session, viewer=viewer, activity_id=activity_id)
    await repository.drop_reminder(session, activity_id=activity.id)
    await session.delete(activity)
    await session.flush()


async def my_open_activities(
    session: AsyncSession, *, viewer: Viewer, due_before: datetime | None
) -> list[ActivityRead]:
    """The caller's open activities (due first, undated last) about records they may see."""
    await bind_tenant(session, viewer.scope)
    if viewer.member_id is None:
        return []
    rows = await repository.open_activities_of(
        session, scope=viewer.scope, assignee_id=viewer.member_id, due_before=due_before
    )
    visible = []
    for activity in rows:
        try:
            await _visible_record(
                session,
                viewer=viewer,
                record_type=RecordType(activity.record_type),
                record_id=activity.record_id,
            )
        except CrmNotFound:
            continue
        visible.append(activity_read(activity))
    return visible


# -- notes and the timeline ------------------------------------------------------------------


async def create_note(session: AsyncSession, *, viewer: Viewer, data: NoteCreate) -> NoteRead:
    await _visible_record(
        session, viewer=viewer, record_type=data.record_type, record_id=data.record_id
    )
    note = Note(
        record_type=data.record_type,
        record_id=data.record_id,
        body_html=sanitise_html(data.body_html),
        author_id=viewer.member_id,
    )
    session.add(note)
    await session.flush()
    return note_read(note)


async def delete_note(session: AsyncSession, *, viewer: Viewer, note_id: uuid.UUID) -> None:
    await bind_tenant(session, viewer.scope)
    note = await repository.get(session, Note, scope=viewer.scope, row_id=note_id)
    if note is None:
        raise CrmNotFound(f"No note {note_id} in this CRM.")
    try:
        await _visible_record(
            session,
            viewer=viewer,
            record_type=RecordType(note.record_type),
            record_id=note.record_id,
        )
    except CrmNotFound:
        raise CrmNotFound(f"No note {note_id} in this CRM.") from None
    await session.delete(note)
    await session.flush()


async def timeline(
    session: AsyncSession, *, viewer: Viewer, record_type: RecordType, record_id: uuid.UUID
) -> list[TimelineItem]:
    """Activities, notes, other domains' events and (for a deal) stage changes about the
    record, newest first."""
    await _visible_record(session, viewer=viewer, record_type=record_type, record_id=record_id)
    items = [
        TimelineItem(kind="activity", at=a.created_at, activity=activity_read(a))
        for a in await repository.about_record(
            session, Activity, scope=viewer.scope, record_type=record_type, record_id=record_id
        )
    ]
    items += [
        TimelineItem(kind="note", at=n.created_at, note=note_read(n))
        for n in await repository.about_record(
            session, Note, scope=viewer.scope, record_type=record_type, record_id=record_id
        )
    ]
    items += [
        TimelineItem(kind="event", at=e.occurred_at, event=external_event_read(e))
        for e in await repository.external_events_about(
            session, scope=viewer.scope, record_type=record_type, record_id=record_id
        )
    ]
    if MODELS[record_type] is Deal:
        items += [
            TimelineItem(kind="stage_change", at=c.changed_at, stage_change=stage_change_read(c))
            for c in await repository.stage_history(session, scope=viewer.scope, deal_id=record_id)
        ]
    return sorted(items, key=lambda item: item.at, reverse=True)


# -- reminders -------------------------------------------------------------------------------


async def send_due_reminders(database: Database, *, now: datetime, limit: int = 100) -> int:
    """Mail the assignee of every activity whose reminder is due by `now` (see the module's
    docstring); returns how many were mailed."""
    sent = 0
    for _ in range(limit):
        async with database.unit_of_work() as session:
            due = await repository.due_reminders(session, now=now, limit=1)
            if not due:
                break
            reminder = due[0]
            scope = trusted_scope(reminder.tenant_id)
            await bind_tenant(session, scope)
            activity = await repository.get(
                session, Activity, scope=scope, row_id=reminder.activity_id
            )
            await repository.drop_reminder(session, activity_id=reminder.activity_id)
            if (
                activity is None
                or activity.done_at is not None
                or activity.reminded_at is not None
                or activity.assignee_id is None
                or activity.remind_at is None
                or activity.remind_at > now
            ):
                continue
            members = {m.user_id: m for m in await identity.list_members(session, scope=scope)}
            assignee = members.get(activity.assignee_id)
            activity.reminded_at = now
            if assignee is None:
                continue
            due_text = (
                activity.due_at.strftime("%Y-%m-%d %H:%M UTC") if activity.due_at else "no due date"
            )
            record_event(
                session,
                MAIL_REQUESTED,
                MailRequested(
                    to=assignee.email,
                    subject=f"Reminder: a CRM {activity.kind} is due",
                    body=(
                        f"Hello {unlinkable(assignee.full_name)},\n\n"
                        f"this is your reminder for the {activity.kind} "
                        f'"{unlinkable(activity.subject)}" ({due_text}).\n'
                    ),
                ),
            )
            sent += 1
    return sent
