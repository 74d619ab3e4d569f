"""Queries of the selling tables: shipping, tax, vouchers, promotions, checkouts and orders
(the catalogue's are in repository.py, whose rules hold here: reads take the `TenantScope` and
name its tenant; counters move only by conditional statements whose row count decides).

Three counters matter under concurrency, and none is read in Python and written back:
* a voucher's `used` and a customer's use of it: `SET used = used + 1 WHERE used < limit`;
* a tenant's order number: `SET last_number = last_number + 1 ... RETURNING`, in the order's own
  transaction, so the row lock orders concurrent orders and a rollback gives the number back;
* a checkout's completion: `SET completed_at = now WHERE completed_at IS NULL`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.models import (
    Channel,
    Checkout,
    CheckoutLine,
    Fulfilment,
    Order,
    OrderCounter,
    OrderEvent,
    OrderLine,
    Product,
    Promotion,
    ShippingMethod,
    ShippingZone,
    TaxConfig,
    Variant,
    Voucher,
    VoucherCustomerUse,
)
from bizosaas.kit.tenancy import TenantScope


async def _insert_if_missing(session: AsyncSession, model: Any, values: dict[str, Any]) -> None:
    """`INSERT ... ON CONFLICT DO NOTHING` on either backend (a row two transactions may both
    try to create first)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(model).values(**values).on_conflict_do_nothing())


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0))


# -- channels, shipping, tax ----------------------------------------------------------------------


async def channel_by_slug(
    session: AsyncSession, *, scope: TenantScope, slug: str
) -> Channel | None:
    return await session.scalar(
        select(Channel).where(Channel.tenant_id == scope.tenant_id, Channel.slug == slug)
    )


async def zones_of_channel(
    session: AsyncSession, *, scope: TenantScope, channel_id: uuid.UUID | None = None
) -> Sequence[ShippingZone]:
    query = select(ShippingZone).where(ShippingZone.tenant_id == scope.tenant_id)
    if channel_id is not None:
        query = query.where(ShippingZone.channel_id == channel_id)
    return (await session.scalars(query.order_by(ShippingZone.name, ShippingZone.id))).all()


async def methods_of_zones(
    session: AsyncSession, *, scope: TenantScope, zone_ids: Sequence[uuid.UUID]
) -> Sequence[ShippingMethod]:
    if not zone_ids:
        return []
    return (
        await session.scalars(
            select(ShippingMethod)
            .where(
                ShippingMethod.tenant_id == scope.tenant_id, ShippingMethod.zone_id.in_(zone_ids)
            )
            .order_by(ShippingMethod.price_minor, ShippingMethod.name, ShippingMethod.id)
        )
    ).all()


async def shipping_method(
    session: AsyncSession, *, scope: TenantScope, method_id: uuid.UUID
) -> Row[ShippingMethod, ShippingZone] | None:
    return (
        await session.execute(
            select(ShippingMethod, ShippingZone)
            .join(ShippingZone, ShippingZone.id == ShippingMethod.zone_id)
            .where(ShippingMethod.tenant_id == scope.tenant_id, ShippingMethod.id == method_id)
        )
    ).first()


async def shipping_zone(
    session: AsyncSession, *, scope: TenantScope, zone_id: uuid.UUID
) -> ShippingZone | None:
    return await session.scalar(
        select(ShippingZone).where(
            ShippingZone.tenant_id == scope.tenant_id, ShippingZone.id == zone_id
        )
    )


async def tax_config(
    session: AsyncSession, *, scope: TenantScope, channel_id: uuid.UUID
) -> TaxConfig | None:
    return await session.scalar(
        select(TaxConfig).where(
            TaxConfig.tenant_id == scope.tenant_id, TaxConfig.channel_id == channel_id
        )
    )


# -- vouchers and promotions ------------------------------------------------------------------


async def voucher(
    session: AsyncSession, *, scope: TenantScope, voucher_id: uuid.UUID
) -> Voucher | None:
    return await session.scalar(
        select(Voucher).where(Voucher.tenant_id == scope.tenant_id, Voucher.id == voucher_id)
    )


