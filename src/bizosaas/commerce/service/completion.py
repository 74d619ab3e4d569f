"""Completing a checkout: the one transaction that turns a cart into an order.

In order, within the caller's unit of work (any refusal undoes all of it):
1. the checkout must be open and complete (lines, e-mail, addresses, a shipping method that
   serves the address), its prices still the channel's, its voucher still usable;
2. it is closed by a conditional UPDATE (`completed_at IS NULL`), so two completions of one
   checkout cannot both pass;
3. each line's stock is allocated by inventory's conditional UPDATE (never read-then-write);
   any shortfall answers 409 `commerce.insufficient_stock` and nothing is written;
4. the voucher's uses are counted by conditional UPDATEs (its limits hold under concurrency);
5. the order number is taken from the tenant's counter last, so the row lock that orders
   concurrent completions is held as briefly as possible, and a rollback leaves no gap;
6. the order snapshots lines, prices, taxes, addresses and the shipping method; its timeline
   starts; `commerce.order_placed` and the confirmation mail go to the outbox.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository_sales as sales
from bizosaas.commerce.currencies import from_minor
from bizosaas.commerce.events import ORDER_PLACED, OrderPlaced
from bizosaas.commerce.exceptions import (
    CheckoutCompleted,
    CheckoutIncomplete,
    PriceChanged,
    ShippingUnavailable,
    VoucherInvalid,
)
from bizosaas.commerce.models import Order, OrderLine
from bizosaas.commerce.schemas_sales import OrderRead, OrderStatus, PaymentStatus
from bizosaas.commerce.service import discounts, inventory, orders
from bizosaas.commerce.service.checkout import current_price, find_checkout, price
from bizosaas.kit.db import utcnow
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import TenantScope


async def complete_checkout(
    session: AsyncSession, *, scope: TenantScope, token: str, actor: orders.Actor
) -> OrderRead:
    now = utcnow()
    checkout = await find_checkout(session, scope=scope, token=token)
    priced = await price(session, scope=scope, checkout=checkout, now=now)
    missing = [
        name
        for name, present in (
            ("lines", bool(priced.rows)),
            ("email", bool(checkout.email)),
            ("billing_address", checkout.billing_address is not None),
            ("shipping_address", checkout.shipping_address is not None),
            ("shipping_method", checkout.shipping_method_id is not None),
        )
        if not present
    ]
    if missing:
        raise CheckoutIncomplete(f"Missing: {', '.join(missing)}.", missing=missing)
    if priced.shipping is None:
        raise ShippingUnavailable("The chosen shipping method no longer serves this checkout.")
    if checkout.voucher_code and priced.voucher is None:
        # Say why: `usable_voucher` raises voucher_invalid or voucher_exhausted.
        found = await sales.voucher_by_code(session, scope=scope, code=checkout.voucher_code)
        discounts.usable_voucher(found, channel_id=checkout.channel_id, now=now)
        raise VoucherInvalid("The checkout's voucher can no longer be used; remove it.")
    changed = []
    for line, variant, _ in priced.rows:
        now_minor = await current_price(
            session, scope=scope, variant=variant, channel=priced.channel, now=now
        )
        if now_minor != line.unit_price_minor:
            changed.append(str(line.id))
    if changed:
        raise PriceChanged(
            "Prices changed since these lines were added; update them to accept the new price.",
            lines=changed,
        )
    if not await sales.mark_completed(session, scope=scope, checkout_id=checkout.id, now=now):
        raise CheckoutCompleted("This checkout is an order already.")

    warehouses = []
    for line, variant, _ in priced.rows:
        allocation = await inventory.allocate(
            session, scope=scope, variant_id=variant.id, quantity=line.quantity
        )
        warehouses.append(allocation.warehouse_id)
    email = checkout.email
    assert email is not None
    if priced.voucher is not None and priced.totals.voucher_applied:
        customer = str(checkout.customer_user_id) if checkout.customer_user_id else email.lower()
        await discounts.use_voucher(session, scope=scope, voucher=priced.voucher, customer=customer)

    totals = priced.totals
    number = await sales.next_order_number(session, scope=scope)
    order = Order(
        number=number,
        checkout_id=checkout.id,
        channel_id=priced.channel.id,
        customer_user_id=checkout.customer_user_id,
        email=email,
        status=OrderStatus.unconfirmed.value,
        payment_status=PaymentStatus.not_charged.value,
        currency=priced.channel.currency,
        prices_include_tax=priced.prices_include_tax,
        subtotal_minor=totals.subtotal_minor,
        discount_minor=totals.discount_minor,
        shipping_minor=totals.shipping_minor,
        tax_minor=totals.tax_minor,
        total_minor=totals.total_minor,
        paid_minor=0,
        refunded_minor=0,
        billing_address=checkout.billing_address,
        shipping_address=checkout.shipping_address,
        shipping_method_name=priced.shipping.name,
        voucher_code=priced.voucher.code if priced.voucher and totals.voucher_applied else None,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    lines = []
    for position, ((line, variant, product), line_totals, warehouse_id) in enumerate(
        zip(priced.rows, totals.lines, warehouses, strict=True)
    ):
        lines.append(
            OrderLine(
                order_id=order.id,
                variant_id=variant.id,
                warehouse_id=warehouse_id,
                sku=variant.sku,
                product_name=product.name,
                variant_name=variant.name,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                discount_minor=line_totals.discount_minor,
                tax_rate_bp=priced.tax_rate_bp,
                tax_minor=line_totals.tax_minor,
                total_minor=line_totals.total_minor,
                fulfilled_quantity=0,
                returned_quantity=0,
                position=position,
            )
        )
    session.add_all(lines)
    orders.add_event(session, order, "placed", actor, number=number)
    record_event(
        session,
        ORDER_PLACED,
        OrderPlaced(
            order_id=order.id,
            number=number,
            channel_id=order.channel_id,
            customer_user_id=order.customer_user_id,
            email=email,
            currency=order.currency,
            total_minor=order.total_minor,
            lines=len(lines),
        ),
    )
    total = from_minor(order.total_minor, order.currency)
    summary = "\n".join(f"{line.quantity} x {line.product_name} ({line.sku})" for line in lines)
    await orders.mail_customer(
        session,
        scope=scope,
        order=order,
        subject=f"Order {number} confirmed",
        body=f"Thank you for your order {number}.\n\n{summary}\n\nTotal: {total} {order.currency}\n",
    )
    await session.flush()
    return orders.order_read(order, lines)
