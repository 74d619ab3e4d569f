"""Fed by the platform: a commerce order puts its buyer in the CRM (matched by e-mail) with
the order on their timeline, and the same event delivered twice leaves one timeline item."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI

from bizosaas.commerce.events import OrderPlaced
from bizosaas.crm import module
from bizosaas.kit.events import Event
from tests.crm.conftest import Crm, person


def order_event(tenant_id: uuid.UUID, *, email: str, number: int = 1001, **extra: object) -> Event:
    """`commerce.order_placed` as commerce writes it (its own payload model), plus `extra`."""
    placed = OrderPlaced(
        order_id=uuid.uuid4(),
        number=number,
        channel_id=uuid.uuid4(),
        customer_user_id=None,
        email=email,
        currency="EUR",
        total_minor=4250,
        lines=1,
    )
    return Event(
        id=uuid.uuid4(),
        name="commerce.order_placed",
        occurred_at=datetime.now(UTC),
        payload={**placed.model_dump(mode="json"), **extra},
        tenant_id=tenant_id,
    )


async def deliver(app: FastAPI, event: Event) -> None:
    handler = module.event_handlers["commerce.order_*"]
    await handler(event, app.state.services)


async def test_an_order_upserts_its_buyer_once(app: FastAPI, crm: Crm, rival: Crm) -> None:
    event = order_event(
        crm.account.tenant_id,
        email="Buyer@Example.com",
        first_name="Bea",
        last_name="Buyer",
    )
    await deliver(app, event)
    await deliver(app, event)
    people = (await crm.ok("GET", "/people"))["items"]
    assert [(p["first_name"], p["emails"], p["source"]) for p in people] == [
        ("Bea", ["buyer@example.com"], "store")
    ]
    timeline = await crm.ok("GET", f"/timeline/person/{people[0]['id']}")
    assert [item["event"]["summary"] for item in timeline] == ["Order 1001 placed (42.50 EUR)"]
    assert (await rival.ok("GET", "/people"))["items"] == []

    second = order_event(crm.account.tenant_id, email="buyer@example.com", number=1002)
    await deliver(app, second)
    again = (await crm.ok("GET", "/people"))["items"]
    assert len(again) == 1
    assert len(await crm.ok("GET", f"/timeline/person/{again[0]['id']}")) == 2


async def test_an_existing_person_is_found_by_address(app: FastAPI, crm: Crm) -> None:
    known = await person(crm, "Known", "Customer", emails=["known@example.com"])
    await deliver(app, order_event(crm.account.tenant_id, email="KNOWN@example.com"))
    assert [p["id"] for p in (await crm.ok("GET", "/people"))["items"]] == [known["id"]]
    timeline = await crm.ok("GET", f"/timeline/person/{known['id']}")
    assert [item["kind"] for item in timeline] == ["event"]


async def test_unreadable_and_other_events_change_nothing(app: FastAPI, crm: Crm) -> None:
    await deliver(app, order_event(crm.account.tenant_id, email="not-an-address"))
    other = order_event(crm.account.tenant_id, email="x@example.com")
    await deliver(
        app,
        Event(
            other.id, "commerce.order_cancelled", other.occurred_at, other.payload, other.tenant_id
        ),
    )
    assert (await crm.ok("GET", "/people"))["items"] == []
