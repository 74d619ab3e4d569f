"""No oversell under concurrency: many allocations of one variant at once, each in its own
transaction on its own connection, against a database of its own (the writes really commit).
Exactly the stock is allocated, every other allocation is refused with
`commerce.insufficient_stock`, and the free stock ends at zero, never below."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from bizosaas.commerce.events import STOCK_LOW
from bizosaas.commerce.exceptions import InsufficientStock
from bizosaas.commerce.schemas import (
    ProductCreate,
    ProductTypeCreate,
    VariantCreate,
    WarehouseCreate,
)
from bizosaas.commerce.service import catalog, inventory, listing
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event, InProcessEventBus
from bizosaas.kit.outbox import OutboxRelay
from bizosaas.kit.tenancy import trusted_scope
from tests.support.backends import DatabaseTarget

# PostgreSQL: 100 contenders over 40 connections (the server's connection limit is shared with
# other test runs); SQLite serialises writers, so fewer contenders show the same.
CONTENDERS = {"postgres": (100, 20), "sqlite": (20, 5)}
IN_STOCK = {"postgres": 37, "sqlite": 7}


async def seed(database: Database, scope_tenant: uuid.UUID, quantity: int) -> uuid.UUID:
    scope = trusted_scope(scope_tenant)
    async with database.unit_of_work(scope) as session:
        kind = await catalog.create_product_type(
            session, scope=scope, data=ProductTypeCreate(name="Ticket")
        )
        product = await catalog.create_product(
            session,
            scope=scope,
            data=ProductCreate(
                product_type_id=kind.id,
                name="Concert",
                slug="concert",
                variants=[VariantCreate(sku="SEAT", low_stock_threshold=5)],
            ),
        )
        variant = (
            await listing.read_product(session, scope=scope, product_id=product.id)
        ).variants[0]
        warehouse = await inventory.create_warehouse(
            session, scope=scope, data=WarehouseCreate(name="Box office", code="box")
        )
        await inventory.set_stock(
            session,
            scope=scope,
            variant_id=variant.id,
            warehouse_id=warehouse.id,
            quantity=quantity,
        )
        return variant.id


@pytest.mark.parametrize("each", [1, 2])
async def test_concurrent_allocations_never_oversell(
    fresh_target: DatabaseTarget, each: int
) -> None:
    contenders, pool = CONTENDERS[fresh_target.backend]
    in_stock = IN_STOCK[fresh_target.backend]
    database = Database.from_url(fresh_target.app_url, pool_size=pool)
    tenant = uuid.uuid4()
    scope = trusted_scope(tenant)
    try:
        variant_id = await seed(database, tenant, in_stock)
        start = asyncio.Event()

        async def contend() -> bool:
            await start.wait()
            try:
                async with database.unit_of_work(scope) as session:
                    await inventory.allocate(
                        session, scope=scope, variant_id=variant_id, quantity=each
                    )
            except InsufficientStock:
                return False
            return True

        tasks = [asyncio.create_task(contend()) for _ in range(contenders)]
        await asyncio.sleep(0)
        start.set()
        outcomes = await asyncio.gather(*tasks)
        async with database.unit_of_work(scope) as session:
            stock = await inventory.stock_of_variant(session, scope=scope, variant_id=variant_id)
        low: list[Event] = []
        bus = InProcessEventBus()
        bus.subscribe(STOCK_LOW.name, _append_to(low))
        await OutboxRelay(database, bus).drain()
    finally:
        await database.dispose()
    granted = outcomes.count(True)
    assert granted == in_stock // each
    assert outcomes.count(False) == contenders - granted
    assert [(row.quantity, row.allocated) for row in stock] == [
        (in_stock - granted * each, granted * each)
    ]
    # The threshold (5) was crossed once, by exactly one of the allocations.
    assert len(low) == 1
    assert STOCK_LOW.parse(low[0]).quantity <= 5


def _append_to(events: list[Event]) -> Callable[[Event], Awaitable[None]]:
    async def append(event: Event) -> None:
        events.append(event)

    return append
