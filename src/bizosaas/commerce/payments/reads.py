"""A payment as the API shows it: amounts as Decimals in its currency, with its transactions."""

from __future__ import annotations

from decimal import Decimal

from bizosaas.commerce.currencies import from_minor
from bizosaas.commerce.payments.models import Payment, PaymentTransaction
from bizosaas.commerce.payments.schemas import PaymentRead, PaymentTransactionRead


def payment_read(
    payment: Payment,
    transactions: list[PaymentTransaction] | None = None,
    *,
    client_secret: str | None = None,
) -> PaymentRead:
    currency = payment.currency

    def money(amount_minor: int) -> Decimal:
        return from_minor(amount_minor, currency)

    return PaymentRead(
        id=payment.id,
        order_id=payment.order_id,
        provider=payment.provider,
        status=payment.status,
        currency=currency,
        amount=money(payment.amount_minor),
        captured=money(payment.captured_minor),
        refunded=money(payment.refunded_minor),
        refundable=money(payment.captured_minor - payment.refunded_minor),
        customer_email=payment.customer_email,
        description=payment.description,
        provider_reference=payment.provider_reference,
        client_secret=client_secret,
        error_code=payment.error_code,
        error_message=payment.error_message,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
        transactions=[
            PaymentTransactionRead(
                id=row.id,
                kind=row.kind,
                status=row.status,
                amount=money(row.amount_minor),
                provider_reference=row.provider_reference,
                error_code=row.error_code,
                error_message=row.error_message,
                created_at=row.created_at,
            )
            for row in transactions or []
        ],
    )
