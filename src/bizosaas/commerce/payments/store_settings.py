"""A store's payment settings: which providers it offers and the Stripe keys.

The Stripe secret key and webhook signing secret are sealed with the data-encryption keys
(kit/crypto: AES-256-GCM, bound to the store and the field, so a sealed value copied to another
store or field does not open). They are never logged and never returned: the API says whether
each is configured and shows its last four characters.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.payments import repository
from bizosaas.commerce.payments.context import PaymentContext
from bizosaas.commerce.payments.exceptions import InvalidPaymentSettings
from bizosaas.commerce.payments.models import PaymentSettings
from bizosaas.commerce.payments.schemas import (
    ManualSettingsRead,
    PaymentSettingsRead,
    PaymentSettingsUpdate,
    StripeSettingsRead,
)
from bizosaas.identity import service as identity
from bizosaas.kit.tenancy import TenantScope, bind_tenant

WEBHOOK_PATH = "/api/brain/commerce/webhooks/stripe/{store_slug}"
_SECRET_KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,240}$")
_WEBHOOK_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=_-]{8,240}$")
_SECRET_KEY_FIELD = "stripe_secret_key"  # noqa: S105 - a field name, not a secret
_WEBHOOK_SECRET_FIELD = "stripe_webhook_secret"  # noqa: S105 - a field name, not a secret


def _bound_to(scope: TenantScope, field: str) -> bytes:
    return f"commerce_payment_settings:{scope.tenant_id}:{field}".encode()


def _open(
    context: PaymentContext, scope: TenantScope, field: str, sealed: str | None
) -> str | None:
    if sealed is None:
        return None
    return context.data_keys.decrypt(sealed, associated_data=_bound_to(scope, field))


def stripe_secret_key(
    row: PaymentSettings | None, *, context: PaymentContext, scope: TenantScope
) -> str | None:
    return _open(context, scope, _SECRET_KEY_FIELD, row.stripe_secret_key_sealed if row else None)


def stripe_webhook_secret(
    row: PaymentSettings | None, *, context: PaymentContext, scope: TenantScope
) -> str | None:
    sealed = row.stripe_webhook_secret_sealed if row else None
    return _open(context, scope, _WEBHOOK_SECRET_FIELD, sealed)


async def read_settings(session: AsyncSession, *, scope: TenantScope) -> PaymentSettingsRead:
    await bind_tenant(session, scope)
    row = await repository.settings(session, scope=scope)
    return await _settings_read(session, scope=scope, row=row or PaymentSettings())


async def update_settings(
    session: AsyncSession,
    *,
    context: PaymentContext,
    scope: TenantScope,
    data: PaymentSettingsUpdate,
) -> PaymentSettingsRead:
    await bind_tenant(session, scope)
    row = await repository.settings(session, scope=scope)
    if row is None:
        row = PaymentSettings(manual_enabled=True, manual_instructions="", stripe_enabled=False)
        session.add(row)
    if data.stripe_secret_key is not None:
        secret = data.stripe_secret_key.get_secret_value()
        if secret and not _SECRET_KEY.match(secret):
            raise InvalidPaymentSettings(
                "stripe_secret_key must be a Stripe secret or restricted key (sk_... or rk_...).",
                field=_SECRET_KEY_FIELD,
            )
        row.stripe_secret_key_sealed, row.stripe_secret_key_last4 = _seal(
            context, scope, _SECRET_KEY_FIELD, secret
        )
    if data.stripe_webhook_secret is not None:
        secret = data.stripe_webhook_secret.get_secret_value()
        if secret and not _WEBHOOK_SECRET.match(secret):
            raise InvalidPaymentSettings(
                "stripe_webhook_secret must be a webhook signing secret (whsec_...).",
                field=_WEBHOOK_SECRET_FIELD,
            )
        row.stripe_webhook_secret_sealed, row.stripe_webhook_secret_last4 = _seal(
            context, scope, _WEBHOOK_SECRET_FIELD, secret
        )
    if data.stripe_publishable_key is not None:
        row.stripe_publishable_key = data.stripe_publishable_key or None
    if data.stripe_enabled is not None:
        row.stripe_enabled = data.stripe_enabled
    if data.manual_enabled is not None:
        row.manual_enabled = data.manual_enabled
    if data.manual_instructions is not None:
        row.manual_instructions = data.manual_instructions
    if row.stripe_enabled and row.stripe_secret_key_sealed is None:
        raise InvalidPaymentSettings(
            "Stripe needs a secret key before it can be enabled.", field="stripe_enabled"
        )
    await session.flush()
    return await _settings_read(session, scope=scope, row=row)


def _seal(
    context: PaymentContext, scope: TenantScope, field: str, secret: str
) -> tuple[str | None, str | None]:
    if not secret:
        return None, None
    sealed = context.data_keys.encrypt(secret, associated_data=_bound_to(scope, field))
    return sealed, secret[-4:]


async def _settings_read(
    session: AsyncSession, *, scope: TenantScope, row: PaymentSettings
) -> PaymentSettingsRead:
    slug = await identity.tenant_slug(session, tenant_id=scope.tenant_id)
    return PaymentSettingsRead(
        stripe=StripeSettingsRead(
            enabled=bool(row.stripe_enabled),
            configured=row.stripe_secret_key_sealed is not None,
            secret_key_last4=row.stripe_secret_key_last4,
            webhook_secret_configured=row.stripe_webhook_secret_sealed is not None,
            webhook_secret_last4=row.stripe_webhook_secret_last4,
            publishable_key=row.stripe_publishable_key,
            webhook_path=WEBHOOK_PATH.format(store_slug=slug or "{store_slug}"),
        ),
        manual=ManualSettingsRead(
            enabled=row.manual_enabled is not False, instructions=row.manual_instructions or ""
        ),
    )
