"""The example module's API. Most routes take the tenant from the path and issue a trusted
scope: here the test stands in for the auth layer (product modules get their scope from a
verified token only). `GET /notes` is the product way: the caller's token names the tenant and
must grant `notes.note:read`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.auth import Principal, require
from bizosaas.kit.auth import TenantSession as CallerTenantSession
from bizosaas.kit.deps import get_session
from bizosaas.kit.errors import NotFound
from bizosaas.kit.module import Services, get_services
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.support.notes.events import NOTE_CREATED, NoteCreated
from tests.support.notes.models import Note
from tests.support.notes.settings import NotesSettings


class NoteCreate(BaseModel):
    body: str = Field(min_length=1, max_length=500)


class NoteRead(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    body: str


class NoteNotFound(NotFound):
    code = "notes.not_found"
    title = "Note not found"


async def tenant_session(
    tenant_id: uuid.UUID,
    session: Annotated[AsyncSession, Depends(get_session, scope="function")],
) -> AsyncSession:
    await bind_tenant(session, trusted_scope(tenant_id))
    return session


TenantSession = Annotated[AsyncSession, Depends(tenant_session)]
NoteReader = Annotated[Principal, Depends(require("notes.note:read"))]
router = APIRouter(tags=["notes"])


@router.get("/notes", summary="List the notes of the caller's tenant")
async def list_my_notes(
    _reader: NoteReader,
    session: CallerTenantSession,
    services: Annotated[Services, Depends(get_services)],
) -> list[NoteRead]:
    page_size = services.module_settings("notes", NotesSettings).page_size
    notes = await session.scalars(select(Note).order_by(Note.id).limit(page_size))
    return [NoteRead(id=n.id, tenant_id=n.tenant_id, body=n.body) for n in notes]


@router.post("/tenants/{tenant_id}/notes", status_code=201, summary="Create a note")
async def create_note(payload: NoteCreate, session: TenantSession) -> NoteRead:
    note = Note(body=payload.body)
    session.add(note)
    await session.flush()
    record_event(session, NOTE_CREATED, NoteCreated(note_id=note.id, body=note.body))
    return NoteRead(id=note.id, tenant_id=note.tenant_id, body=note.body)


@router.get("/tenants/{tenant_id}/notes", summary="List notes")
async def list_notes(session: TenantSession) -> list[NoteRead]:
    notes = await session.scalars(select(Note).order_by(Note.id))
    return [NoteRead(id=n.id, tenant_id=n.tenant_id, body=n.body) for n in notes]


@router.get("/tenants/{tenant_id}/notes/{note_id}", summary="Read a note")
async def get_note(note_id: uuid.UUID, session: TenantSession) -> NoteRead:
    note = await session.scalar(select(Note).where(Note.id == note_id))
    if note is None:
        raise NoteNotFound(f"no note {note_id}")
    return NoteRead(id=note.id, tenant_id=note.tenant_id, body=note.body)


@router.get("/boom", summary="Fails unexpectedly")
async def boom() -> None:
    raise RuntimeError("secret internals must not leak")
