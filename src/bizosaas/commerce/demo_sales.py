"""The demo store's selling side, after its catalogue (demo_store.py): delivery to the EU and
the UK, German VAT on gross prices, a welcome voucher, and a few orders placed through the
checkout as customers would (one waiting, one confirmed, one sent with a tracking number).

Everything goes through the commerce use cases, so the demo's orders have their timelines,
stock allocations and confirmation mails like any other.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.models import DiscountKind
from bizosaas.commerce.schemas import ChannelRead
from bizosaas.commerce.schemas_sales import (
    Address,
    CheckoutCreate,
    CheckoutLineAdd,
    CheckoutUpdate,
    FulfilmentCreate,
    LineQuantity,
    PercentageVoucher,
    ShippingMethodCreate,
    ShippingZoneCreate,
    TaxConfigSet,
)
from bizosaas.commerce.service import checkout, completion, discounts, orders, shipping
from bizosaas.kit.tenancy import TenantScope

EU = ["AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PL", "PT", "SE"]
WELCOME_VOUCHER = "WELCOME10"
CUSTOMERS = (
    ("ada@example.com", "Ada", "Lovelace", "Hauptstraße 1", "10115", "Berlin", "DE"),
    ("grace@example.com", "Grace", "Hopper", "Keizersgracht 12", "1015 CS", "Amsterdam", "NL"),
    ("alan@example.com", "Alan", "Turing", "Rue de Rivoli 5", "75001", "Paris", "FR"),
)


async def seed_sales(
    session: AsyncSession,
    *,
    scope: TenantScope,
    channel: ChannelRead,
    variants: list[Any],
    say: Any,
) -> None:
    """Delivery, tax, the voucher and three orders of the first `variants` (ids) in stock."""
    zone = await shipping.create_zone(
        session,
        scope=scope,
        data=ShippingZoneCreate(channel_id=channel.id, name="Europe", countries=[*EU, "GB"]),
    )
    standard = await shipping.add_method(
        session,
        scope=scope,
        zone_id=zone.id,
        data=ShippingMethodCreate(name="Standard", price=Decimal("4.90"), free_over=Decimal(50)),
    )
    await shipping.add_method(
        session,
        scope=scope,
        zone_id=zone.id,
        data=ShippingMethodCreate(name="Express", price=Decimal("12.00")),
    )
    await shipping.set_tax(
        session,
        scope=scope,
        channel_id=channel.id,
        data=TaxConfigSet(
            prices_include_tax=True,
            default_rate=Decimal(19),
            country_rates={"AT": Decimal(20), "FR": Decimal(20), "NL": Decimal(21)},
        ),
    )
    await discounts.create_voucher(
        session,
        scope=scope,
        data=PercentageVoucher(
            channel_id=channel.id,
            code=WELCOME_VOUCHER,
            name="10% off a first order",
            kind=DiscountKind.percentage,
            percentage=Decimal(10),
            usage_limit_per_customer=1,
        ),
    )
    placed = []
    for number, (email, first, last, street, postal, city, country) in enumerate(CUSTOMERS):
        address = Address(
            first_name=first,
            last_name=last,
            street_1=street,
            postal_code=postal,
            city=city,
            country=country,
        )
        lines = [
            CheckoutLineAdd(variant_id=variant, quantity=1 + (number + i) % 2)
            for i, variant in enumerate(variants[number * 2 : number * 2 + 2])
        ]
        started = await checkout.create_checkout(
            session,
            scope=scope,
            data=CheckoutCreate(channel=channel.slug, email=email, lines=lines),
            customer=checkout.Customer(),
        )
        await checkout.update_checkout(
            session,
            scope=scope,
            token=started.token,
            data=CheckoutUpdate(
                billing_address=address,
                shipping_address=address,
                shipping_method_id=standard.id,
            ),
        )
        if number == 0:
            await checkout.apply_voucher(
                session, scope=scope, token=started.token, code=WELCOME_VOUCHER
            )
        actor = orders.Actor("customer")
        placed.append(
            await completion.complete_checkout(
                session, scope=scope, token=started.token, actor=actor
            )
        )
    staff = orders.SYSTEM
    await orders.confirm_order(session, scope=scope, order_id=placed[1].id, actor=staff)
    await orders.confirm_order(session, scope=scope, order_id=placed[2].id, actor=staff)
    await orders.fulfil(
        session,
        scope=scope,
        order_id=placed[2].id,
        data=FulfilmentCreate(
            lines=[
                LineQuantity(line_id=line.id, quantity=line.quantity) for line in placed[2].lines
            ],
            tracking_number="DEMO-TRACK-0001",
            notify_customer=False,
        ),
        actor=staff,
    )
    say(f"commerce: delivery, VAT, voucher {WELCOME_VOUCHER} and {len(placed)} demo orders")
