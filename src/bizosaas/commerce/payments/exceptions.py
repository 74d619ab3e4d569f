"""Payment errors, each with a stable machine code (answered as problem+json).

State-machine refusals are 409 `commerce.payment_*`; what the provider says no to is 402 (a
card declined) or 409 (Stripe refused the request); a provider that cannot be reached or
answers with a fault is 502. None of them changes anything in the store.
"""

from __future__ import annotations

from bizosaas.kit.errors import Conflict, InvalidInput, Problem


class PaymentInvalidState(Conflict):
    """The operation does not apply to the payment's status (capturing a voided payment,
    voiding a captured one, refunding one that was never paid ...)."""

    code = "commerce.payment_invalid_state"
    title = "The payment's status does not allow this"


class PaymentCaptureExceedsAuthorized(Conflict):
    code = "commerce.payment_capture_exceeds_authorized"
    title = "Cannot capture more than was authorised"


class PaymentRefundExceedsCaptured(Conflict):
    code = "commerce.payment_refund_exceeds_captured"
    title = "Cannot refund more than was captured and not yet refunded"


class PaymentProviderUnknown(InvalidInput):
    code = "commerce.payment_provider_unknown"
    title = "No such payment provider"


class PaymentProviderNotConfigured(Conflict):
    """The store has not enabled (or not configured the keys of) the provider."""

    code = "commerce.payment_provider_not_configured"
    title = "This payment provider is not set up for the store"


class PaymentDeclined(Problem):
    """The provider refused the money (a card declined): `provider_code` says why."""

    status = 402
    code = "commerce.payment_declined"
    title = "The payment was declined"


class PaymentProviderRefused(Conflict):
    """The provider refused the request (e.g. Stripe's `invalid_request_error`, such as a
    PaymentIntent in an unexpected state): `provider_code` carries its code."""

    code = "commerce.payment_provider_refused"
    title = "The payment provider refused the request"


class PaymentProviderError(Problem):
    """The provider answered with a fault of its own, or refused our credentials."""

    status = 502
    code = "commerce.payment_provider_error"
    title = "The payment provider failed"


class PaymentProviderUnavailable(Problem):
    """The provider could not be reached (connection refused, timed out). Nothing was
    recorded; retrying with the same Idempotency-Key is safe."""

    status = 502
    code = "commerce.payment_provider_unavailable"
    title = "The payment provider could not be reached"


class WebhookSignatureInvalid(Problem):
    status = 400
    code = "commerce.webhook_signature_invalid"
    title = "The webhook signature does not verify"


class InvalidPaymentSettings(InvalidInput):
    code = "commerce.invalid_payment_settings"
    title = "The payment settings are not valid"


class InvalidPayable(InvalidInput):
    """What the checkout asked to charge cannot be charged (an amount that is not positive, a
    currency the store does not know)."""

    code = "commerce.invalid_payable"
    title = "This amount cannot be charged"


class PaymentAmountInvalid(InvalidInput):
    """An amount that rounds to nothing in the payment's currency (0.001 EUR)."""

    code = "commerce.payment_amount_invalid"
    title = "The amount is less than the currency's smallest unit"
