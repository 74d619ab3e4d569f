"""The example module's toolset: what an agent may read of a tenant's notes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select

from bizosaas.kit.module import ToolContext, Toolset
from tests.support.notes.models import Note


class NoteSummary(BaseModel):
    id: str
    body: str


async def search_notes(
    context: ToolContext,
    text: Annotated[str, Field(description="Only notes containing this text (any case).")] = "",
    limit: Annotated[int, Field(ge=1, le=100, description="At most this many notes.")] = 20,
) -> list[NoteSummary]:
    """List the tenant's notes, oldest first, optionally only those containing `text`."""
    query = select(Note).order_by(Note.id).limit(limit)
    if text:
        query = query.where(Note.body.icontains(text))
    async with context.services.database.unit_of_work(context.scope) as session:
        notes = await session.scalars(query)
        return [NoteSummary(id=str(note.id), body=note.body) for note in notes]


toolset = Toolset(
    id="notes",
    title="Notes",
    description="Read the tenant's notes.",
    tools=[search_notes],
)
