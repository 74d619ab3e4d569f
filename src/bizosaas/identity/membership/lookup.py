"""Naming a tenant by its slug and back: for public entry points that carry a store's slug in
their URL (the storefront's pages and API, a provider's webhook)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.models import TenantStatus
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import TenantRead


async def active_tenant_by_slug(session: AsyncSession, *, slug: str) -> TenantRead | None:
    """The active tenant with this slug; None for an unknown or suspended one.

    A slug comes from a request: what is done for that tenant must be verified by other means
    when it is more than public reading (a webhook signature with the tenant's secret)."""
    tenant = await accounts.tenant_by_slug(session, slug=slug)
    if tenant is None or tenant.status != TenantStatus.active.value:
        return None
    return TenantRead.model_validate(tenant)


async def tenant_slug(session: AsyncSession, *, tenant_id: uuid.UUID) -> str | None:
    tenant = await accounts.tenant_by_id(session, tenant_id=tenant_id)
    return tenant.slug if tenant is not None else None
