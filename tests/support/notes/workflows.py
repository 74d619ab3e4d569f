"""The example module's workflow and activity: count a tenant's notes.

The tenant comes from the workflow's input, which the platform itself wrote when it started the
workflow (from a verified scope); the activity rebuilds the `TenantScope` from it and reads in a
unit of work bound to that scope, so the ORM filter and PostgreSQL's row-level security hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from temporalio import activity, workflow

from bizosaas.kit.db import Database
from bizosaas.kit.module import Services
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows.publishing import PublishRequest
from tests.support.notes.models import Note

PUBLISHED_NOTES = uuid.UUID("0f6b1d0e-2a4c-4f7e-9c1b-6d2e8a9b3c41")


class NotesOfTenant(BaseModel):
    tenant_id: uuid.UUID


class NoteCount(BaseModel):
    tenant_id: uuid.UUID
    count: int
    bodies: list[str]


class NoteActivities:
    """Activities built around the process's database (see `activities` below)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @activity.defn(name="notes.count_notes")
    async def count_notes(self, request: NotesOfTenant) -> NoteCount:
        async with self._database.unit_of_work(trusted_scope(request.tenant_id)) as session:
            bodies = list(await session.scalars(select(Note.body).order_by(Note.body)))
        return NoteCount(tenant_id=request.tenant_id, count=len(bodies), bodies=bodies)

    @activity.defn(name="notes.publish_note")
    async def publish_note(self, request: PublishRequest) -> dict[str, Any]:
        """The module's publish step for review-and-publish: the note appears once, keyed by
        the approval (a retried attempt finds it)."""
        note_id = uuid.uuid5(PUBLISHED_NOTES, str(request.approval_id))
        async with self._database.unit_of_work(trusted_scope(request.tenant_id)) as session:
            if await session.get(Note, note_id) is None:
                session.add(Note(id=note_id, body=str(request.payload["body"])))
        return {"note_id": str(note_id)}


def activities(services: Services) -> Sequence[Callable[..., Any]]:
    notes = NoteActivities(services.database)
    return [notes.count_notes, notes.publish_note]


@workflow.defn(name="notes.CountNotes")
class CountNotes:
    @workflow.run
    async def run(self, request: NotesOfTenant) -> NoteCount:
        return await workflow.execute_activity_method(
            NoteActivities.count_notes, request, start_to_close_timeout=timedelta(seconds=30)
        )
