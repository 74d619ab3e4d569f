"""Shipping zones and methods, tax settings, vouchers and promotions (staff API)."""

from __future__ import annotations

import uuid
from enum import Enum

from fastapi import APIRouter

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import DiscountReader, DiscountWriter, ShippingReader, ShippingWriter
from bizosaas.commerce.schemas_sales import (
    PromotionCreate,
    PromotionRead,
    ShippingMethodCreate,
    ShippingMethodRead,
    ShippingZoneCreate,
    ShippingZoneRead,
    TaxConfigRead,
    TaxConfigSet,
    VoucherCreate,
    VoucherRead,
    VoucherUpdate,
)
from bizosaas.commerce.service import discounts, shipping
from bizosaas.kit.auth import TenantSession, scope_of

router = APIRouter()
SHIPPING: list[str | Enum] = ["commerce: shipping and tax"]
DISCOUNTS: list[str | Enum] = ["commerce: discounts"]

# -- shipping and tax ---------------------------------------------------------------------------


@router.get("/shipping-zones", summary="Shipping zones with their methods", tags=SHIPPING)
async def list_zones(principal: ShippingReader, session: TenantSession) -> list[ShippingZoneRead]:
    return await shipping.list_zones(session, scope=scope_of(principal))


@router.post(
    "/shipping-zones",
    status_code=201,
    summary="Create a shipping zone (countries) for a channel",
    tags=SHIPPING,
    responses=errors(),
)
async def create_zone(
    data: ShippingZoneCreate, principal: ShippingWriter, session: TenantSession
) -> ShippingZoneRead:
    return await shipping.create_zone(session, scope=scope_of(principal), data=data)


@router.get(
    "/shipping-zones/{zone_id}", summary="One shipping zone", tags=SHIPPING, responses=errors()
)
async def read_zone(
    zone_id: uuid.UUID, principal: ShippingReader, session: TenantSession
) -> ShippingZoneRead:
    return await shipping.read_zone(session, scope=scope_of(principal), zone_id=zone_id)


@router.delete(
    "/shipping-zones/{zone_id}",
    status_code=204,
    summary="Delete a shipping zone and its methods",
    tags=SHIPPING,
    responses=errors(),
)
async def delete_zone(
    zone_id: uuid.UUID, principal: ShippingWriter, session: TenantSession
) -> None:
    await shipping.delete_zone(session, scope=scope_of(principal), zone_id=zone_id)


@router.post(
    "/shipping-zones/{zone_id}/methods",
    status_code=201,
    summary="Add a shipping method (price, free-over threshold, weight limits) to a zone",
    tags=SHIPPING,
    responses=errors(),
)
async def add_method(
    zone_id: uuid.UUID,
    data: ShippingMethodCreate,
    principal: ShippingWriter,
    session: TenantSession,
) -> ShippingMethodRead:
    return await shipping.add_method(session, scope=scope_of(principal), zone_id=zone_id, data=data)


@router.delete(
    "/shipping-methods/{method_id}",
    status_code=204,
    summary="Delete a shipping method",
    tags=SHIPPING,
    responses=errors(),
)
async def delete_method(
    method_id: uuid.UUID, principal: ShippingWriter, session: TenantSession
) -> None:
    await shipping.delete_method(session, scope=scope_of(principal), method_id=method_id)


@router.get(
    "/channels/{channel_id}/tax",
    summary="A channel's tax settings",
    tags=SHIPPING,
    responses=errors(),
)
async def read_tax(
    channel_id: uuid.UUID, principal: ShippingReader, session: TenantSession
) -> TaxConfigRead:
    return await shipping.read_tax(session, scope=scope_of(principal), channel_id=channel_id)


@router.put(
    "/channels/{channel_id}/tax",
    summary="Set a channel's tax settings (gross or net prices, rates per country)",
    tags=SHIPPING,
    responses=errors(),
)
async def set_tax(
    channel_id: uuid.UUID, data: TaxConfigSet, principal: ShippingWriter, session: TenantSession
) -> TaxConfigRead:
    return await shipping.set_tax(
        session, scope=scope_of(principal), channel_id=channel_id, data=data
    )


# -- vouchers and promotions --------------------------------------------------------------------


@router.get("/vouchers", summary="Vouchers of my store", tags=DISCOUNTS)
async def list_vouchers(principal: DiscountReader, session: TenantSession) -> list[VoucherRead]:
    return await discounts.list_vouchers(session, scope=scope_of(principal))


@router.post(
    "/vouchers",
    status_code=201,
    summary="Create a voucher (a code: percentage, fixed amount or free shipping)",
    tags=DISCOUNTS,
    responses=errors(conflicts="`commerce.code_taken`"),
)
async def create_voucher(
    data: VoucherCreate, principal: DiscountWriter, session: TenantSession
) -> VoucherRead:
    return await discounts.create_voucher(session, scope=scope_of(principal), data=data)


@router.get("/vouchers/{voucher_id}", summary="One voucher", tags=DISCOUNTS, responses=errors())
async def read_voucher(
    voucher_id: uuid.UUID, principal: DiscountReader, session: TenantSession
) -> VoucherRead:
    return await discounts.read_voucher(session, scope=scope_of(principal), voucher_id=voucher_id)


@router.patch(
    "/vouchers/{voucher_id}",
    summary="Rename, limit, end or switch off a voucher",
    tags=DISCOUNTS,
    responses=errors(),
)
async def update_voucher(
    voucher_id: uuid.UUID, data: VoucherUpdate, principal: DiscountWriter, session: TenantSession
) -> VoucherRead:
    return await discounts.update_voucher(
        session, scope=scope_of(principal), voucher_id=voucher_id, data=data
    )


@router.delete(
    "/vouchers/{voucher_id}",
    status_code=204,
    summary="Delete a voucher",
    tags=DISCOUNTS,
    responses=errors(),
)
async def delete_voucher(
    voucher_id: uuid.UUID, principal: DiscountWriter, session: TenantSession
) -> None:
    await discounts.delete_voucher(session, scope=scope_of(principal), voucher_id=voucher_id)


@router.get("/promotions", summary="Promotions of my store", tags=DISCOUNTS)
async def list_promotions(principal: DiscountReader, session: TenantSession) -> list[PromotionRead]:
    return await discounts.list_promotions(session, scope=scope_of(principal))


@router.post(
    "/promotions",
    status_code=201,
    summary="Create a promotion (applied without a code to a category, product or all)",
    tags=DISCOUNTS,
    responses=errors(),
)
async def create_promotion(
    data: PromotionCreate, principal: DiscountWriter, session: TenantSession
) -> PromotionRead:
    return await discounts.create_promotion(session, scope=scope_of(principal), data=data)


@router.get(
    "/promotions/{promotion_id}", summary="One promotion", tags=DISCOUNTS, responses=errors()
)
async def read_promotion(
    promotion_id: uuid.UUID, principal: DiscountReader, session: TenantSession
) -> PromotionRead:
    return await discounts.read_promotion(
        session, scope=scope_of(principal), promotion_id=promotion_id
    )


@router.delete(
    "/promotions/{promotion_id}",
    status_code=204,
    summary="Delete a promotion",
    tags=DISCOUNTS,
    responses=errors(),
)
async def delete_promotion(
    promotion_id: uuid.UUID, principal: DiscountWriter, session: TenantSession
) -> None:
    await discounts.delete_promotion(session, scope=scope_of(principal), promotion_id=promotion_id)
