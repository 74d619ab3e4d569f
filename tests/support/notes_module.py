"""A small domain module that exists only in the tests, to prove the DomainModule contract.

Its routes take the tenant from the path and issue a trusted scope: here the test stands in
for the auth layer (product modules get their scope from a verified token only).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, IdMixin
from bizosaas.kit.deps import get_session
from bizosaas.kit.errors import NotFound
from bizosaas.kit.events import Event
from bizosaas.kit.module import DomainModule, SeedContext
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import TenantOwned, bind_tenant, trusted_scope

DEMO_TENANT = uuid.UUID("00000000-0000-7000-8000-00000000d3e0")
DELIVERY_LOG_ENV = "BIZOSAAS_TEST_DELIVERY_LOG"


class Note(IdMixin, TenantOwned, Base):
    __tablename__ = "test_notes"

    body: Mapped[str] = mapped_column(String(500))


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
router = APIRouter(tags=["notes"])


@router.post("/tenants/{tenant_id}/notes", status_code=201, summary="Create a note")
async def create_note(payload: NoteCreate, session: TenantSession) -> NoteRead:
    note = Note(body=payload.body)
    session.add(note)
    await session.flush()
    record_event(session, "notes.created", {"note_id": str(note.id)})
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


async def seed(context: SeedContext) -> None:
    await bind_tenant(context.session, trusted_scope(DEMO_TENANT))
    existing = await context.session.scalar(select(func.count()).select_from(Note))
    if not existing:
        context.session.add(Note(body="Welcome note"))
        context.say("created the welcome note")
    context.credentials.append(("Notes demo", "notes@example.com", "not-a-real-login"))


async def log_delivery(event: Event) -> None:
    """Append the event id to the delivery log (consumers are idempotent: readers dedupe)."""
    path = os.environ.get(DELIVERY_LOG_ENV)
    if path:
        line = f"{event.id} {event.payload.get('note_id')}\n"
        await asyncio.to_thread(_append, path, line)


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)


module = DomainModule(
    name="notes",
    title="Notes (test module)",
    router=router,
    permissions={"notes.note:read": "Read notes", "notes.note:write": "Write notes"},
    event_handlers={"notes.*": log_delivery},
    seed=seed,
)
