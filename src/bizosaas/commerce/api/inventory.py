"""Channels, warehouses, stock, allocation and release."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import ChannelReader, ChannelWriter, InventoryReader, InventoryWriter
from bizosaas.commerce.schemas import (
    AllocationRead,
    AllocationRequest,
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    ReleaseRequest,
    StockRead,
    StockSet,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)
from bizosaas.commerce.service import channels, inventory
from bizosaas.kit.auth import TenantReadSession, TenantSession, scope_of

router = APIRouter()

# -- channels --------------------------------------------------------------------------------


@router.get("/channels", summary="Sales channels of my store", tags=["commerce: channels"])
async def list_channels(principal: ChannelReader, session: TenantReadSession) -> list[ChannelRead]:
    return await channels.list_channels(session, scope=scope_of(principal))


@router.post(
    "/channels",
    status_code=201,
    summary="Create a channel with its currency",
    tags=["commerce: channels"],
    responses=errors(not_found=False, conflicts="`commerce.slug_taken`"),
)
async def create_channel(
    data: ChannelCreate, principal: ChannelWriter, session: TenantSession
) -> ChannelRead:
    return await channels.create_channel(session, scope=scope_of(principal), data=data)


@router.get(
    "/channels/{channel_id}", summary="One channel", tags=["commerce: channels"], responses=errors()
)
async def read_channel(
    channel_id: uuid.UUID, principal: ChannelReader, session: TenantReadSession
) -> ChannelRead:
    return await channels.read_channel(session, scope=scope_of(principal), channel_id=channel_id)


@router.patch(
    "/channels/{channel_id}",
    summary="Rename, re-slug, open or close a channel (its currency stays)",
    tags=["commerce: channels"],
    responses=errors(conflicts="`commerce.slug_taken`"),
)
async def update_channel(
    channel_id: uuid.UUID, data: ChannelUpdate, principal: ChannelWriter, session: TenantSession
) -> ChannelRead:
    return await channels.update_channel(
        session, scope=scope_of(principal), channel_id=channel_id, data=data
    )


# -- warehouses and stock --------------------------------------------------------------------


@router.get("/warehouses", summary="Warehouses of my store", tags=["commerce: inventory"])
async def list_warehouses(
    principal: InventoryReader, session: TenantReadSession
) -> list[WarehouseRead]:
    return await inventory.list_warehouses(session, scope=scope_of(principal))


@router.post(
    "/warehouses",
    status_code=201,
    summary="Create a warehouse",
    tags=["commerce: inventory"],
    responses=errors(not_found=False, conflicts="`commerce.code_taken`"),
)
async def create_warehouse(
    data: WarehouseCreate, principal: InventoryWriter, session: TenantSession
) -> WarehouseRead:
    return await inventory.create_warehouse(session, scope=scope_of(principal), data=data)


@router.get(
    "/warehouses/{warehouse_id}",
    summary="One warehouse",
    tags=["commerce: inventory"],
    responses=errors(),
)
async def read_warehouse(
    warehouse_id: uuid.UUID, principal: InventoryReader, session: TenantReadSession
) -> WarehouseRead:
    return await inventory.read_warehouse(
        session, scope=scope_of(principal), warehouse_id=warehouse_id
    )


@router.patch(
    "/warehouses/{warehouse_id}",
    summary="Rename a warehouse",
    tags=["commerce: inventory"],
    responses=errors(),
)
async def update_warehouse(
    warehouse_id: uuid.UUID,
    data: WarehouseUpdate,
    principal: InventoryWriter,
    session: TenantSession,
) -> WarehouseRead:
    return await inventory.update_warehouse(
        session, scope=scope_of(principal), warehouse_id=warehouse_id, data=data
    )


@router.delete(
    "/warehouses/{warehouse_id}",
    status_code=204,
    summary="Delete a warehouse that holds no stock",
    tags=["commerce: inventory"],
    responses=errors(conflicts="`commerce.in_use`"),
)
async def delete_warehouse(
    warehouse_id: uuid.UUID, principal: InventoryWriter, session: TenantSession
) -> None:
    await inventory.delete_warehouse(session, scope=scope_of(principal), warehouse_id=warehouse_id)


@router.get(
    "/variants/{variant_id}/stock",
    summary="A variant's stock in each warehouse",
    tags=["commerce: inventory"],
    responses=errors(),
)
async def variant_stock(
    variant_id: uuid.UUID, principal: InventoryReader, session: TenantReadSession
) -> list[StockRead]:
    return await inventory.stock_of_variant(
        session, scope=scope_of(principal), variant_id=variant_id
    )


@router.put(
    "/variants/{variant_id}/stock/{warehouse_id}",
    summary="Set the free stock of a variant in a warehouse (a count)",
    tags=["commerce: inventory"],
    responses=errors(),
)
async def set_stock(
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    data: StockSet,
    principal: InventoryWriter,
    session: TenantSession,
) -> StockRead:
    return await inventory.set_stock(
        session,
        scope=scope_of(principal),
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        quantity=data.quantity,
    )


@router.post(
    "/variants/{variant_id}/allocate",
    summary="Hold stock of a variant (never more than is free)",
    tags=["commerce: inventory"],
    responses=errors(conflicts="`commerce.insufficient_stock`"),
)
async def allocate(
    variant_id: uuid.UUID,
    data: AllocationRequest,
    principal: InventoryWriter,
    session: TenantSession,
) -> AllocationRead:
    return await inventory.allocate(
        session,
        scope=scope_of(principal),
        variant_id=variant_id,
        quantity=data.quantity,
        warehouse_id=data.warehouse_id,
    )


@router.post(
    "/variants/{variant_id}/release",
    summary="Give back held stock of a variant",
    tags=["commerce: inventory"],
    responses=errors(conflicts="`commerce.insufficient_stock` (not that much held there)"),
)
async def release(
    variant_id: uuid.UUID, data: ReleaseRequest, principal: InventoryWriter, session: TenantSession
) -> StockRead:
    return await inventory.release(
        session,
        scope=scope_of(principal),
        variant_id=variant_id,
        warehouse_id=data.warehouse_id,
        quantity=data.quantity,
    )
