"""Manual payments: bank transfer, cash on delivery, anything staff confirm by hand.

Works offline: nothing is asked of anyone. A payment waits (pending) until staff mark the
money received (a capture, full or partial), and staff record refunds they made themselves.
"""

from __future__ import annotations

from typing import ClassVar

from bizosaas.commerce.payments.providers.base import Payable, ProviderOutcome, ProviderResult


class ManualProvider:
    name: ClassVar[str] = "manual"
    captures_pending: ClassVar[bool] = True

    async def authorise(
        self, *, payable: Payable, idempotency_key: str, payment_method: str | None = None
    ) -> ProviderResult:
        return ProviderResult(outcome=ProviderOutcome.pending, amount_minor=payable.amount_minor)

    async def capture(
        self, *, reference: str | None, amount_minor: int, idempotency_key: str
    ) -> ProviderResult:
        return ProviderResult(outcome=ProviderOutcome.captured, amount_minor=amount_minor)

    async def void(self, *, reference: str | None, idempotency_key: str) -> ProviderResult:
        return ProviderResult(outcome=ProviderOutcome.voided, amount_minor=0)

    async def refund(
        self, *, reference: str | None, amount_minor: int, idempotency_key: str
    ) -> ProviderResult:
        return ProviderResult(outcome=ProviderOutcome.refunded, amount_minor=amount_minor)
