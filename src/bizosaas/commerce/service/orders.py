"""Orders after they are placed: the status machine, payments as the payments component reports
them, fulfilments, cancellation, returns, notes, and the timeline that records every change
(what, who, when), as Saleor's order events do.

Status machine (anything else answers 409 `commerce.invalid_transition`):

    unconfirmed          -> unfulfilled, cancelled
    unfulfilled          -> partially_fulfilled, fulfilled, cancelled, refunded
    partially_fulfilled  -> partially_fulfilled, fulfilled, returned, refunded
    fulfilled            -> returned, refunded
    returned             -> returned, refunded
    cancelled            -> refunded
    refunded             -> (final)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository_sales as sales
from bizosaas.commerce.currencies import from_minor
from bizosaas.commerce.events import (
    ORDER_CANCELLED,
    ORDER_FULFILLED,
    ORDER_PAID,
    OrderChanged,
    OrderFulfilled,
)
from bizosaas.commerce.exceptions import CommerceNotFound, InvalidQuantity, InvalidTransition
from bizosaas.commerce.models import Fulfilment, Order, OrderEvent, OrderLine, Stock
from bizosaas.commerce.schemas_sales import (
    CheckoutTotals,
    FulfilmentCreate,
    FulfilmentRead,
    LineQuantity,
    OrderEventRead,
    OrderLineRead,
    OrderRead,
    OrderStatus,
    OrderSummary,
    PaymentEventKind,
    PaymentStatus,
    ReturnCreate,
)
from bizosaas.commerce.service import inventory
from bizosaas.commerce.service.shipping import from_basis_points
from bizosaas.identity.events import MAIL_REQUESTED, MailRequested
from bizosaas.identity.service import tenant_may_send
from bizosaas.kit.auth import Principal
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import TenantScope, bind_tenant

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.unconfirmed: frozenset({S.unfulfilled, S.cancelled}),
    S.unfulfilled: frozenset({S.partially_fulfilled, S.fulfilled, S.cancelled, S.refunded}),
    S.partially_fulfilled: frozenset({S.partially_fulfilled, S.fulfilled, S.returned, S.refunded}),
    S.fulfilled: frozenset({S.returned, S.refunded}),
    S.returned: frozenset({S.returned, S.refunded}),
    S.cancelled: frozenset({S.refunded}),
    S.refunded: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, as the timeline shows it: `user`, `api_key`, `service` (a principal),
    `customer` (the storefront) or `system`."""

    kind: str
    id: uuid.UUID | None = None


SYSTEM = Actor("system")


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.kind.value, principal.subject)


# -- reading ------------------------------------------------------------------------------------


def order_read(order: Order, lines: Sequence[OrderLine]) -> OrderRead:
    currency = order.currency

    def money(amount_minor: int) -> Any:
        return from_minor(amount_minor, currency)

    return OrderRead(
        id=order.id,
        number=order.number,
        status=OrderStatus(order.status),
        payment_status=PaymentStatus(order.payment_status),
        channel_id=order.channel_id,
        customer_user_id=order.customer_user_id,
        email=order.email,
        currency=currency,
        prices_include_tax=order.prices_include_tax,
        lines=[
            OrderLineRead(
                id=line.id,
                variant_id=line.variant_id,
                sku=line.sku,
                product_name=line.product_name,
                variant_name=line.variant_name,
                quantity=line.quantity,
                unit_price=money(line.unit_price_minor),
                discount=money(line.discount_minor),
                tax_rate=from_basis_points(line.tax_rate_bp),
                tax=money(line.tax_minor),
                total=money(line.total_minor),
                fulfilled_quantity=line.fulfilled_quantity,
                returned_quantity=line.returned_quantity,
            )
            for line in lines
        ],
        totals=CheckoutTotals(
            subtotal=money(order.subtotal_minor),
            discount=money(order.discount_minor),
            shipping=money(order.shipping_minor),
            tax=money(order.tax_minor),
            total=money(order.total_minor),
        ),
        paid=money(order.paid_minor),
        refunded=money(order.refunded_minor),
        billing_address=order.billing_address,
        shipping_address=order.shipping_address,
        shipping_method_name=order.shipping_method_name,
        voucher_code=order.voucher_code,
        created_at=order.created_at,
    )


