"""The example module's events."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from bizosaas.kit.module import EventType


class NoteCreated(BaseModel):
    note_id: uuid.UUID
    body: str = Field(max_length=500, description="The note's text.")


NOTE_CREATED = EventType("notes.created", NoteCreated, description="A note was written.")
