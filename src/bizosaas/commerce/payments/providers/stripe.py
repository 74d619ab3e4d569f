"""Stripe: Payment Intents through the official `stripe` SDK (its async calls, over aiohttp).

A payment is a PaymentIntent created with `capture_method=manual`: the buyer's card is
authorised (by Stripe.js with the intent's client secret, or at once when the checkout passes a
payment method), then staff capture all or part of it, or void it; refunds are Refund objects.
Every request carries an `Idempotency-Key` derived from our own operation, so a retry after a
lost answer is answered by Stripe from its record instead of charging again.

Stripe's errors are mapped to payment problems: a card error is a decline (402, or a failed
authorisation the checkout can show), an invalid request a refusal (409), a connection failure
502 `commerce.payment_provider_unavailable`, anything else 502
`commerce.payment_provider_error`. Stripe's message is passed on, except for credential
errors, whose message may quote part of the key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import stripe

from bizosaas.commerce.payments.exceptions import (
    PaymentDeclined,
    PaymentProviderError,
    PaymentProviderRefused,
    PaymentProviderUnavailable,
)
from bizosaas.commerce.payments.providers.base import Payable, ProviderOutcome, ProviderResult

ResultT = TypeVar("ResultT")

_AUTHORISED_STATES = {"requires_capture"}
_PENDING_STATES = {
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
}


def intent_outcome(status: str) -> ProviderOutcome:
    """Our outcome for a PaymentIntent status (Stripe's documented lifecycle)."""
    if status in _AUTHORISED_STATES:
        return ProviderOutcome.authorized
    if status == "succeeded":
        return ProviderOutcome.captured
    if status == "canceled":
        return ProviderOutcome.voided
    if status in _PENDING_STATES:
        return ProviderOutcome.pending
    return ProviderOutcome.failed


class StripeProvider:
    name: ClassVar[str] = "stripe"
    captures_pending: ClassVar[bool] = False

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    async def authorise(
        self, *, payable: Payable, idempotency_key: str, payment_method: str | None = None
    ) -> ProviderResult:
        params: dict[str, Any] = {
            "amount": payable.amount_minor,
            "currency": payable.currency.lower(),
            "capture_method": "manual",
            "receipt_email": payable.customer_email,
            "metadata": {
                "order_id": str(payable.order_id),
                "tenant_id": str(payable.scope.tenant_id),
            },
        }
        if payable.description:
            params["description"] = payable.description
        if payment_method:
            params.update(payment_method=payment_method, confirm=True)
            params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
        try:
            intent = await _call(
                self._client.v1.payment_intents.create_async,
                params,
                {"idempotency_key": idempotency_key},
            )
        except PaymentDeclined as declined:
            return ProviderResult(
                outcome=ProviderOutcome.failed,
                amount_minor=payable.amount_minor,
                reference=declined.extensions.get("payment_intent"),
                error_code=declined.extensions.get("provider_code"),
                error_message=declined.detail,
            )
        return _intent_result(intent, amount_minor=payable.amount_minor)

    async def capture(
        self, *, reference: str | None, amount_minor: int, idempotency_key: str
    ) -> ProviderResult:
        intent = await _call(
            lambda params, options: self._client.v1.payment_intents.capture_async(
                _required(reference), params, options
            ),
            {"amount_to_capture": amount_minor},
            {"idempotency_key": idempotency_key},
        )
        return _intent_result(intent, amount_minor=int(intent.amount_received))

    async def void(self, *, reference: str | None, idempotency_key: str) -> ProviderResult:
        intent = await _call(
            lambda params, options: self._client.v1.payment_intents.cancel_async(
                _required(reference), params, options
            ),
            {"cancellation_reason": "requested_by_customer"},
            {"idempotency_key": idempotency_key},
        )
        return _intent_result(intent, amount_minor=0)

    async def refund(
        self, *, reference: str | None, amount_minor: int, idempotency_key: str
    ) -> ProviderResult:
        refund = await _call(
            self._client.v1.refunds.create_async,
            {"payment_intent": _required(reference), "amount": amount_minor},
            {"idempotency_key": idempotency_key},
        )
        if refund.status == "failed":
            return ProviderResult(
                outcome=ProviderOutcome.failed,
                amount_minor=int(refund.amount),
                reference=refund.id,
                error_code=getattr(refund, "failure_reason", None),
            )
        return ProviderResult(
            outcome=ProviderOutcome.refunded, amount_minor=int(refund.amount), reference=refund.id
        )


def _required(reference: str | None) -> str:
    if not reference:
        raise PaymentProviderRefused("The payment has no Stripe PaymentIntent.")
    return reference


def _intent_result(intent: Any, *, amount_minor: int) -> ProviderResult:
    outcome = intent_outcome(str(intent.status))
    error = getattr(intent, "last_payment_error", None)
    return ProviderResult(
        outcome=outcome,
        amount_minor=amount_minor,
        reference=str(intent.id),
        client_secret=getattr(intent, "client_secret", None),
        error_code=getattr(error, "code", None) if error else None,
        error_message=getattr(error, "message", None) if error else None,
    )


async def _call(
    method: Callable[[Any, Any], Awaitable[ResultT]], params: Any, options: Any
) -> ResultT:
    """Call the SDK, turning its errors into payment problems."""
    try:
        return await method(params, options)
    except stripe.CardError as error:
        raise PaymentDeclined(
            error.user_message or "The card was declined.",
            provider_code=_decline_code(error),
            payment_intent=_error_intent(error),
        ) from None
    except stripe.APIConnectionError:
        raise PaymentProviderUnavailable(
            "Stripe could not be reached; nothing was charged or recorded. Retry with the "
            "same Idempotency-Key."
        ) from None
    except (stripe.AuthenticationError, stripe.PermissionError):
        raise PaymentProviderError(
            "Stripe refused the store's secret key; check the payment settings.",
            provider_code="authentication_failed",
        ) from None
    except stripe.InvalidRequestError as error:
        raise PaymentProviderRefused(
            error.user_message or "Stripe refused the request.",
            provider_code=error.code or "invalid_request_error",
        ) from None
    except stripe.StripeError as error:
        raise PaymentProviderError(
            error.user_message or "Stripe failed to process the request.",
            provider_code=error.code or type(error).__name__,
        ) from None


def _decline_code(error: stripe.CardError) -> str:
    body = error.json_body.get("error", {}) if isinstance(error.json_body, dict) else {}
    return str(body.get("decline_code") or error.code or "card_declined")


def _error_intent(error: stripe.CardError) -> str | None:
    body = error.json_body.get("error", {}) if isinstance(error.json_body, dict) else {}
    intent = body.get("payment_intent")
    return str(intent["id"]) if isinstance(intent, dict) and "id" in intent else None