async def find_order(session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID) -> Order:
    await bind_tenant(session, scope)
    order = await sales.order(session, scope=scope, order_id=order_id)
    if order is None:
        raise CommerceNotFound(f"No order {order_id} in this store.")
    return order


async def read_order(
    session: AsyncSession,
    *,
    scope: TenantScope,
    order_id: uuid.UUID,
    customer_user_id: uuid.UUID | None = None,
) -> OrderRead:
    """One order; with `customer_user_id`, only if it is that customer's (404 otherwise)."""
    order = await find_order(session, scope=scope, order_id=order_id)
    if customer_user_id is not None and order.customer_user_id != customer_user_id:
        raise CommerceNotFound(f"No order {order_id} in this store.")
    return order_read(order, await sales.order_lines(session, scope=scope, order_id=order.id))


async def list_orders(
    session: AsyncSession,
    *,
    scope: TenantScope,
    limit: int = 50,
    before_number: int | None = None,
    customer_user_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
) -> list[OrderSummary]:
    await bind_tenant(session, scope)
    rows = await sales.list_orders(
        session,
        scope=scope,
        limit=limit,
        before_number=before_number,
        customer_user_id=customer_user_id,
        status=None if status is None else status.value,
    )
    return [
        OrderSummary(
            id=row.id,
            number=row.number,
            status=OrderStatus(row.status),
            payment_status=PaymentStatus(row.payment_status),
            email=row.email,
            currency=row.currency,
            total=from_minor(row.total_minor, row.currency),
            created_at=row.created_at,
        )
        for row in rows
    ]


async def timeline(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID
) -> list[OrderEventRead]:
    order = await find_order(session, scope=scope, order_id=order_id)
    return [
        OrderEventRead.model_validate(event, from_attributes=True)
        for event in await sales.order_events(session, scope=scope, order_id=order.id)
    ]


async def list_fulfilments(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID
) -> list[FulfilmentRead]:
    order = await find_order(session, scope=scope, order_id=order_id)
    return [
        _fulfilment_read(row)
        for row in await sales.fulfilments(session, scope=scope, order_id=order.id)
    ]


def _fulfilment_read(fulfilment: Fulfilment) -> FulfilmentRead:
    return FulfilmentRead(
        id=fulfilment.id,
        order_id=fulfilment.order_id,
        tracking_number=fulfilment.tracking_number,
        lines=[LineQuantity.model_validate(line) for line in fulfilment.lines],
        created_at=fulfilment.created_at,
    )


# -- the timeline and the status machine --------------------------------------------------------


def add_event(session: AsyncSession, order: Order, kind: str, actor: Actor, **data: Any) -> None:
    session.add(
        OrderEvent(
            order_id=order.id, kind=kind, actor_kind=actor.kind, actor_id=actor.id, data=data
        )
    )


def move(session: AsyncSession, order: Order, to: OrderStatus, actor: Actor) -> None:
    """Change the order's status if the machine allows it (see the module doc)."""
    current = OrderStatus(order.status)
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"An order that is {current.value} cannot become {to.value}.",
            current_status=current.value,
            requested_status=to.value,
        )
    if to is not current:
        add_event(
            session, order, "status_changed", actor, **{"from": current.value, "to": to.value}
        )
        order.status = to.value


def _changed(order: Order) -> OrderChanged:
    return OrderChanged(
        order_id=order.id,
        number=order.number,
        status=order.status,
        payment_status=order.payment_status,
    )


async def mail_customer(
    session: AsyncSession, *, scope: TenantScope, order: Order, subject: str, body: str
) -> bool:
    """Queue a mail to the order's customer through the outbox mailer, if the store may send
    mail yet (identity's rule: once a tenant admin has a verified address). The timeline says
    either way."""
    if not await tenant_may_send(session, scope=scope):
        add_event(session, order, "mail_withheld", SYSTEM, subject=subject)
        return False
    record_event(session, MAIL_REQUESTED, MailRequested(to=order.email, subject=subject, body=body))
    add_event(session, order, "mail_queued", SYSTEM, subject=subject)
    return True


# -- staff actions ------------------------------------------------------------------------------


