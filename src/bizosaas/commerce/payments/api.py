"""The payments staff API and the Stripe webhook, under /api/brain/commerce/.

Capture, void and refund take an `Idempotency-Key` (kit/idempotency.py): a retry after a lost
answer gets the first answer and never moves money twice; the same key with another body is
refused. The webhook takes no login: its Stripe signature is its credential.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Header, Request

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import PaymentReader, PaymentWriter
from bizosaas.commerce.payments import service, store_settings, webhooks
from bizosaas.commerce.payments.context import Payments
from bizosaas.commerce.payments.schemas import (
    CaptureRequest,
    OrderPaymentStart,
    PaymentRead,
    PaymentSettingsRead,
    PaymentSettingsUpdate,
    RefundRequest,
)
from bizosaas.commerce.service import order_payments
from bizosaas.kit.auth import TenantSession, scope_of
from bizosaas.kit.deps import DbSession
from bizosaas.kit.idempotency import IdempotencyKey, IdempotentRoute

router = APIRouter(route_class=IdempotentRoute, tags=["commerce: payments"])

DECLINED = "`commerce.payment_declined`: the provider declined the money (`provider_code` says why)"
PROVIDER_FAILED = (
    "`commerce.payment_provider_unavailable` (the provider could not be reached; nothing was "
    "recorded, retry with the same Idempotency-Key) or `commerce.payment_provider_error` (the "
    "provider failed or refused the store's key)"
)


@router.get("/payments", summary="Payments of my store, or of one order")
async def list_payments(
    principal: PaymentReader, session: TenantSession, order_id: uuid.UUID | None = None
) -> list[PaymentRead]:
    return await service.list_payments(session, scope=scope_of(principal), order_id=order_id)


@router.get(
    "/payments/{payment_id}", summary="One payment with its transactions", responses=errors()
)
async def read_payment(
    payment_id: uuid.UUID, principal: PaymentReader, session: TenantSession
) -> PaymentRead:
    return await service.read_payment(session, scope=scope_of(principal), payment_id=payment_id)


@router.post(
    "/orders/{order_id}/payments",
    status_code=201,
    summary="Open a payment of what the order still owes, with a provider",
    dependencies=[IdempotencyKey],
    responses=errors(
        conflicts="`commerce.payment_provider_not_configured`",
        status_402=DECLINED,
        status_502=PROVIDER_FAILED,
    ),
)
async def pay_order(
    order_id: uuid.UUID,
    data: OrderPaymentStart,
    principal: PaymentWriter,
    session: TenantSession,
    context: Payments,
) -> PaymentRead:
    return await order_payments.pay_order(
        session,
        context=context,
        scope=scope_of(principal),
        order_id=order_id,
        provider_name=data.provider,
        payment_method=data.payment_method,
    )


@router.post(
    "/payments/{payment_id}/capture",
    summary="Capture all or part of an authorised payment (manual: mark the money received)",
    dependencies=[IdempotencyKey],
    responses=errors(
        conflicts="`commerce.payment_invalid_state`, "
        "`commerce.payment_capture_exceeds_authorized`, `commerce.payment_provider_refused`, "
        "`commerce.payment_provider_not_configured`",
        status_402=DECLINED,
        status_502=PROVIDER_FAILED,
    ),
)
async def capture_payment(
    payment_id: uuid.UUID,
    principal: PaymentWriter,
    session: TenantSession,
    context: Payments,
    data: Annotated[CaptureRequest | None, Body()] = None,
) -> PaymentRead:
    return await service.capture_payment(
        session,
        context=context,
        scope=scope_of(principal),
        payment_id=payment_id,
        amount=data.amount if data else None,
    )


@router.post(
    "/payments/{payment_id}/void",
    summary="Cancel a payment nothing was captured of",
    dependencies=[IdempotencyKey],
    responses=errors(
        conflicts="`commerce.payment_invalid_state`, `commerce.payment_provider_refused`, "
        "`commerce.payment_provider_not_configured`",
        status_402=DECLINED,
        status_502=PROVIDER_FAILED,
    ),
)
async def void_payment(
    payment_id: uuid.UUID, principal: PaymentWriter, session: TenantSession, context: Payments
) -> PaymentRead:
    return await service.void_payment(
        session, context=context, scope=scope_of(principal), payment_id=payment_id
    )


@router.post(
    "/payments/{payment_id}/refund",
    summary="Refund all or part of a captured payment",
    dependencies=[IdempotencyKey],
    responses=errors(
        conflicts="`commerce.payment_invalid_state`, "
        "`commerce.payment_refund_exceeds_captured`, `commerce.payment_provider_refused`, "
        "`commerce.payment_provider_not_configured`",
        status_402=DECLINED,
        status_502=PROVIDER_FAILED,
    ),
)
async def refund_payment(
    payment_id: uuid.UUID,
    principal: PaymentWriter,
    session: TenantSession,
    context: Payments,
    data: Annotated[RefundRequest | None, Body()] = None,
) -> PaymentRead:
    return await service.refund_payment(
        session,
        context=context,
        scope=scope_of(principal),
        payment_id=payment_id,
        amount=data.amount if data else None,
    )


@router.get("/payment-settings", summary="My store's payment providers (secrets never shown)")
async def read_payment_settings(
    principal: PaymentReader, session: TenantSession
) -> PaymentSettingsRead:
    return await store_settings.read_settings(session, scope=scope_of(principal))


@router.put(
    "/payment-settings",
    summary="Set up payment providers: Stripe keys (write-only), manual payments",
    responses=errors(
        not_found=False,
        status_422="`commerce.invalid_payment_settings`: a key of the wrong kind, or Stripe "
        "enabled without a secret key",
    ),
)
async def update_payment_settings(
    data: PaymentSettingsUpdate, principal: PaymentWriter, session: TenantSession, context: Payments
) -> PaymentSettingsRead:
    return await store_settings.update_settings(
        session, context=context, scope=scope_of(principal), data=data
    )


@router.post(
    "/webhooks/stripe/{store_slug}",
    summary="Stripe events for a store (no login: verified by its Stripe signature)",
    responses=errors(
        conflicts="`commerce.payment_provider_not_configured` (no signing secret stored)",
        status_400="`commerce.webhook_signature_invalid`: the signature does not verify; "
        "nothing is changed",
    ),
)
async def stripe_webhook(
    store_slug: str,
    request: Request,
    session: DbSession,
    context: Payments,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> webhooks.WebhookReceipt:
    return await webhooks.receive_stripe_event(
        session,
        context=context,
        store_slug=store_slug,
        payload=await request.body(),
        signature=stripe_signature,
    )
