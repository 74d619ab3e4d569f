"""Stripe webhooks: `POST /api/brain/commerce/webhooks/stripe/{store_slug}`.

The store comes from the URL, and nothing is trusted until the body verifies against that
store's webhook signing secret with the SDK's own check (`stripe.Webhook.construct_event`:
HMAC-SHA256 over the timestamp and the raw body, with a five-minute tolerance; offline). A bad
or missing signature answers 400 `commerce.webhook_signature_invalid` and changes nothing.

Stripe delivers at least once, so each event id is stored with the change it made, in one
transaction: a delivery seen before (or arriving while the first is applied: the unique index
makes it wait, then see it) applies nothing and answers 200, so Stripe stops retrying.

Applied: `payment_intent.amount_capturable_updated` (authorised), `payment_intent.succeeded`
(captured), `payment_intent.payment_failed`, `payment_intent.canceled` and `charge.refunded`
(refunds made in Stripe's dashboard too). Each moves a payment only forward, so an event that
reports what our own API call already recorded changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import stripe
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.exceptions import CommerceNotFound
from bizosaas.commerce.payments import repository, transitions
from bizosaas.commerce.payments.context import PaymentContext
from bizosaas.commerce.payments.exceptions import (
    PaymentProviderNotConfigured,
    WebhookSignatureInvalid,
)
from bizosaas.commerce.payments.models import Payment, PaymentStatus, StripeEvent, TransactionKind
from bizosaas.commerce.payments.providers.base import ProviderOutcome, ProviderResult
from bizosaas.commerce.payments.providers.stripe import StripeProvider
from bizosaas.commerce.payments.store_settings import stripe_webhook_secret
from bizosaas.identity import service as identity
from bizosaas.kit.tenancy import TenantScope, bind_tenant, trusted_scope

_OPEN = {PaymentStatus.pending.value, PaymentStatus.authorized.value}
_REFUNDABLE = {PaymentStatus.captured.value, PaymentStatus.partially_refunded.value}


class WebhookReceipt(BaseModel):
    received: bool = True
    event_id: str
    type: str
    applied: bool
    """Whether the event changed a payment (false for one seen before, for a payment this store
    does not have, or for news the payment already reflects)."""
    duplicate: bool = False


async def receive_stripe_event(
    session: AsyncSession,
    *,
    context: PaymentContext,
    store_slug: str,
    payload: bytes,
    signature: str | None,
) -> WebhookReceipt:
    tenant = await identity.active_tenant_by_slug(session, slug=store_slug)
    if tenant is None:
        raise CommerceNotFound("No such store.")
    # The slug is only a claim until the signature below verifies with this store's secret;
    # until then the scope serves to read that secret and nothing else.
    scope = trusted_scope(tenant.id)
    await bind_tenant(session, scope)
    secret = stripe_webhook_secret(
        await repository.settings(session, scope=scope), context=context, scope=scope
    )
    if secret is None:
        raise PaymentProviderNotConfigured("The store has no Stripe webhook signing secret.")
    try:
        stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError):
        raise WebhookSignatureInvalid(
            "The Stripe-Signature header does not verify with the store's signing secret."
        ) from None
    # Verified: read the body as the plain JSON it is (the SDK's objects are not dicts).
    event = json.loads(payload)
    event_id, event_type = str(event["id"]), str(event["type"])
    if not await _first_delivery(session, scope=scope, event_id=event_id, event_type=event_type):
        return WebhookReceipt(event_id=event_id, type=event_type, applied=False, duplicate=True)
    data = (event.get("data") or {}).get("object") or {}
    applied = await _apply(session, context=context, scope=scope, event_type=event_type, data=data)
    return WebhookReceipt(event_id=event_id, type=event_type, applied=applied)


async def _first_delivery(
    session: AsyncSession, *, scope: TenantScope, event_id: str, event_type: str
) -> bool:
    if await repository.stripe_event_seen(session, scope=scope, event_id=event_id):
        return False
    try:
        async with session.begin_nested():
            session.add(StripeEvent(event_id=event_id, type=event_type[:100]))
    except IntegrityError:
        return False  # a concurrent delivery of the same event stored it first
    return True


async def _apply(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    event_type: str,
    data: Any,
) -> bool:
    reference = data.get("payment_intent") if event_type == "charge.refunded" else data.get("id")
    if not isinstance(reference, str):
        return False
    payment = await repository.payment_by_reference(
        session, scope=scope, provider=StripeProvider.name, reference=reference
    )
    if payment is None:
        return False
    if event_type == "charge.refunded":
        return await _refunded(session, context=context, scope=scope, payment=payment, charge=data)
    if payment.status not in _OPEN:
        return False
    if event_type == "payment_intent.amount_capturable_updated":
        if (
            payment.status != PaymentStatus.pending.value
            or data.get("status") != "requires_capture"
        ):
            return False
        _record(
            session,
            payment,
            TransactionKind.authorization,
            int(data.get("amount_capturable") or payment.amount_minor),
        )
        await transitions.authorise(session, context=context, scope=scope, payment=payment)
        return True
    if event_type == "payment_intent.succeeded":
        amount = int(data.get("amount_received") or 0)
        _record(session, payment, TransactionKind.capture, amount)
        await transitions.capture(
            session, context=context, scope=scope, payment=payment, amount_minor=amount
        )
        return True
    if event_type == "payment_intent.payment_failed":
        error = data.get("last_payment_error") or {}
        result = ProviderResult(
            outcome=ProviderOutcome.failed,
            amount_minor=payment.amount_minor,
            reference=reference,
            error_code=error.get("decline_code") or error.get("code"),
            error_message=error.get("message"),
        )
        transitions.record_transaction(
            session, payment=payment, kind=TransactionKind.authorization, result=result
        )
        await transitions.fail(
            session, context=context, scope=scope, payment=payment, result=result
        )
        return True
    if event_type == "payment_intent.canceled":
        _record(session, payment, TransactionKind.void, 0)
        await transitions.void(session, context=context, scope=scope, payment=payment)
        return True
    return False


async def _refunded(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    payment: Payment,
    charge: Any,
) -> bool:
    """`charge.refunded` carries the charge's cumulative `amount_refunded`: what exceeds the
    refunds recorded here was refunded elsewhere (Stripe's dashboard)."""
    if payment.status not in _REFUNDABLE:
        return False
    total = min(int(charge.get("amount_refunded") or 0), payment.captured_minor)
    missing = total - payment.refunded_minor
    if missing <= 0:
        return False
    refunds = (charge.get("refunds") or {}).get("data") or []
    reference = str(refunds[0]["id"]) if refunds and "id" in refunds[0] else None
    transitions.record_transaction(
        session,
        payment=payment,
        kind=TransactionKind.refund,
        result=ProviderResult(
            outcome=ProviderOutcome.refunded, amount_minor=missing, reference=reference
        ),
    )
    await transitions.refund(
        session, context=context, scope=scope, payment=payment, amount_minor=missing
    )
    return True


_OUTCOMES = {
    TransactionKind.authorization: ProviderOutcome.authorized,
    TransactionKind.capture: ProviderOutcome.captured,
    TransactionKind.void: ProviderOutcome.voided,
}


def _record(session: AsyncSession, payment: Payment, kind: TransactionKind, amount: int) -> None:
    """The transaction Stripe reports (it happened there: no idempotency key of ours)."""
    transitions.record_transaction(
        session,
        payment=payment,
        kind=kind,
        result=ProviderResult(
            outcome=_OUTCOMES[kind], amount_minor=amount, reference=payment.provider_reference
        ),
    )
