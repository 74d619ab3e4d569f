"""Where orders and payments meet: the payment of an order, and what a payment's change does
to its order.

`pay_order` opens a payment of what an order still owes, with a provider (the storefront
uses the manual provider: bank transfer or cash on delivery). `apply_payment_change` is the
payment context's `on_payment_event` hook: each authorisation, capture, void or refund of a
payment lands on its order (timeline, payment status, `commerce.order_paid` once paid) in the
same unit of work, so an order and its payments never disagree.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.payments import service as payments
from bizosaas.commerce.payments.context import PaymentChange, PaymentChangeKind, PaymentContext
from bizosaas.commerce.payments.providers.base import Payable
from bizosaas.commerce.payments.schemas import PaymentRead
from bizosaas.commerce.schemas_sales import PaymentEventKind
from bizosaas.commerce.service import orders
from bizosaas.kit.tenancy import TenantScope

EVENT_OF_CHANGE = {
    PaymentChangeKind.authorized: PaymentEventKind.authorization,
    PaymentChangeKind.captured: PaymentEventKind.capture,
    PaymentChangeKind.voided: PaymentEventKind.void,
    PaymentChangeKind.refunded: PaymentEventKind.refund,
}


async def apply_payment_change(session: AsyncSession, change: PaymentChange) -> None:
    payment = change.payment
    kind = EVENT_OF_CHANGE.get(change.change)
    if kind is None:  # a declined or failed attempt: the order owes what it owed
        order = await orders.find_order(session, scope=change.scope, order_id=payment.order_id)
        orders.add_event(
            session,
            order,
            "payment_failed",
            orders.SYSTEM,
            provider=payment.provider,
            reference=payment.provider_reference,
        )
        return
    await orders.record_payment_event(
        session,
        scope=change.scope,
        order_id=payment.order_id,
        kind=kind,
        amount_minor=change.amount_minor,
        reference=payment.provider_reference,
    )


async def pay_order(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    order_id: uuid.UUID,
    provider_name: str,
    payment_method: str | None = None,
) -> PaymentRead:
    """Open a payment of the order's total less what is paid, with the provider named."""
    order = await orders.find_order(session, scope=scope, order_id=order_id)
    payable = Payable(
        scope=scope,
        order_id=order.id,
        amount_minor=order.total_minor - order.paid_minor,
        currency=order.currency,
        customer_email=order.email,
        description=f"Order {order.number}",
    )
    return await payments.start_payment(
        session,
        context=context,
        payable=payable,
        provider_name=provider_name,
        payment_method=payment_method,
    )
