"""Activities, notes, a record's timeline and the caller's open tasks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from bizosaas.crm.api.common import errors, viewer_of
from bizosaas.crm.auth import ActivityReader, ActivityWriter
from bizosaas.crm.models import RecordType
from bizosaas.crm.schemas import (
    ActivityCreate,
    ActivityRead,
    ActivityUpdate,
    NoteCreate,
    NoteRead,
    Time,
    TimelineItem,
)
from bizosaas.crm.service import activities
from bizosaas.kit.auth import TenantSession

router = APIRouter(tags=["crm: activities and timeline"])
OWNER_ERROR = errors(status_422="`crm.invalid_owner`: the assignee is not a member")


@router.get("/activities/mine", summary="My open activities, due first")
async def my_activities(
    principal: ActivityReader,
    session: TenantSession,
    due_before: Annotated[Time | None, Query(description="Only those due before.")] = None,
) -> list[ActivityRead]:
    viewer = await viewer_of(session, principal)
    return await activities.my_open_activities(session, viewer=viewer, due_before=due_before)


@router.post(
    "/activities", status_code=201, summary="Plan a task, call or meeting", responses=OWNER_ERROR
)
async def create_activity(
    data: ActivityCreate, principal: ActivityWriter, session: TenantSession
) -> ActivityRead:
    viewer = await viewer_of(session, principal)
    return await activities.create_activity(session, viewer=viewer, data=data)


@router.get("/activities/{activity_id}", summary="One activity", responses=errors())
async def read_activity(
    activity_id: uuid.UUID, principal: ActivityReader, session: TenantSession
) -> ActivityRead:
    viewer = await viewer_of(session, principal)
    return await activities.read_activity(session, viewer=viewer, activity_id=activity_id)


@router.patch(
    "/activities/{activity_id}",
    summary="Change an activity, or mark it done",
    responses=OWNER_ERROR,
)
async def update_activity(
    activity_id: uuid.UUID, data: ActivityUpdate, principal: ActivityWriter, session: TenantSession
) -> ActivityRead:
    viewer = await viewer_of(session, principal)
    return await activities.update_activity(
        session, viewer=viewer, activity_id=activity_id, data=data
    )


@router.delete(
    "/activities/{activity_id}", status_code=204, summary="Delete an activity", responses=errors()
)
async def delete_activity(
    activity_id: uuid.UUID, principal: ActivityWriter, session: TenantSession
) -> Response:
    viewer = await viewer_of(session, principal)
    await activities.delete_activity(session, viewer=viewer, activity_id=activity_id)
    return Response(status_code=204)


@router.post(
    "/notes", status_code=201, summary="Write a note (HTML, sanitised)", responses=errors()
)
async def create_note(
    data: NoteCreate, principal: ActivityWriter, session: TenantSession
) -> NoteRead:
    viewer = await viewer_of(session, principal)
    return await activities.create_note(session, viewer=viewer, data=data)


@router.delete("/notes/{note_id}", status_code=204, summary="Delete a note", responses=errors())
async def delete_note(
    note_id: uuid.UUID, principal: ActivityWriter, session: TenantSession
) -> Response:
    viewer = await viewer_of(session, principal)
    await activities.delete_note(session, viewer=viewer, note_id=note_id)
    return Response(status_code=204)


@router.get(
    "/timeline/{record_type}/{record_id}",
    summary="A record's timeline: activities, notes and stage changes, newest first",
    responses=errors(),
)
async def timeline(
    record_type: RecordType, record_id: uuid.UUID, principal: ActivityReader, session: TenantSession
) -> list[TimelineItem]:
    viewer = await viewer_of(session, principal)
    return await activities.timeline(
        session, viewer=viewer, record_type=record_type, record_id=record_id
    )
