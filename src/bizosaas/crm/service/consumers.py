"""What the CRM does with other domains' events, relayed from their outboxes (at least once).

`commerce.order_placed`: the buyer becomes (or is found as) a person, matched by e-mail
address, with the order on their timeline. The CRM reads only the payload fields of
`OrderPlacedView` (extra fields are ignored), so it keeps working as the order event grows.
Every handler is idempotent: the event's id is stored with the timeline item under a unique
key (`crm_external_events`), so a redelivered event finds it and changes nothing, and two
deliveries racing each other leave one row (the loser's transaction fails on the key and
rolls back whole). Buyers are created without an owner and with the source `store`: under the
`owner` or `team` rule only tenant admins see them until someone takes them on.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bizosaas.crm.events import PERSON_CREATED, PersonCreated
from bizosaas.crm.models import ExternalEvent, Person, RecordType
from bizosaas.crm.schemas import Email
from bizosaas.crm.service.records import refresh_person
from bizosaas.crm.service.values import from_minor
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import trusted_scope

log = structlog.get_logger(__name__)

ORDER_PLACED = "commerce.order_placed"


class OrderPlacedView(BaseModel):
    """The fields of `commerce.order_placed` the CRM reads."""

    model_config = ConfigDict(extra="ignore")

    order_id: uuid.UUID
    email: Email
    number: int | None = None
    first_name: Annotated[str, Field(max_length=100)] = ""
    last_name: Annotated[str, Field(max_length=100)] = ""
    total_minor: int | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None


async def record_order(database: Database, event: Event) -> bool:
    """Put the order of `event` on its buyer's timeline; False when it was there already (or
    the event cannot be read: logged, not retried)."""
    if event.name != ORDER_PLACED or event.tenant_id is None:
        return False
    try:
        order = OrderPlacedView.model_validate(event.payload)
    except ValidationError as error:
        log.warning("crm_order_event_unreadable", event_id=str(event.id), errors=error.errors())
        return False
    try:
        async with database.unit_of_work(trusted_scope(event.tenant_id)) as session:
            seen = await session.scalar(
                select(ExternalEvent.id).where(
                    ExternalEvent.tenant_id == event.tenant_id, ExternalEvent.event_id == event.id
                )
            )
            if seen is not None:
                return False
            buyer = await session.scalar(
                select(Person)
                .where(Person.tenant_id == event.tenant_id, Person.primary_email == order.email)
                .order_by(Person.created_at, Person.id)
                .limit(1)
            )
            if buyer is None:
                buyer = Person(
                    first_name=order.first_name,
                    last_name=order.last_name,
                    emails=[order.email],
                    phones=[],
                    tags=[],
                    custom={},
                    source="store",
                    lifecycle_stage="customer",
                )
                refresh_person(buyer)
                session.add(buyer)
                await session.flush()
                record_event(
                    session,
                    PERSON_CREATED,
                    PersonCreated(person_id=buyer.id, owner_id=None, source="store"),
                )
            amount = ""
            if order.total_minor is not None and order.currency:
                amount = f" ({from_minor(order.total_minor, order.currency)} {order.currency})"
            session.add(
                ExternalEvent(
                    event_id=event.id,
                    name=event.name,
                    record_type=RecordType.person,
                    record_id=buyer.id,
                    summary=f"Order {order.number or order.order_id} placed{amount}",
                    data=order.model_dump(mode="json"),
                    occurred_at=event.occurred_at,
                )
            )
            await session.flush()
    except IntegrityError:
        # Another delivery of the same event committed first: it did the work.
        return False
    return True
