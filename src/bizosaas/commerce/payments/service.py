"""Payment use cases: start a payment for an order, capture, void, refund, read.

Each takes the session and keyword-only arguments, binds the session to the caller's scope,
may flush and never commits. The state machine:

    pending --authorise--> authorized --capture (all or part)--> captured
    pending --capture (manual: money received)------------------> captured
    pending | authorized --void--> voided         pending | authorized --decline--> failed
    captured | partially_refunded --refund (all or part)--> partially_refunded | refunded

Anything else is 409 `commerce.payment_invalid_state`; capturing more than was authorised 409
`commerce.payment_capture_exceeds_authorized`, refunding more than was captured and not yet
refunded 409 `commerce.payment_refund_exceeds_captured`. The provider is asked only once the
request passed these checks, and the payment row is locked meanwhile, so concurrent
operations on one payment queue rather than race.

Provider idempotency keys come from our own operation, never from chance: the order and its
payment attempt number for an authorisation, the payment id for a capture or void, the payment
id and the refund's sequence number for a refund (each with the amount). A retry after a lost
answer sends the same key, and Stripe replays its first answer instead of charging again.

After each change (transitions.py) the `on_payment_event` hook of the payment context (the
orders code) is called in the same unit of work, and `commerce.payment_authorized`,
`commerce.payment_captured` or `commerce.payment_refunded` goes to the outbox.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.currencies import MINOR_UNITS, from_minor, to_minor
from bizosaas.commerce.exceptions import CommerceNotFound
from bizosaas.commerce.payments import repository
from bizosaas.commerce.payments.context import PaymentContext
from bizosaas.commerce.payments.exceptions import (
    InvalidPayable,
    PaymentAmountInvalid,
    PaymentCaptureExceedsAuthorized,
    PaymentInvalidState,
    PaymentProviderNotConfigured,
    PaymentProviderUnknown,
    PaymentRefundExceedsCaptured,
)
from bizosaas.commerce.payments.models import (
    Payment,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
)
from bizosaas.commerce.payments.providers.base import Payable, PaymentProvider, ProviderOutcome
from bizosaas.commerce.payments.providers.manual import ManualProvider
from bizosaas.commerce.payments.providers.stripe import StripeProvider
from bizosaas.commerce.payments.reads import payment_read
from bizosaas.commerce.payments.schemas import PaymentRead
from bizosaas.commerce.payments.store_settings import stripe_secret_key
from bizosaas.commerce.payments.transitions import (
    authorise,
    capture,
    fail,
    record_transaction,
    refund,
    void,
)
from bizosaas.kit.tenancy import TenantScope, bind_tenant

PROVIDERS = ("manual", "stripe")
_OPEN = {PaymentStatus.pending.value, PaymentStatus.authorized.value}
_REFUNDABLE = {PaymentStatus.captured.value, PaymentStatus.partially_refunded.value}


# -- reading -----------------------------------------------------------------------------------


async def _read(
    session: AsyncSession, *, scope: TenantScope, payment: Payment, client_secret: str | None = None
) -> PaymentRead:
    await session.flush()
    await session.refresh(payment)
    rows = await repository.transactions(session, scope=scope, payment_ids=[payment.id])
    return payment_read(payment, list(rows), client_secret=client_secret)


async def list_payments(
    session: AsyncSession, *, scope: TenantScope, order_id: uuid.UUID | None = None
) -> list[PaymentRead]:
    await bind_tenant(session, scope)
    payments = await repository.payments(session, scope=scope, order_id=order_id)
    rows = await repository.transactions(
        session, scope=scope, payment_ids=[payment.id for payment in payments]
    )
    by_payment: dict[uuid.UUID, list[PaymentTransaction]] = {}
    for row in rows:
        by_payment.setdefault(row.payment_id, []).append(row)
    return [payment_read(payment, by_payment.get(payment.id)) for payment in payments]


async def read_payment(
    session: AsyncSession, *, scope: TenantScope, payment_id: uuid.UUID
) -> PaymentRead:
    payment = await _found(session, scope=scope, payment_id=payment_id, locked=False)
    return await _read(session, scope=scope, payment=payment)


async def _found(
    session: AsyncSession, *, scope: TenantScope, payment_id: uuid.UUID, locked: bool = True
) -> Payment:
    await bind_tenant(session, scope)
    payment = await repository.payment(session, scope=scope, payment_id=payment_id, locked=locked)
    if payment is None:
        raise CommerceNotFound(f"No payment {payment_id} in this store.")
    return payment


# -- providers ---------------------------------------------------------------------------------


async def provider_for(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    name: str,
    new_payment: bool,
) -> PaymentProvider:
    """The provider `name` as the store has set it up. A new payment needs the provider
    enabled; an existing one only needs the keys to finish what it started."""
    if name not in PROVIDERS:
        raise PaymentProviderUnknown(f"Unknown payment provider {name!r}.", providers=PROVIDERS)
    row = await repository.settings(session, scope=scope)
    if name == ManualProvider.name:
        if new_payment and row is not None and not row.manual_enabled:
            raise PaymentProviderNotConfigured("The store does not take manual payments.")
        return ManualProvider()
    secret = stripe_secret_key(row, context=context, scope=scope)
    if secret is None or (new_payment and not (row and row.stripe_enabled)):
        raise PaymentProviderNotConfigured("Stripe is not set up for the store.")
    return StripeProvider(context.stripe_client(secret))


# -- starting a payment --------------------------------------------------------------------------


async def start_payment(
    session: AsyncSession,
    *,
    context: PaymentContext,
    payable: Payable,
    provider_name: str,
    payment_method: str | None = None,
) -> PaymentRead:
    """Open a payment of `payable` with the provider: what the checkout calls.

    Stripe creates a PaymentIntent to authorise (the answer carries its `client_secret` for
    Stripe.js; with `payment_method`, e.g. a saved card, it is confirmed at once and comes
    back authorized or failed). A manual payment is pending until staff capture it. A
    declined card is recorded as a failed payment, not raised: the checkout shows it."""
    scope = payable.scope
    await bind_tenant(session, scope)
    if payable.currency not in MINOR_UNITS or payable.amount_minor <= 0:
        raise InvalidPayable(
            "A payable needs an amount above zero in a known currency.",
            currency=payable.currency,
        )
    provider = await provider_for(
        session, context=context, scope=scope, name=provider_name, new_payment=True
    )
    attempt = await repository.payment_count(session, scope=scope, order_id=payable.order_id)
    # The same attempt with other parameters (another card after a decline that was not
    # recorded) must not collide with the first at Stripe: they are part of the key.
    key = (
        f"bizosaas-{scope.tenant_id}-{payable.order_id}-{attempt}-authorise-"
        f"{payable.amount_minor}{payable.currency}-{(payment_method or 'browser')[:60]}"
    )
    result = await provider.authorise(
        payable=payable, idempotency_key=key, payment_method=payment_method
    )
    payment = Payment(
        order_id=payable.order_id,
        provider=provider.name,
        status=PaymentStatus.pending.value,
        currency=payable.currency,
        amount_minor=payable.amount_minor,
        captured_minor=0,
        refunded_minor=0,
        customer_email=payable.customer_email,
        description=payable.description,
        provider_reference=result.reference,
        attempt=attempt,
    )
    session.add(payment)
    await session.flush()
    outcome = result.outcome
    record_transaction(
        session,
        payment=payment,
        kind=TransactionKind.authorization,
        result=result,
        operation_key=key,
    )
    if outcome is ProviderOutcome.authorized:
        await authorise(session, context=context, scope=scope, payment=payment)
    elif outcome is ProviderOutcome.captured:
        await capture(session, context=context, scope=scope, payment=payment, amount_minor=None)
    elif outcome is ProviderOutcome.failed:
        await fail(session, context=context, scope=scope, payment=payment, result=result)
    return await _read(session, scope=scope, payment=payment, client_secret=result.client_secret)


# -- staff operations ------------------------------------------------------------------------


async def capture_payment(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    payment_id: uuid.UUID,
    amount: Decimal | None = None,
) -> PaymentRead:
    """Capture all or part of what is authorised (for a manual payment: mark the money
    received). One capture per payment; what is not captured is released."""
    payment = await _found(session, scope=scope, payment_id=payment_id)
    provider = await provider_for(
        session, context=context, scope=scope, name=payment.provider, new_payment=False
    )
    capturable = {PaymentStatus.authorized.value}
    if provider.captures_pending:
        capturable.add(PaymentStatus.pending.value)
    if payment.status not in capturable:
        raise PaymentInvalidState(
            f"A {payment.status} {payment.provider} payment cannot be captured.",
            payment_status=payment.status,
        )
    amount_minor = _minor(amount, payment) if amount is not None else payment.amount_minor
    if amount_minor > payment.amount_minor:
        raise PaymentCaptureExceedsAuthorized(
            f"{_money(amount_minor, payment)} is more than the "
            f"{_money(payment.amount_minor, payment)} authorised.",
            authorized=str(from_minor(payment.amount_minor, payment.currency)),
        )
    key = f"bizosaas-{payment.id}-capture-{amount_minor}"
    result = await provider.capture(
        reference=payment.provider_reference, amount_minor=amount_minor, idempotency_key=key
    )
    record_transaction(
        session, payment=payment, kind=TransactionKind.capture, result=result, operation_key=key
    )
    await capture(
        session, context=context, scope=scope, payment=payment, amount_minor=result.amount_minor
    )
    return await _read(session, scope=scope, payment=payment)


async def void_payment(
    session: AsyncSession, *, context: PaymentContext, scope: TenantScope, payment_id: uuid.UUID
) -> PaymentRead:
    """Cancel a payment nothing was captured of (releasing a card authorisation)."""
    payment = await _found(session, scope=scope, payment_id=payment_id)
    provider = await provider_for(
        session, context=context, scope=scope, name=payment.provider, new_payment=False
    )
    if payment.status not in _OPEN:
        raise PaymentInvalidState(
            f"A {payment.status} payment cannot be voided (refund a captured one).",
            payment_status=payment.status,
        )
    key = f"bizosaas-{payment.id}-void"
    result = await provider.void(reference=payment.provider_reference, idempotency_key=key)
    record_transaction(
        session, payment=payment, kind=TransactionKind.void, result=result, operation_key=key
    )
    await void(session, context=context, scope=scope, payment=payment)
    return await _read(session, scope=scope, payment=payment)


async def refund_payment(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    payment_id: uuid.UUID,
    amount: Decimal | None = None,
) -> PaymentRead:
    """Refund all or part of what was captured and not yet refunded."""
    payment = await _found(session, scope=scope, payment_id=payment_id)
    provider = await provider_for(
        session, context=context, scope=scope, name=payment.provider, new_payment=False
    )
    if payment.status not in _REFUNDABLE:
        raise PaymentInvalidState(
            f"A {payment.status} payment has nothing to refund.", payment_status=payment.status
        )
    refundable = payment.captured_minor - payment.refunded_minor
    amount_minor = _minor(amount, payment) if amount is not None else refundable
    if amount_minor > refundable:
        raise PaymentRefundExceedsCaptured(
            f"{_money(amount_minor, payment)} is more than the {_money(refundable, payment)} "
            "still refundable.",
            refundable=str(from_minor(refundable, payment.currency)),
        )
    sequence = await repository.succeeded_refunds(session, scope=scope, payment_id=payment.id)
    key = f"bizosaas-{payment.id}-refund-{sequence}-{amount_minor}"
    result = await provider.refund(
        reference=payment.provider_reference, amount_minor=amount_minor, idempotency_key=key
    )
    record_transaction(
        session, payment=payment, kind=TransactionKind.refund, result=result, operation_key=key
    )
    if result.outcome is ProviderOutcome.refunded:
        await refund(
            session, context=context, scope=scope, payment=payment, amount_minor=amount_minor
        )
    return await _read(session, scope=scope, payment=payment)


def _minor(amount: Decimal, payment: Payment) -> int:
    amount_minor = to_minor(amount, payment.currency)
    if amount_minor <= 0:
        raise PaymentAmountInvalid(
            f"{amount} {payment.currency} rounds to nothing.", currency=payment.currency
        )
    return amount_minor


def _money(amount_minor: int, payment: Payment) -> str:
    return f"{from_minor(amount_minor, payment.currency)} {payment.currency}"
