"""Warehouses, stock per variant and warehouse, allocation and release.

Stock never goes below zero, whatever runs at the same time: allocation is one conditional
UPDATE per candidate warehouse (`quantity = quantity - n WHERE quantity >= n`), whose row count
says whether it happened; nothing reads a quantity in Python and writes it back. Concurrent
allocations of the same row queue on its lock (PostgreSQL re-evaluates the condition on the
newest version; SQLite has one writer at a time), and the table's CHECK constraints refuse a
negative value as a last line.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.events import STOCK_LOW, StockLow
from bizosaas.commerce.exceptions import CodeTaken, InsufficientStock, InUse
from bizosaas.commerce.models import Stock, Variant, Warehouse
from bizosaas.commerce.schemas import (
    AllocationRead,
    StockRead,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)
from bizosaas.commerce.service.catalog import found
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import TenantScope, bind_tenant


def warehouse_read(warehouse: Warehouse) -> WarehouseRead:
    return WarehouseRead.model_validate(warehouse, from_attributes=True)


def stock_read(stock: Stock) -> StockRead:
    return StockRead.model_validate(stock, from_attributes=True)


async def create_warehouse(
    session: AsyncSession, *, scope: TenantScope, data: WarehouseCreate
) -> WarehouseRead:
    await bind_tenant(session, scope)
    if await repository.warehouse_code_taken(session, scope=scope, code=data.code):
        raise CodeTaken(f"A warehouse has the code {data.code}.")
    warehouse = Warehouse(name=data.name, code=data.code)
    session.add(warehouse)
    await session.flush()
    return warehouse_read(warehouse)


async def update_warehouse(
    session: AsyncSession, *, scope: TenantScope, warehouse_id: uuid.UUID, data: WarehouseUpdate
) -> WarehouseRead:
    warehouse = await found(session, Warehouse, scope=scope, row_id=warehouse_id)
    if data.name is not None:
        warehouse.name = data.name
    await session.flush()
    return warehouse_read(warehouse)


async def delete_warehouse(
    session: AsyncSession, *, scope: TenantScope, warehouse_id: uuid.UUID
) -> None:
    warehouse = await found(session, Warehouse, scope=scope, row_id=warehouse_id)
    if await repository.warehouse_holds_stock(session, scope=scope, warehouse_id=warehouse.id):
        raise InUse("The warehouse holds or has allocated stock; move it first.")
    await session.delete(warehouse)
    await session.flush()


async def read_warehouse(
    session: AsyncSession, *, scope: TenantScope, warehouse_id: uuid.UUID
) -> WarehouseRead:
    return warehouse_read(await found(session, Warehouse, scope=scope, row_id=warehouse_id))


async def list_warehouses(session: AsyncSession, *, scope: TenantScope) -> list[WarehouseRead]:
    await bind_tenant(session, scope)
    rows = await repository.list_all(session, Warehouse, scope=scope, order_by=Warehouse.code)
    return [warehouse_read(row) for row in rows]


async def set_stock(
    session: AsyncSession,
    *,
    scope: TenantScope,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantity: int,
) -> StockRead:
    """Set what the warehouse can allocate of the variant (a stock count); allocations stay."""
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    warehouse = await found(session, Warehouse, scope=scope, row_id=warehouse_id)
    stock = await repository.stock_row(
        session, scope=scope, variant_id=variant.id, warehouse_id=warehouse.id
    )
    if stock is None:
        stock = Stock(variant_id=variant.id, warehouse_id=warehouse.id, allocated=0)
        session.add(stock)
    stock.quantity = quantity
    await session.flush()
    return stock_read(stock)


async def stock_of_variant(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID
) -> list[StockRead]:
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    return [
        stock_read(row)
        for row in await repository.stock_of_variant(session, scope=scope, variant_id=variant.id)
    ]


async def allocate(
    session: AsyncSession,
    *,
    scope: TenantScope,
    variant_id: uuid.UUID,
    quantity: int,
    warehouse_id: uuid.UUID | None = None,
) -> AllocationRead:
    """Hold `quantity` of the variant in one warehouse (the given one, or the first by code
    that has enough). `commerce.insufficient_stock` when none has. A variant that does not
    track inventory is always allocated, from no warehouse. Sends `commerce.stock_low` when
    this allocation takes the warehouse's free stock from above the variant's threshold to it
    or below."""
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    if not variant.track_inventory:
        return AllocationRead(variant_id=variant.id, warehouse_id=None, quantity=quantity)
    if warehouse_id is not None:
        await found(session, Warehouse, scope=scope, row_id=warehouse_id)
    # Which rows to try is read here; whether there is enough is decided by each UPDATE.
    candidates = [
        stock
        for stock in await repository.stock_of_variant(session, scope=scope, variant_id=variant.id)
        if warehouse_id is None or stock.warehouse_id == warehouse_id
    ]
    for stock in candidates:
        left = await repository.take_stock(
            session, scope=scope, stock_id=stock.id, quantity=quantity
        )
        if left is None:
            continue
        threshold = variant.low_stock_threshold
        if threshold is not None and left <= threshold < left + quantity:
            record_event(
                session,
                STOCK_LOW,
                StockLow(
                    variant_id=variant.id,
                    sku=variant.sku,
                    warehouse_id=stock.warehouse_id,
                    quantity=left,
                    threshold=threshold,
                ),
            )
        return AllocationRead(
            variant_id=variant.id, warehouse_id=stock.warehouse_id, quantity=quantity
        )
    raise InsufficientStock(
        f"Not {quantity} of {variant.sku} free in any one warehouse.",
        variant_id=str(variant.id),
        requested=quantity,
    )


async def release(
    session: AsyncSession,
    *,
    scope: TenantScope,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    quantity: int,
) -> StockRead:
    """Give back `quantity` allocated in the warehouse (a cancelled checkout or order);
    `commerce.insufficient_stock` if that much is not allocated there."""
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    warehouse = await found(session, Warehouse, scope=scope, row_id=warehouse_id)
    stock = await repository.stock_row(
        session, scope=scope, variant_id=variant.id, warehouse_id=warehouse.id
    )
    if stock is None or not await repository.return_stock(
        session, scope=scope, stock_id=stock.id, quantity=quantity
    ):
        raise InsufficientStock(
            f"Not {quantity} of {variant.sku} allocated in {warehouse.code}.",
            variant_id=str(variant.id),
            requested=quantity,
        )
    await session.refresh(stock)
    return stock_read(stock)


@dataclass(frozen=True, slots=True)
class StockLevel:
    """A variant's stock in every warehouse (the inventory page's row)."""

    product_id: uuid.UUID
    product_name: str
    variant_id: uuid.UUID
    sku: str
    variant_name: str
    low_stock_threshold: int | None
    free: int
    """What can still be allocated, over every warehouse."""
    by_warehouse: dict[uuid.UUID, StockRead]

    @property
    def is_low(self) -> bool:
        return self.free <= (self.low_stock_threshold or 0)


async def stock_levels(
    session: AsyncSession, *, scope: TenantScope, low_only: bool = False, limit: int = 200
) -> list[StockLevel]:
    """The first `limit` variants that track inventory (by product name and SKU), with their
    stock per warehouse; `low_only` keeps the low and sold-out ones."""
    await bind_tenant(session, scope)
    variants = await repository.tracked_variants(
        session, scope=scope, low_only=low_only, limit=limit
    )
    rows = await repository.stock_rows(
        session, scope=scope, variant_ids=[variant.id for variant, _, _ in variants]
    )
    by_variant: dict[uuid.UUID, dict[uuid.UUID, StockRead]] = defaultdict(dict)
    for row in rows:
        by_variant[row.variant_id][row.warehouse_id] = stock_read(row)
    return [
        StockLevel(
            product_id=variant.product_id,
            product_name=product_name,
            variant_id=variant.id,
            sku=variant.sku,
            variant_name=variant.name,
            low_stock_threshold=variant.low_stock_threshold,
            free=free,
            by_warehouse=by_variant[variant.id],
        )
        for variant, product_name, free in variants
    ]
