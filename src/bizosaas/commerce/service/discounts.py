"""Vouchers (a code the customer enters) and promotions (applied by themselves), and the use
of a voucher by an order. The stacking rules are in service/pricing.py and docs/commerce.md."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository_sales as sales
from bizosaas.commerce.currencies import from_minor, to_minor
from bizosaas.commerce.exceptions import (
    CodeTaken,
    CommerceNotFound,
    VoucherExhausted,
    VoucherInvalid,
)
from bizosaas.commerce.models import (
    Category,
    Channel,
    DiscountKind,
    Product,
    Promotion,
    Voucher,
)
from bizosaas.commerce.schemas_sales import (
    PromotionCreate,
    PromotionRead,
    VoucherCreate,
    VoucherRead,
    VoucherUpdate,
)
from bizosaas.commerce.service.catalog import found
from bizosaas.commerce.service.pricing import PromotionRule, VoucherRule
from bizosaas.commerce.service.shipping import from_basis_points, to_basis_points
from bizosaas.kit.tenancy import TenantScope, bind_tenant


def _percent_bp(data: object) -> int | None:
    percentage = getattr(data, "percentage", None)
    return None if percentage is None else to_basis_points(percentage)


def _amount_minor(data: object, currency: str) -> int | None:
    amount = getattr(data, "amount", None)
    return None if amount is None else to_minor(amount, currency)


def voucher_read(voucher: Voucher, currency: str) -> VoucherRead:
    def money(amount_minor: int | None) -> object:
        return None if amount_minor is None else from_minor(amount_minor, currency)

    return VoucherRead.model_validate(
        {
            "id": voucher.id,
            "channel_id": voucher.channel_id,
            "code": voucher.code,
            "name": voucher.name,
            "kind": voucher.kind,
            "percentage": None
            if voucher.percent_bp is None
            else from_basis_points(voucher.percent_bp),
            "amount": money(voucher.amount_minor),
            "min_spend": money(voucher.min_spend_minor),
            "usage_limit": voucher.usage_limit,
            "usage_limit_per_customer": voucher.usage_limit_per_customer,
            "used": voucher.used,
            "starts_at": voucher.starts_at,
            "ends_at": voucher.ends_at,
            "is_active": voucher.is_active,
        }
    )


async def _voucher(session: AsyncSession, scope: TenantScope, voucher_id: uuid.UUID) -> Voucher:
    await bind_tenant(session, scope)
    voucher = await sales.voucher(session, scope=scope, voucher_id=voucher_id)
    if voucher is None:
        raise CommerceNotFound(f"No voucher {voucher_id} in this store.")
    return voucher


async def create_voucher(
    session: AsyncSession, *, scope: TenantScope, data: VoucherCreate
) -> VoucherRead:
    channel = await found(session, Channel, scope=scope, row_id=data.channel_id)
    code = data.code.upper()
    if await sales.voucher_by_code(session, scope=scope, code=code) is not None:
        raise CodeTaken(f"A voucher has the code {code}.")
    currency = channel.currency
    voucher = Voucher(
        channel_id=channel.id,
        code=code,
        name=data.name,
        kind=data.kind.value,
        percent_bp=_percent_bp(data),
        amount_minor=_amount_minor(data, currency),
        min_spend_minor=None if data.min_spend is None else to_minor(data.min_spend, currency),
        usage_limit=data.usage_limit,
        usage_limit_per_customer=data.usage_limit_per_customer,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        is_active=data.is_active,
        used=0,
    )
    session.add(voucher)
    await session.flush()
    return voucher_read(voucher, currency)


async def update_voucher(
    session: AsyncSession, *, scope: TenantScope, voucher_id: uuid.UUID, data: VoucherUpdate
) -> VoucherRead:
    voucher = await _voucher(session, scope, voucher_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(voucher, name, value)
    await session.flush()
    channel = await found(session, Channel, scope=scope, row_id=voucher.channel_id)
    return voucher_read(voucher, channel.currency)


async def read_voucher(
    session: AsyncSession, *, scope: TenantScope, voucher_id: uuid.UUID
) -> VoucherRead:
    voucher = await _voucher(session, scope, voucher_id)
    channel = await found(session, Channel, scope=scope, row_id=voucher.channel_id)
    return voucher_read(voucher, channel.currency)


async def list_vouchers(session: AsyncSession, *, scope: TenantScope) -> list[VoucherRead]:
    await bind_tenant(session, scope)
    rows = await sales.list_vouchers(session, scope=scope)
    currencies: dict[uuid.UUID, str] = {}
    for row in rows:
        if row.channel_id not in currencies:
            channel = await found(session, Channel, scope=scope, row_id=row.channel_id)
            currencies[row.channel_id] = channel.currency
    return [voucher_read(row, currencies[row.channel_id]) for row in rows]


async def delete_voucher(
    session: AsyncSession, *, scope: TenantScope, voucher_id: uuid.UUID
) -> None:
    await session.delete(await _voucher(session, scope, voucher_id))
    await session.flush()


def usable_voucher(voucher: Voucher | None, *, channel_id: uuid.UUID, now: datetime) -> Voucher:
    """The voucher if a checkout in `channel_id` may use it now; `commerce.voucher_invalid`
    otherwise (unknown, inactive, outside its dates, another channel: one answer for all), and
    `commerce.voucher_exhausted` when its overall limit is reached."""
    if (
        voucher is None
        or not voucher.is_active
        or voucher.channel_id != channel_id
        or (voucher.starts_at is not None and now < voucher.starts_at)
        or (voucher.ends_at is not None and now >= voucher.ends_at)
    ):
        raise VoucherInvalid("This code is not valid in this store now.")
    if voucher.usage_limit is not None and voucher.used >= voucher.usage_limit:
        raise VoucherExhausted("This voucher has been used up.")
    return voucher


def voucher_rule(voucher: Voucher) -> VoucherRule:
    return VoucherRule(
        code=voucher.code,
        kind=DiscountKind(voucher.kind),
        percent_bp=voucher.percent_bp or 0,
        amount_minor=voucher.amount_minor or 0,
        min_spend_minor=voucher.min_spend_minor,
    )


async def use_voucher(
    session: AsyncSession, *, scope: TenantScope, voucher: Voucher, customer: str
) -> None:
    """Count one use by an order, overall and for `customer`, atomically: each counter moves
    by a conditional UPDATE, so concurrent orders never take a voucher past its limits."""
    if not await sales.take_voucher_use(session, scope=scope, voucher_id=voucher.id):
        raise VoucherExhausted("This voucher has been used up.")
    if not await sales.take_customer_use(
        session,
        scope=scope,
        voucher_id=voucher.id,
        customer=customer,
        limit=voucher.usage_limit_per_customer,
    ):
        raise VoucherExhausted("You have used this voucher as often as it may be used.")


# -- promotions ---------------------------------------------------------------------------------


def promotion_read(promotion: Promotion, currency: str) -> PromotionRead:
    return PromotionRead(
        id=promotion.id,
        channel_id=promotion.channel_id,
        name=promotion.name,
        kind=DiscountKind(promotion.kind),
        percentage=None
        if promotion.percent_bp is None
        else from_basis_points(promotion.percent_bp),
        amount=None
        if promotion.amount_minor is None
        else from_minor(promotion.amount_minor, currency),
        category_id=promotion.category_id,
        product_id=promotion.product_id,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
        is_active=promotion.is_active,
    )


def promotion_rule(promotion: Promotion) -> PromotionRule:
    return PromotionRule(
        key=promotion.id,
        kind=DiscountKind(promotion.kind),
        percent_bp=promotion.percent_bp or 0,
        amount_minor=promotion.amount_minor or 0,
        category_id=promotion.category_id,
        product_id=promotion.product_id,
    )


async def create_promotion(
    session: AsyncSession, *, scope: TenantScope, data: PromotionCreate
) -> PromotionRead:
    channel = await found(session, Channel, scope=scope, row_id=data.channel_id)
    if data.category_id is not None:
        await found(session, Category, scope=scope, row_id=data.category_id)
    if data.product_id is not None:
        await found(session, Product, scope=scope, row_id=data.product_id)
    promotion = Promotion(
        channel_id=channel.id,
        name=data.name,
        kind=data.kind.value,
        percent_bp=_percent_bp(data),
        amount_minor=_amount_minor(data, channel.currency),
        category_id=data.category_id,
        product_id=data.product_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        is_active=data.is_active,
    )
    session.add(promotion)
    await session.flush()
    return promotion_read(promotion, channel.currency)


async def _promotion(
    session: AsyncSession, scope: TenantScope, promotion_id: uuid.UUID
) -> Promotion:
    await bind_tenant(session, scope)
    promotion = await sales.promotion(session, scope=scope, promotion_id=promotion_id)
    if promotion is None:
        raise CommerceNotFound(f"No promotion {promotion_id} in this store.")
    return promotion


async def read_promotion(
    session: AsyncSession, *, scope: TenantScope, promotion_id: uuid.UUID
) -> PromotionRead:
    promotion = await _promotion(session, scope, promotion_id)
    channel = await found(session, Channel, scope=scope, row_id=promotion.channel_id)
    return promotion_read(promotion, channel.currency)


async def list_promotions(session: AsyncSession, *, scope: TenantScope) -> list[PromotionRead]:
    await bind_tenant(session, scope)
    rows = await sales.list_promotions(session, scope=scope)
    result = []
    for row in rows:
        channel = await found(session, Channel, scope=scope, row_id=row.channel_id)
        result.append(promotion_read(row, channel.currency))
    return result


async def delete_promotion(
    session: AsyncSession, *, scope: TenantScope, promotion_id: uuid.UUID
) -> None:
    await session.delete(await _promotion(session, scope, promotion_id))
    await session.flush()
