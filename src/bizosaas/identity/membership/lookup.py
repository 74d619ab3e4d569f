"""Naming a tenant by its slug and back: for public entry points that carry a store's slug in
their URL (a provider's webhook, the storefront)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.models import TenantStatus
from bizosaas.identity.repository import accounts


async def active_tenant_id(session: AsyncSession, *, slug: str) -> uuid.UUID | None:
    """The id of the active tenant with this slug; None for an unknown or suspended one.

    A slug comes from a request: the caller must verify what it does for that tenant by other
    means (a webhook signature with the tenant's secret) before trusting it as a scope."""
    tenant = await accounts.tenant_by_slug(session, slug=slug)
    if tenant is None or tenant.status != TenantStatus.active.value:
        return None
    return tenant.id


async def tenant_slug(session: AsyncSession, *, tenant_id: uuid.UUID) -> str | None:
    tenant = await accounts.tenant_by_id(session, tenant_id=tenant_id)
    return tenant.slug if tenant is not None else None