async def confirm_order(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID, actor: Actor
) -> OrderRead:
    order = await find_order(session, scope=scope, order_id=order_id)
    move(session, order, OrderStatus.unfulfilled, actor)
    add_event(session, order, "confirmed", actor)
    await session.flush()
    return await read_order(session, scope=scope, order_id=order.id)


async def cancel_order(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID, actor: Actor
) -> OrderRead:
    """Cancel an order nothing of which was sent, and free its allocated stock."""
    order = await find_order(session, scope=scope, order_id=order_id)
    move(session, order, OrderStatus.cancelled, actor)
    for line in await sales.order_lines(session, scope=scope, order_id=order.id):
        if line.variant_id is not None and line.warehouse_id is not None:
            await inventory.release(
                session,
                scope=scope,
                variant_id=line.variant_id,
                warehouse_id=line.warehouse_id,
                quantity=line.quantity,
            )
    add_event(session, order, "cancelled", actor)
    record_event(session, ORDER_CANCELLED, _changed(order))
    await session.flush()
    return await read_order(session, scope=scope, order_id=order.id)


async def fulfil(
    session: AsyncSession,
    *,
    scope: TenantScope,
    order_id: uuid.UUID,
    data: FulfilmentCreate,
    actor: Actor,
) -> FulfilmentRead:
    """Send (part of) an order: the allocated stock leaves the warehouse, the status becomes
    partially fulfilled or fulfilled, `commerce.order_fulfilled` goes out, and the customer
    gets a "shipped" mail unless `notify_customer` is false."""
    order = await find_order(session, scope=scope, order_id=order_id)
    lines = {
        line.id: line for line in await sales.order_lines(session, scope=scope, order_id=order.id)
    }
    wanted = _merge(data.lines)
    for line_id, quantity in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise CommerceNotFound(f"No line {line_id} in this order.")
        if line.fulfilled_quantity + quantity > line.quantity:
            raise InvalidQuantity(
                f"{line.sku}: {line.quantity - line.fulfilled_quantity} left to send.",
                line_id=str(line_id),
            )
    done = all(
        line.fulfilled_quantity + wanted.get(line.id, 0) == line.quantity for line in lines.values()
    )
    move(session, order, OrderStatus.fulfilled if done else OrderStatus.partially_fulfilled, actor)
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        line.fulfilled_quantity += quantity
        if line.variant_id is not None and line.warehouse_id is not None:
            await _ship_stock(session, scope, line, quantity)
    fulfilment = Fulfilment(
        order_id=order.id,
        tracking_number=data.tracking_number,
        lines=[{"line_id": str(key), "quantity": value} for key, value in wanted.items()],
    )
    session.add(fulfilment)
    await session.flush()
    add_event(
        session,
        order,
        "fulfilled",
        actor,
        fulfilment_id=str(fulfilment.id),
        tracking_number=data.tracking_number,
        lines=fulfilment.lines,
    )
    record_event(
        session,
        ORDER_FULFILLED,
        OrderFulfilled(
            **_changed(order).model_dump(),
            fulfilment_id=fulfilment.id,
            tracking_number=data.tracking_number,
        ),
    )
    if data.notify_customer:
        tracking = f"\nTracking number: {data.tracking_number}" if data.tracking_number else ""
        await mail_customer(
            session,
            scope=scope,
            order=order,
            subject=f"Order {order.number} has shipped",
            body=f"Your order {order.number} is on its way.{tracking}\n",
        )
    await session.flush()
    return _fulfilment_read(fulfilment)


async def _ship_stock(
    session: AsyncSession, scope: TenantScope, line: OrderLine, quantity: int
) -> None:
    """The allocated units leave the warehouse (one conditional UPDATE, as allocation)."""
    result = await session.execute(
        update(Stock)
        .where(
            Stock.tenant_id == scope.tenant_id,
            Stock.variant_id == line.variant_id,
            Stock.warehouse_id == line.warehouse_id,
            Stock.allocated >= quantity,
        )
        .values(allocated=Stock.allocated - quantity)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0)) != 1:
        raise InvalidQuantity(f"{line.sku}: not {quantity} allocated to send.")