async def voucher_by_code(
    session: AsyncSession, *, scope: TenantScope, code: str
) -> Voucher | None:
    return await session.scalar(
        select(Voucher).where(Voucher.tenant_id == scope.tenant_id, Voucher.code == code.upper())
    )


async def list_vouchers(session: AsyncSession, *, scope: TenantScope) -> Sequence[Voucher]:
    return (
        await session.scalars(
            select(Voucher).where(Voucher.tenant_id == scope.tenant_id).order_by(Voucher.code)
        )
    ).all()


async def promotion(
    session: AsyncSession, *, scope: TenantScope, promotion_id: uuid.UUID
) -> Promotion | None:
    return await session.scalar(
        select(Promotion).where(
            Promotion.tenant_id == scope.tenant_id, Promotion.id == promotion_id
        )
    )


async def list_promotions(
    session: AsyncSession,
    *,
    scope: TenantScope,
    channel_id: uuid.UUID | None = None,
    live_at: datetime | None = None,
) -> Sequence[Promotion]:
    """The store's promotions; with `live_at`, only those active then (within their dates)."""
    query = select(Promotion).where(Promotion.tenant_id == scope.tenant_id)
    if channel_id is not None:
        query = query.where(Promotion.channel_id == channel_id)
    if live_at is not None:
        query = query.where(
            Promotion.is_active.is_(True),
            or_(Promotion.starts_at.is_(None), Promotion.starts_at <= live_at),
            or_(Promotion.ends_at.is_(None), Promotion.ends_at > live_at),
        )
    return (await session.scalars(query.order_by(Promotion.name, Promotion.id))).all()


