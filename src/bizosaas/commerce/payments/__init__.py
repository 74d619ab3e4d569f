"""Payments: a provider interface with Stripe and manual providers, the payment state machine,
the staff API and Stripe's webhooks. See docs/commerce.md ("Payments").

The checkout calls `service.start_payment(session, context=..., payable=Payable(...),
provider_name=...)`; orders follow payments through the context's `on_payment_event` hook and
the `commerce.payment_authorized`, `commerce.payment_captured` and `commerce.payment_refunded`
events.

providers/       base.py (the interface, `Payable`, typed results), stripe.py, manual.py
service.py       start, capture, void, refund, read; the state machine
transitions.py   the state changes with their events and hook (service and webhook share them)
reads.py         a payment as the API shows it
webhooks.py      Stripe events, verified and applied once
store_settings.py  each store's providers and sealed Stripe keys
context.py       the process's keys, Stripe client and orders hook
models.py, schemas.py, repository.py, events.py, exceptions.py, api.py
"""
