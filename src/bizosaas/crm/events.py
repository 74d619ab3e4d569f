"""CRM events, written to the outbox with the change that caused them."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from bizosaas.kit.module import EventType


class PersonCreated(BaseModel):
    person_id: uuid.UUID = Field(description="The new person.")
    owner_id: uuid.UUID | None = Field(description="The member who owns the record, if any.")
    source: str | None = Field(max_length=100, description="Where the person came from.")


class DealStageChanged(BaseModel):
    deal_id: uuid.UUID = Field(description="The deal that moved.")
    pipeline_id: uuid.UUID = Field(description="Its pipeline.")
    from_stage_id: uuid.UUID | None = Field(description="The stage it left (None when created).")
    to_stage_id: uuid.UUID = Field(description="The stage it is in now.")
    status: str = Field(max_length=10, description="`open`, `won` or `lost` after the move.")


PERSON_CREATED = EventType(
    "crm.person_created", PersonCreated, description="A person was added to the CRM."
)
DEAL_STAGE_CHANGED = EventType(
    "crm.deal_stage_changed",
    DealStageChanged,
    description="A deal was created in a stage, moved to another, won or lost.",
)

CRM_EVENTS: list[EventType[Any]] = [PERSON_CREATED, DEAL_STAGE_CHANGED]
