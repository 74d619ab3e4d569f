"""Payment state changes and what they announce, shared by the staff operations (service.py)
and the Stripe webhook (webhooks.py): each sets the payment's new state, writes its event to
the outbox (`commerce.payment_authorized`, `commerce.payment_captured`, `commerce.payment_refunded`)
and calls the context's `on_payment_event` hook in the same unit of work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.currencies import from_minor
from bizosaas.commerce.payments.context import PaymentChange, PaymentChangeKind, PaymentContext
from bizosaas.commerce.payments.events import (
    PAYMENT_AUTHORIZED,
    PAYMENT_CAPTURED,
    PAYMENT_REFUNDED,
    PaymentAuthorizedPayload,
    PaymentCapturedPayload,
    PaymentRefundedPayload,
)
from bizosaas.commerce.payments.models import (
    Payment,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from bizosaas.commerce.payments.providers.base import ProviderOutcome, ProviderResult
from bizosaas.commerce.payments.reads import payment_read
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import TenantScope


def record_transaction(
    session: AsyncSession,
    *,
    payment: Payment,
    kind: TransactionKind,
    result: ProviderResult,
    operation_key: str | None = None,
) -> PaymentTransaction:
    status = {
        ProviderOutcome.failed: TransactionStatus.failed,
        ProviderOutcome.pending: TransactionStatus.pending,
    }.get(result.outcome, TransactionStatus.succeeded)
    row = PaymentTransaction(
        payment_id=payment.id,
        kind=kind.value,
        status=status.value,
        amount_minor=result.amount_minor,
        provider_reference=result.reference,
        operation_key=operation_key,
        error_code=result.error_code,
        error_message=(result.error_message or "")[:500] or None,
    )
    session.add(row)
    return row


async def authorise(
    session: AsyncSession, *, context: PaymentContext, scope: TenantScope, payment: Payment
) -> None:
    payment.status = PaymentStatus.authorized.value
    record_event(
        session,
        PAYMENT_AUTHORIZED,
        PaymentAuthorizedPayload(
            order_id=payment.order_id,
            payment_id=payment.id,
            provider=payment.provider,
            amount=from_minor(payment.amount_minor, payment.currency),
            currency=payment.currency,
        ),
    )
    await _tell(
        session,
        context,
        scope=scope,
        payment=payment,
        change=PaymentChangeKind.authorized,
        amount_minor=payment.amount_minor,
    )


async def capture(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    payment: Payment,
    amount_minor: int | None,
) -> None:
    """Mark the payment captured with `amount_minor` (everything asked when None)."""
    captured = (
        payment.amount_minor if amount_minor is None else min(amount_minor, payment.amount_minor)
    )
    payment.captured_minor = captured
    payment.status = PaymentStatus.captured.value
    payment.error_code = payment.error_message = None
    record_event(
        session,
        PAYMENT_CAPTURED,
        PaymentCapturedPayload(
            order_id=payment.order_id,
            payment_id=payment.id,
            provider=payment.provider,
            amount=from_minor(captured, payment.currency),
            amount_requested=from_minor(payment.amount_minor, payment.currency),
            currency=payment.currency,
        ),
    )
    await _tell(
        session,
        context,
        scope=scope,
        payment=payment,
        change=PaymentChangeKind.captured,
        amount_minor=captured,
    )


async def void(
    session: AsyncSession, *, context: PaymentContext, scope: TenantScope, payment: Payment
) -> None:
    payment.status = PaymentStatus.voided.value
    await _tell(
        session,
        context,
        scope=scope,
        payment=payment,
        change=PaymentChangeKind.voided,
        amount_minor=0,
    )


async def fail(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    payment: Payment,
    result: ProviderResult,
) -> None:
    payment.status = PaymentStatus.failed.value
    payment.error_code = result.error_code
    payment.error_message = (result.error_message or "")[:500] or None
    await _tell(
        session,
        context,
        scope=scope,
        payment=payment,
        change=PaymentChangeKind.failed,
        amount_minor=0,
    )


async def refund(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    payment: Payment,
    amount_minor: int,
) -> None:
    payment.refunded_minor += amount_minor
    fully = payment.refunded_minor >= payment.captured_minor
    payment.status = (PaymentStatus.refunded if fully else PaymentStatus.partially_refunded).value
    record_event(
        session,
        PAYMENT_REFUNDED,
        PaymentRefundedPayload(
            order_id=payment.order_id,
            payment_id=payment.id,
            provider=payment.provider,
            amount=from_minor(amount_minor, payment.currency),
            total_refunded=from_minor(payment.refunded_minor, payment.currency),
            captured=from_minor(payment.captured_minor, payment.currency),
            fully_refunded=fully,
            currency=payment.currency,
        ),
    )
    await _tell(
        session,
        context,
        scope=scope,
        payment=payment,
        change=PaymentChangeKind.refunded,
        amount_minor=amount_minor,
    )


async def _tell(
    session: AsyncSession,
    context: PaymentContext,
    *,
    scope: TenantScope,
    payment: Payment,
    change: PaymentChangeKind,
    amount_minor: int,
) -> None:
    await session.flush()
    if context.on_payment_event is None:
        return
    await session.refresh(payment)
    change_read = PaymentChange(
        scope=scope, change=change, payment=payment_read(payment), amount_minor=amount_minor
    )
    await context.on_payment_event(session, change_read)