async def take_voucher_use(
    session: AsyncSession, *, scope: TenantScope, voucher_id: uuid.UUID
) -> bool:
    """Count one use if the voucher's overall limit allows it (one conditional UPDATE)."""
    result = await session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher_id,
            Voucher.tenant_id == scope.tenant_id,
            or_(Voucher.usage_limit.is_(None), Voucher.used < Voucher.usage_limit),
        )
        .values(used=Voucher.used + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def take_customer_use(
    session: AsyncSession,
    *,
    scope: TenantScope,
    voucher_id: uuid.UUID,
    customer: str,
    limit: int | None,
) -> bool:
    """Count one use of the voucher by `customer` if their limit allows it."""
    await _insert_if_missing(
        session,
        VoucherCustomerUse,
        {"tenant_id": scope.tenant_id, "voucher_id": voucher_id, "customer": customer, "used": 0},
    )
    condition = [
        VoucherCustomerUse.tenant_id == scope.tenant_id,
        VoucherCustomerUse.voucher_id == voucher_id,
        VoucherCustomerUse.customer == customer,
    ]
    if limit is not None:
        condition.append(VoucherCustomerUse.used < limit)
    result = await session.execute(
        update(VoucherCustomerUse)
        .where(and_(*condition))
        .values(used=VoucherCustomerUse.used + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


# -- checkouts ----------------------------------------------------------------------------------


async def checkout_by_token_hash(
    session: AsyncSession, *, scope: TenantScope, token_hash: str
) -> Checkout | None:
    return await session.scalar(
        select(Checkout).where(
            Checkout.tenant_id == scope.tenant_id, Checkout.token_hash == token_hash
        )
    )


async def checkout_lines(
    session: AsyncSession, *, scope: TenantScope, checkout_id: uuid.UUID
) -> Sequence[Row[CheckoutLine, Variant, Product]]:
    return (
        await session.execute(
            select(CheckoutLine, Variant, Product)
            .join(Variant, Variant.id == CheckoutLine.variant_id)
            .join(Product, Product.id == Variant.product_id)
            .where(
                CheckoutLine.tenant_id == scope.tenant_id,
                CheckoutLine.checkout_id == checkout_id,
            )
            .order_by(CheckoutLine.position, CheckoutLine.id)
        )
    ).all()


async def checkout_line(
    session: AsyncSession, *, scope: TenantScope, checkout_id: uuid.UUID, line_id: uuid.UUID
) -> CheckoutLine | None:
    return await session.scalar(
        select(CheckoutLine).where(
            CheckoutLine.tenant_id == scope.tenant_id,
            CheckoutLine.checkout_id == checkout_id,
            CheckoutLine.id == line_id,
        )
    )


async def line_of_variant(
    session: AsyncSession, *, scope: TenantScope, checkout_id: uuid.UUID, variant_id: uuid.UUID
) -> CheckoutLine | None:
    return await session.scalar(
        select(CheckoutLine).where(
            CheckoutLine.tenant_id == scope.tenant_id,
            CheckoutLine.checkout_id == checkout_id,
            CheckoutLine.variant_id == variant_id,
        )
    )


async def mark_completed(
    session: AsyncSession, *, scope: TenantScope, checkout_id: uuid.UUID, now: datetime
) -> bool:
    """Close the checkout if it is still open; False when another completion got there first."""
    result = await session.execute(
        update(Checkout)
        .where(
            Checkout.id == checkout_id,
            Checkout.tenant_id == scope.tenant_id,
            Checkout.completed_at.is_(None),
        )
        .values(completed_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


# -- orders -------------------------------------------------------------------------------------


async def next_order_number(session: AsyncSession, *, scope: TenantScope) -> int:
    """The tenant's next order number, taken in the caller's transaction (see module doc)."""
    await _insert_if_missing(
        session, OrderCounter, {"tenant_id": scope.tenant_id, "last_number": 0}
    )
    result = await session.execute(
        update(OrderCounter)
        .where(OrderCounter.tenant_id == scope.tenant_id)
        .values(last_number=OrderCounter.last_number + 1)
        .returning(OrderCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number: int = result.scalar_one()
    return number


async def order(session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.tenant_id == scope.tenant_id, Order.id == order_id)
    )


async def order_of_checkout(
    session: AsyncSession, *, scope: TenantScope, checkout_id: uuid.UUID
) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.tenant_id == scope.tenant_id, Order.checkout_id == checkout_id)
    )


async def order_lines(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID
) -> Sequence[OrderLine]:
    return (
        await session.scalars(
            select(OrderLine)
            .where(OrderLine.tenant_id == scope.tenant_id, OrderLine.order_id == order_id)
            .order_by(OrderLine.position, OrderLine.id)
        )
    ).all()


async def list_orders(
    session: AsyncSession,
    *,
    scope: TenantScope,
    limit: int,
    before_number: int | None = None,
    customer_user_id: uuid.UUID | None = None,
    status: str | None = None,
) -> Sequence[Order]:
    """Newest first, a page of `limit` below `before_number` (keyset on the number)."""
    query = select(Order).where(Order.tenant_id == scope.tenant_id)
    if before_number is not None:
        query = query.where(Order.number < before_number)
    if customer_user_id is not None:
        query = query.where(Order.customer_user_id == customer_user_id)
    if status is not None:
        query = query.where(Order.status == status)
    return (await session.scalars(query.order_by(Order.number.desc()).limit(limit))).all()


async def order_events(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID
) -> Sequence[OrderEvent]:
    return (
        await session.scalars(
            select(OrderEvent)
            .where(OrderEvent.tenant_id == scope.tenant_id, OrderEvent.order_id == order_id)
            .order_by(OrderEvent.created_at, OrderEvent.id)
        )
    ).all()


async def fulfilments(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID
) -> Sequence[Fulfilment]:
    return (
        await session.scalars(
            select(Fulfilment)
            .where(Fulfilment.tenant_id == scope.tenant_id, Fulfilment.order_id == order_id)
            .order_by(Fulfilment.created_at, Fulfilment.id)
        )
    ).all()


async def count_orders(session: AsyncSession, *, scope: TenantScope) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Order).where(Order.tenant_id == scope.tenant_id)
        )
        or 0
    )
