"""Orders (staff API): list and read, the timeline, confirm, fulfil, cancel, returns, notes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import OrderReader, OrderWriter
from bizosaas.commerce.schemas_sales import (
    FulfilmentCreate,
    FulfilmentRead,
    NoteCreate,
    OrderEventRead,
    OrderRead,
    OrderStatus,
    OrderSummary,
    ReturnCreate,
)
from bizosaas.commerce.service import orders
from bizosaas.kit.auth import TenantSession, scope_of

router = APIRouter(tags=["commerce: orders"])
TRANSITION = "`commerce.invalid_transition`"


@router.get("/orders", summary="Orders of my store, newest first")
async def list_orders(
    principal: OrderReader,
    session: TenantSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Orders numbered below this.")
    ] = None,
    status: OrderStatus | None = None,
) -> list[OrderSummary]:
    return await orders.list_orders(
        session, scope=scope_of(principal), limit=limit, before_number=before, status=status
    )


@router.get("/orders/{order_id}", summary="One order with its lines", responses=errors())
async def read_order(
    order_id: uuid.UUID, principal: OrderReader, session: TenantSession
) -> OrderRead:
    return await orders.read_order(session, scope=scope_of(principal), order_id=order_id)


@router.get(
    "/orders/{order_id}/timeline",
    summary="Everything that happened to an order: what, who, when",
    responses=errors(),
)
async def order_timeline(
    order_id: uuid.UUID, principal: OrderReader, session: TenantSession
) -> list[OrderEventRead]:
    return await orders.timeline(session, scope=scope_of(principal), order_id=order_id)


@router.post(
    "/orders/{order_id}/confirm",
    summary="Confirm an unconfirmed order (it becomes unfulfilled: ready to send)",
    responses=errors(conflicts=TRANSITION),
)
async def confirm_order(
    order_id: uuid.UUID, principal: OrderWriter, session: TenantSession
) -> OrderRead:
    return await orders.confirm_order(
        session, scope=scope_of(principal), order_id=order_id, actor=orders.actor_of(principal)
    )


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel an order nothing of which was sent; its stock is freed",
    responses=errors(conflicts=TRANSITION),
)
async def cancel_order(
    order_id: uuid.UUID, principal: OrderWriter, session: TenantSession
) -> OrderRead:
    return await orders.cancel_order(
        session, scope=scope_of(principal), order_id=order_id, actor=orders.actor_of(principal)
    )


@router.get("/orders/{order_id}/fulfilments", summary="An order's parcels", responses=errors())
async def list_fulfilments(
    order_id: uuid.UUID, principal: OrderReader, session: TenantSession
) -> list[FulfilmentRead]:
    return await orders.list_fulfilments(session, scope=scope_of(principal), order_id=order_id)


@router.post(
    "/orders/{order_id}/fulfilments",
    status_code=201,
    summary="Send lines of an order (with a tracking number); mails the customer",
    responses=errors(conflicts=f"{TRANSITION}, `commerce.invalid_quantity`"),
)
async def fulfil(
    order_id: uuid.UUID, data: FulfilmentCreate, principal: OrderWriter, session: TenantSession
) -> FulfilmentRead:
    return await orders.fulfil(
        session,
        scope=scope_of(principal),
        order_id=order_id,
        data=data,
        actor=orders.actor_of(principal),
    )


@router.post(
    "/orders/{order_id}/returns",
    summary="Record goods the customer sent back",
    responses=errors(conflicts=f"{TRANSITION}, `commerce.invalid_quantity`"),
)
async def record_return(
    order_id: uuid.UUID, data: ReturnCreate, principal: OrderWriter, session: TenantSession
) -> OrderRead:
    return await orders.record_return(
        session,
        scope=scope_of(principal),
        order_id=order_id,
        data=data,
        actor=orders.actor_of(principal),
    )


@router.post(
    "/orders/{order_id}/notes",
    status_code=201,
    summary="Add a note to an order's timeline",
    responses=errors(),
)
async def add_note(
    order_id: uuid.UUID, data: NoteCreate, principal: OrderWriter, session: TenantSession
) -> list[OrderEventRead]:
    return await orders.add_note(
        session,
        scope=scope_of(principal),
        order_id=order_id,
        message=data.message,
        actor=orders.actor_of(principal),
    )
