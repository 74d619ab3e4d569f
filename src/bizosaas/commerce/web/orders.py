"""The store's orders in the workspace (`/app/commerce/orders`): the list by status, and an
order with its lines, totals, addresses, fulfilments and timeline, and its actions (confirm,
send what is left with a tracking number, cancel, add a note). Actions go through the same
service functions as the staff API, as the signed-in member, so the timeline names them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from bizosaas.commerce.payments import service as payments
from bizosaas.commerce.payments.context import Payments
from bizosaas.commerce.schemas_sales import FulfilmentCreate, LineQuantity, OrderStatus
from bizosaas.commerce.service import orders
from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import WebRoute, act_and_redirect, flash, read_form, redirect

router = APIRouter(prefix="/app/commerce/orders", include_in_schema=False, route_class=WebRoute)
OrderReader = Annotated[Viewer, Depends(require_permission("commerce.order:read"))]
OrderWriter = Annotated[Viewer, Depends(require_permission("commerce.order:write"))]
PaymentWriter = Annotated[Viewer, Depends(require_permission("commerce.payment:write"))]
NAV_LINK = NavLink(
    WebApp.workspace,
    "business",
    "Orders",
    "/app/commerce/orders",
    permission="commerce.order:read",
    icon="inbox",
)
STATUS_LABELS = {
    OrderStatus.unconfirmed: ("unconfirmed", "warning"),
    OrderStatus.unfulfilled: ("to send", "info"),
    OrderStatus.partially_fulfilled: ("partly sent", "info"),
    OrderStatus.fulfilled: ("sent", "success"),
    OrderStatus.cancelled: ("cancelled", "neutral"),
    OrderStatus.returned: ("returned", "neutral"),
    OrderStatus.refunded: ("refunded", "neutral"),
}
EVENT_LABELS = {
    "placed": "Order placed",
    "confirmed": "Confirmed",
    "cancelled": "Cancelled",
    "fulfilled": "Sent",
    "returned": "Returned",
    "note_added": "Note",
    "status_changed": "Status changed",
    "mail_queued": "E-mail to the customer",
    "mail_withheld": "E-mail not sent (the store has no confirmed address yet)",
    "payment_authorization": "Payment authorised",
    "payment_capture": "Payment received",
    "payment_refund": "Refunded",
    "payment_void": "Payment voided",
}
PAGE_SIZE = 50


def _here(order_id: uuid.UUID) -> str:
    return f"/app/commerce/orders/{order_id}"


def _actor(viewer: Viewer) -> orders.Actor:
    return orders.actor_of(viewer.principal)


@router.get("")
async def order_list(
    request: Request,
    viewer: OrderReader,
    session: WorkspaceSession,
    status: OrderStatus | None = None,
    before: int | None = None,
) -> Response:
    rows = await orders.list_orders(
        session, scope=workspace_scope(viewer), status=status, before_number=before, limit=PAGE_SIZE
    )
    context = {
        "title": "Orders",
        "lead": "Newest first. Open an order to confirm, send or cancel it.",
        "orders": rows,
        "status": status.value if status else "",
        "statuses": STATUS_LABELS,
        "next_before": rows[-1].number if len(rows) == PAGE_SIZE else None,
        "live": "commerce.order_placed",
    }
    return page(request, WebApp.workspace, viewer, "commerce/workspace/orders.html", context)


@router.get("/{order_id}")
async def order_detail(
    request: Request, order_id: uuid.UUID, viewer: OrderReader, session: WorkspaceSession
) -> Response:
    scope = workspace_scope(viewer)
    order = await orders.read_order(session, scope=scope, order_id=order_id)
    context = {
        "title": f"Order #{order.number}",
        "lead": f"{order.email} · placed {order.created_at:%Y-%m-%d %H:%M} UTC",
        "order": order,
        "events": list(reversed(await orders.timeline(session, scope=scope, order_id=order_id))),
        "fulfilments": await orders.list_fulfilments(session, scope=scope, order_id=order_id),
        "statuses": STATUS_LABELS,
        "event_labels": EVENT_LABELS,
        "can_act": viewer.can("commerce.order:write"),
        "payments": await payments.list_payments(session, scope=scope, order_id=order_id),
        "can_pay": viewer.can("commerce.payment:write"),
        "left_to_send": [line for line in order.lines if line.quantity > line.fulfilled_quantity],
    }
    return page(request, WebApp.workspace, viewer, "commerce/workspace/order.html", context)


@router.post("/{order_id}/confirm")
async def confirm(
    request: Request, order_id: uuid.UUID, viewer: OrderWriter, session: WorkspaceSession
) -> Response:
    await read_form(request)
    done = orders.confirm_order(
        session, scope=workspace_scope(viewer), order_id=order_id, actor=_actor(viewer)
    )
    return await act_and_redirect(
        request, session, done, done=lambda o: f"Order #{o.number} confirmed.", to=_here(order_id)
    )


@router.post("/{order_id}/cancel")
async def cancel(
    request: Request, order_id: uuid.UUID, viewer: OrderWriter, session: WorkspaceSession
) -> Response:
    await read_form(request)
    done = orders.cancel_order(
        session, scope=workspace_scope(viewer), order_id=order_id, actor=_actor(viewer)
    )
    return await act_and_redirect(
        request,
        session,
        done,
        done=lambda o: f"Order #{o.number} cancelled; its stock is free again.",
        to=_here(order_id),
    )


@router.post("/{order_id}/fulfil")
async def send_rest(
    request: Request, order_id: uuid.UUID, viewer: OrderWriter, session: WorkspaceSession
) -> Response:
    """Send everything not sent yet, with the tracking number given."""
    values = await read_form(request)
    scope = workspace_scope(viewer)
    order = await orders.read_order(session, scope=scope, order_id=order_id)
    left = [
        LineQuantity(line_id=line.id, quantity=line.quantity - line.fulfilled_quantity)
        for line in order.lines
        if line.quantity > line.fulfilled_quantity
    ]
    tracking = values.get("tracking_number", "").strip()
    if not left or len(tracking) > 100:
        problem = "Nothing left to send." if not left else "Use at most 100 characters."
        flash(request, problem, "error")
        return redirect(request, _here(order_id))
    data = FulfilmentCreate(
        lines=left,
        tracking_number=tracking or None,
        notify_customer=values.get("notify_customer") == "1",
    )
    done = orders.fulfil(session, scope=scope, order_id=order_id, data=data, actor=_actor(viewer))
    return await act_and_redirect(
        request, session, done, done=lambda _: "Sent.", to=_here(order_id)
    )


@router.post("/{order_id}/notes")
async def add_note(
    request: Request, order_id: uuid.UUID, viewer: OrderWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    message = values.get("message", "").strip()
    if not message or len(message) > 5000:
        flash(request, "Write a note of up to 5,000 characters.", "error")
        return redirect(request, _here(order_id))
    done = orders.add_note(
        session,
        scope=workspace_scope(viewer),
        order_id=order_id,
        message=message,
        actor=_actor(viewer),
    )
    return await act_and_redirect(
        request, session, done, done=lambda _: "Note added.", to=_here(order_id)
    )


@router.post("/{order_id}/payments/{payment_id}/{action}")
async def payment_action(
    request: Request,
    *,
    order_id: uuid.UUID,
    payment_id: uuid.UUID,
    action: str,
    viewer: PaymentWriter,
    session: WorkspaceSession,
    context: Payments,
) -> Response:
    """Mark a manual payment's money received (capture), or refund all of what was captured."""
    await read_form(request)
    scope = workspace_scope(viewer)
    if action == "capture":
        done = payments.capture_payment(
            session, context=context, scope=scope, payment_id=payment_id
        )
        said = "Payment marked as received."
    elif action == "refund":
        done = payments.refund_payment(session, context=context, scope=scope, payment_id=payment_id)
        said = "Refunded."
    else:
        flash(request, "Unknown payment action.", "error")
        return redirect(request, _here(order_id))
    return await act_and_redirect(request, session, done, done=lambda _: said, to=_here(order_id))