async def record_return(
    session: AsyncSession,
    *,
    scope: TenantScope,
    order_id: uuid.UUID,
    data: ReturnCreate,
    actor: Actor,
) -> OrderRead:
    """Goods sent back by the customer (at most what was sent of each line)."""
    order = await find_order(session, scope=scope, order_id=order_id)
    lines = {
        line.id: line for line in await sales.order_lines(session, scope=scope, order_id=order.id)
    }
    wanted = _merge(data.lines)
    for line_id, quantity in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise CommerceNotFound(f"No line {line_id} in this order.")
        if line.returned_quantity + quantity > line.fulfilled_quantity:
            raise InvalidQuantity(
                f"{line.sku}: {line.fulfilled_quantity - line.returned_quantity} sent and not "
                "returned yet.",
                line_id=str(line_id),
            )
    move(session, order, OrderStatus.returned, actor)
    for line_id, quantity in wanted.items():
        lines[line_id].returned_quantity += quantity
    add_event(
        session,
        order,
        "returned",
        actor,
        lines=[{"line_id": str(key), "quantity": value} for key, value in wanted.items()],
    )
    await session.flush()
    return await read_order(session, scope=scope, order_id=order.id)


async def add_note(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID, message: str, actor: Actor
) -> list[OrderEventRead]:
    order = await find_order(session, scope=scope, order_id=order_id)
    add_event(session, order, "note_added", actor, message=message)
    await session.flush()
    return await timeline(session, scope=scope, order_id=order.id)


def _merge(lines: Sequence[LineQuantity]) -> dict[uuid.UUID, int]:
    merged: dict[uuid.UUID, int] = {}
    for line in lines:
        merged[line.line_id] = merged.get(line.line_id, 0) + line.quantity
    return merged


# -- payments (driven by the payments component) ------------------------------------------------


async def record_payment_event(
    session: AsyncSession,
    *,
    scope: TenantScope,
    order_id: uuid.UUID,
    kind: PaymentEventKind,
    amount_minor: int,
    reference: str | None = None,
    actor: Actor = SYSTEM,
) -> OrderRead:
    """What a payment provider did for the order (an authorisation, a capture, a refund, a
    void), in the order's currency minor units: appended to the timeline, and the payment
    status follows. Captures up to the total make it `paid` (and send `commerce.order_paid`);
    refunds may not exceed what was captured; refunding everything makes the payment status,
    and the order's status where the machine allows, `refunded` (and mails the customer).
    The caller owns idempotency (a provider's event id, an Idempotency-Key)."""
    order = await find_order(session, scope=scope, order_id=order_id)
    if amount_minor < 0:
        raise InvalidQuantity("A payment amount is never negative.")
    was = PaymentStatus(order.payment_status)
    if kind is PaymentEventKind.authorization:
        if order.paid_minor == 0:
            order.payment_status = PaymentStatus.authorized.value
    elif kind is PaymentEventKind.void:
        if was is PaymentStatus.authorized:
            order.payment_status = PaymentStatus.not_charged.value
    elif kind is PaymentEventKind.capture:
        if order.paid_minor + amount_minor > order.total_minor:
            raise InvalidQuantity("More captured than the order's total.")
        order.paid_minor += amount_minor
        order.payment_status = (
            PaymentStatus.paid
            if order.paid_minor >= order.total_minor
            else PaymentStatus.partially_paid
        ).value
    else:
        if order.refunded_minor + amount_minor > order.paid_minor:
            raise InvalidQuantity("More refunded than was captured.")
        order.refunded_minor += amount_minor
        fully = order.refunded_minor >= order.paid_minor
        order.payment_status = (
            PaymentStatus.refunded if fully else PaymentStatus.partially_refunded
        ).value
        if fully and OrderStatus.refunded in TRANSITIONS[OrderStatus(order.status)]:
            move(session, order, OrderStatus.refunded, actor)
        amount = from_minor(amount_minor, order.currency)
        await mail_customer(
            session,
            scope=scope,
            order=order,
            subject=f"Refund for order {order.number}",
            body=f"We refunded {amount} {order.currency} for your order {order.number}.\n",
        )
    add_event(
        session,
        order,
        f"payment_{kind.value}",
        actor,
        amount=str(from_minor(amount_minor, order.currency)),
        reference=reference,
        payment_status=order.payment_status,
    )
    if order.payment_status == PaymentStatus.paid.value and was is not PaymentStatus.paid:
        record_event(session, ORDER_PAID, _changed(order))
    await session.flush()
    return await read_order(session, scope=scope, order_id=order.id)
