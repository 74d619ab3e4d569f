"""No oversell, no gap, no voucher overuse when many checkouts complete at once: each completion
in its own transaction on its own connection, against a database of its own (the writes really
commit). On PostgreSQL 200 completions race for 50 units; SQLite serialises writers, so fewer
clients show the same."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest

from bizosaas.commerce.exceptions import InsufficientStock, VoucherExhausted
from bizosaas.commerce.models import DiscountKind
from bizosaas.commerce.schemas import (
    ChannelCreate,
    PriceSet,
    ProductCreate,
    ProductTypeCreate,
    PublicationSet,
    VariantCreate,
    WarehouseCreate,
)
from bizosaas.commerce.schemas_sales import (
    Address,
    CheckoutCreate,
    CheckoutLineAdd,
    CheckoutUpdate,
    PercentageVoucher,
    ShippingMethodCreate,
    ShippingZoneCreate,
)
from bizosaas.commerce.service import (
    catalog,
    channels,
    checkout,
    completion,
    discounts,
    inventory,
    listing,
    orders,
    shipping,
)
from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import TenantScope, trusted_scope
from tests.support.backends import DatabaseTarget

# (clients, units in stock, connection pool): the PostgreSQL server's connection limit is shared
# with other test runs, so 200 clients share 20 connections.
RACE = {"postgres": (200, 50, 20), "sqlite": (24, 7, 5)}
ADDRESS = Address(
    first_name="Ada", last_name="Lovelace", street_1="Main St 1", city="Berlin", country="DE"
)


@dataclass
class Seeded:
    scope: TenantScope
    variant_id: uuid.UUID
    tokens: list[str]


async def seed(database: Database, *, in_stock: int, checkouts: int, voucher: int | None) -> Seeded:
    scope = trusted_scope(uuid.uuid4())
    async with database.unit_of_work(scope) as session:
        kind = await catalog.create_product_type(
            session, scope=scope, data=ProductTypeCreate(name="Ticket")
        )
        made = await catalog.create_product(
            session,
            scope=scope,
            data=ProductCreate(
                product_type_id=kind.id,
                name="Concert",
                slug="concert",
                variants=[VariantCreate(sku="SEAT")],
            ),
        )
        variant = (await listing.read_product(session, scope=scope, product_id=made.id)).variants[0]
        channel = await channels.create_channel(
            session, scope=scope, data=ChannelCreate(name="Web", slug="web", currency="EUR")
        )
        await channels.set_price(
            session,
            scope=scope,
            variant_id=variant.id,
            channel_id=channel.id,
            data=PriceSet(amount=Decimal("30")),
        )
        await channels.publish(
            session,
            scope=scope,
            product_id=made.id,
            channel_id=channel.id,
            data=PublicationSet(is_published=True),
        )
        warehouse = await inventory.create_warehouse(
            session, scope=scope, data=WarehouseCreate(name="Box office", code="box")
        )
        await inventory.set_stock(
            session,
            scope=scope,
            variant_id=variant.id,
            warehouse_id=warehouse.id,
            quantity=in_stock,
        )
        zone = await shipping.create_zone(
            session,
            scope=scope,
            data=ShippingZoneCreate(channel_id=channel.id, name="DE", countries=["DE"]),
        )
        method = await shipping.add_method(
            session,
            scope=scope,
            zone_id=zone.id,
            data=ShippingMethodCreate(name="Post", price=Decimal(0)),
        )
        if voucher is not None:
            await discounts.create_voucher(
                session,
                scope=scope,
                data=PercentageVoucher(
                    channel_id=channel.id,
                    code="FIRST",
                    kind=DiscountKind.percentage,
                    percentage=Decimal(10),
                    usage_limit=voucher,
                ),
            )
    tokens = []
    for index in range(checkouts):
        async with database.unit_of_work(scope) as session:
            created = await checkout.create_checkout(
                session,
                scope=scope,
                data=CheckoutCreate(
                    channel="web",
                    email=f"fan{index}@example.com",
                    lines=[CheckoutLineAdd(variant_id=variant.id)],
                ),
                customer=checkout.Customer(),
            )
            await checkout.update_checkout(
                session,
                scope=scope,
                token=created.token,
                data=CheckoutUpdate(
                    billing_address=ADDRESS, shipping_address=ADDRESS, shipping_method_id=method.id
                ),
            )
            if voucher is not None:
                await checkout.apply_voucher(
                    session, scope=scope, token=created.token, code="FIRST"
                )
            tokens.append(created.token)
    return Seeded(scope, variant.id, tokens)


async def race(database: Database, seeded: Seeded) -> list[object]:
    start = asyncio.Event()
    scope = seeded.scope

    async def complete(token: str) -> object:
        await start.wait()
        try:
            async with database.unit_of_work(scope) as session:
                order = await completion.complete_checkout(
                    session, scope=scope, token=token, actor=orders.Actor("customer")
                )
        except (InsufficientStock, VoucherExhausted) as refused:
            return refused.code
        return order.number

    tasks = [asyncio.create_task(complete(token)) for token in seeded.tokens]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks))


async def test_concurrent_completions_never_oversell_and_number_without_gaps(
    fresh_target: DatabaseTarget,
) -> None:
    clients, in_stock, pool = RACE[fresh_target.backend]
    database = Database.from_url(fresh_target.app_url, pool_size=pool)
    try:
        seeded = await seed(database, in_stock=in_stock, checkouts=clients, voucher=None)
        outcomes = await race(database, seeded)
        async with database.unit_of_work(seeded.scope) as session:
            stock = await inventory.stock_of_variant(
                session, scope=seeded.scope, variant_id=seeded.variant_id
            )
            placed = await orders.list_orders(session, scope=seeded.scope, limit=500)
    finally:
        await database.dispose()
    numbers = sorted(outcome for outcome in outcomes if isinstance(outcome, int))
    assert numbers == list(range(1, in_stock + 1))  # exactly the stock, numbered 1..n, no gap
    assert outcomes.count("commerce.insufficient_stock") == clients - in_stock
    assert sorted(order.number for order in placed) == numbers
    assert [(row.quantity, row.allocated) for row in stock] == [(0, in_stock)]


@pytest.mark.parametrize("limit", [5])
async def test_concurrent_completions_never_overuse_a_voucher(
    fresh_target: DatabaseTarget, limit: int
) -> None:
    clients = {"postgres": 60, "sqlite": 12}[fresh_target.backend]
    database = Database.from_url(fresh_target.app_url, pool_size=RACE[fresh_target.backend][2])
    try:
        seeded = await seed(database, in_stock=1000, checkouts=clients, voucher=limit)
        outcomes = await race(database, seeded)
        async with database.unit_of_work(seeded.scope) as session:
            vouchers = await discounts.list_vouchers(session, scope=seeded.scope)
            stock = await inventory.stock_of_variant(
                session, scope=seeded.scope, variant_id=seeded.variant_id
            )
    finally:
        await database.dispose()
    assert sorted(o for o in outcomes if isinstance(o, int)) == list(range(1, limit + 1))
    assert outcomes.count("commerce.voucher_exhausted") == clients - limit
    assert vouchers[0].used == limit
    # refused completions left no allocation behind
    assert [(row.quantity, row.allocated) for row in stock] == [(1000 - limit, limit)]
