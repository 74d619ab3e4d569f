"""A test module whose writes accept `Idempotency-Key` (loaded as an extra module, `idem`).

`POST /notes` writes a note (the shared `test_notes` table) and an outbox event, so a test can
count how often it really ran. The app's state steers it from outside the request, so a retry
can send the very same body: `notes_gate` (entered, release) holds it after the key is
reserved; `notes_outage` makes it fail ("exception", "problem_503" or "returned_503").
`POST /counter` is a platform-level write (no tenant), for callers without a tenant.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from starlette.responses import JSONResponse

from bizosaas.kit.auth import CurrentPrincipal, TenantSession
from bizosaas.kit.deps import DbSession
from bizosaas.kit.errors import Conflict, ServiceUnavailable
from bizosaas.kit.idempotency import IdempotencyKey, IdempotentRoute
from bizosaas.kit.meta import get_fact, set_fact
from bizosaas.kit.module import DomainModule, EventType
from bizosaas.kit.outbox import record_event
from tests.support.notes.models import Note

COUNTER_FACT = "test.idempotency_counter"


class NoteWritten(BaseModel):
    note_id: uuid.UUID


NOTE_WRITTEN = EventType("idem.note_written", NoteWritten, "A note was written.")


class NoteCreate(BaseModel):
    body: str = Field(min_length=1, max_length=500)


class NoteRead(BaseModel):
    id: uuid.UUID
    body: str
    notes_in_tenant: int


class Counter(BaseModel):
    value: int


class BodyTaken(Conflict):
    code = "idem.body_taken"
    title = "That body is taken"


class Gate:
    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()


router = APIRouter(tags=["idempotency (test module)"], route_class=IdempotentRoute)
plain_router = APIRouter(tags=["idempotency (test module)"])


@router.post(
    "/notes",
    status_code=201,
    response_model=NoteRead,
    summary="Write a note",
    dependencies=[IdempotencyKey],
)
async def create_note(
    payload: NoteCreate, request: Request, response: Response, session: TenantSession
) -> Any:
    gate: Gate | None = getattr(request.app.state, "notes_gate", None)
    if gate is not None:
        gate.entered.set()
        await gate.release.wait()
    outage = getattr(request.app.state, "notes_outage", None)
    if outage == "returned_503":
        return JSONResponse({"detail": "down"}, status_code=503)
    note = Note(body=payload.body)
    session.add(note)
    await session.flush()
    record_event(session, NOTE_WRITTEN, NoteWritten(note_id=note.id))
    if outage == "exception":
        raise RuntimeError("the disk is on fire")
    if outage == "problem_503":
        raise ServiceUnavailable("Try again later.")
    if payload.body == "taken":
        raise BodyTaken("Someone wrote that already.")
    count = await session.scalar(select(func.count()).select_from(Note))
    response.headers["Location"] = f"{request.url.path}/{note.id}"
    return NoteRead(id=note.id, body=note.body, notes_in_tenant=count or 0)


@router.post(
    "/counter", status_code=201, summary="Count up (platform-level)", dependencies=[IdempotencyKey]
)
async def count_up(principal: CurrentPrincipal, session: DbSession) -> Counter:
    value = int(await get_fact(session, COUNTER_FACT) or 0) + 1
    await set_fact(session, COUNTER_FACT, str(value))
    return Counter(value=value)


@plain_router.post(
    "/misdeclared",
    status_code=201,
    summary="Lists the key without the route class",
    dependencies=[IdempotencyKey],
)
async def misdeclared(principal: CurrentPrincipal) -> Counter:
    return Counter(value=1)


router.include_router(plain_router)
module = DomainModule(
    name="idem", title="Idempotency (test module)", router=router, events=[NOTE_WRITTEN]
)
