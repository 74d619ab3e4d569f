"""Every query of the payment tables. Reads take the `TenantScope` and name its tenant in the
WHERE clause, on top of the ORM filter and PostgreSQL's row-level security.

A payment about to change is read `FOR UPDATE` (`locked=True`): operations on one payment
queue on its row lock on PostgreSQL (SQLite has one writer at a time), so two refunds at once
can never together exceed what was captured.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.payments.models import (
    Payment,
    PaymentSettings,
    PaymentTransaction,
    StripeEvent,
    TransactionKind,
    TransactionStatus,
)
from bizosaas.kit.tenancy import TenantScope


async def payment(
    session: AsyncSession, *, scope: TenantScope, payment_id: uuid.UUID, locked: bool = False
) -> Payment | None:
    query = select(Payment).where(Payment.id == payment_id, Payment.tenant_id == scope.tenant_id)
    return await session.scalar(query.with_for_update() if locked else query)


async def payment_by_reference(
    session: AsyncSession, *, scope: TenantScope, provider: str, reference: str
) -> Payment | None:
    return await session.scalar(
        select(Payment)
        .where(
            Payment.tenant_id == scope.tenant_id,
            Payment.provider == provider,
            Payment.provider_reference == reference,
        )
        .with_for_update()
    )


async def payments(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID | None = None
) -> Sequence[Payment]:
    query = select(Payment).where(Payment.tenant_id == scope.tenant_id)
    if order_id is not None:
        query = query.where(Payment.order_id == order_id)
    return (await session.scalars(query.order_by(Payment.created_at, Payment.id).limit(500))).all()


async def payment_count(session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.tenant_id == scope.tenant_id, Payment.order_id == order_id)
        )
        or 0
    )


async def transactions(
    session: AsyncSession, *, scope: TenantScope, payment_ids: Sequence[uuid.UUID]
) -> Sequence[PaymentTransaction]:
    if not payment_ids:
        return []
    return (
        await session.scalars(
            select(PaymentTransaction)
            .where(
                PaymentTransaction.tenant_id == scope.tenant_id,
                PaymentTransaction.payment_id.in_(payment_ids),
            )
            .order_by(PaymentTransaction.created_at, PaymentTransaction.id)
        )
    ).all()


async def succeeded_refunds(
    session: AsyncSession, *, scope: TenantScope, payment_id: uuid.UUID
) -> int:
    """How many refunds of the payment succeeded: the sequence number of the next one."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(PaymentTransaction)
            .where(
                PaymentTransaction.tenant_id == scope.tenant_id,
                PaymentTransaction.payment_id == payment_id,
                PaymentTransaction.kind == TransactionKind.refund.value,
                PaymentTransaction.status == TransactionStatus.succeeded.value,
            )
        )
        or 0
    )


async def settings(session: AsyncSession, *, scope: TenantScope) -> PaymentSettings | None:
    return await session.scalar(
        select(PaymentSettings).where(PaymentSettings.tenant_id == scope.tenant_id)
    )


async def stripe_event_seen(session: AsyncSession, *, scope: TenantScope, event_id: str) -> bool:
    found = await session.scalar(
        select(StripeEvent.id).where(
            StripeEvent.tenant_id == scope.tenant_id, StripeEvent.event_id == event_id
        )
    )
    return found is not None
