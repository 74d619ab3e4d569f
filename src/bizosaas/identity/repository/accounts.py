"""Identity queries. Tenant-facing reads take a `TenantScope` (from a verified credential);
global tables are always read by the user or session they belong to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.models import (
    AuthSession,
    Membership,
    RefreshToken,
    Tenant,
    TenantStatus,
    User,
)
from bizosaas.kit.db import utcnow
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import TenantScope


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalise_email(email)))


async def tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))


async def membership(
    session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID
) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.tenant_id == tenant_id)
    )


async def memberships_of(
    session: AsyncSession, user_id: uuid.UUID
) -> Sequence[Row[Membership, Tenant]]:
    """The user's memberships with their tenants, most recently used first."""
    result = await session.execute(
        select(Membership, Tenant)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.last_used_at.desc().nulls_last(), Membership.created_at)
    )
    return result.all()


async def member_in_scope(
    session: AsyncSession, scope: TenantScope, user_id: uuid.UUID
) -> tuple[Membership, User] | None:
    row = (
        await session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == scope.tenant_id, Membership.user_id == user_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def members_in_scope(
    session: AsyncSession, scope: TenantScope
) -> Sequence[Row[Membership, User]]:
    result = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == scope.tenant_id)
        .order_by(Membership.created_at)
    )
    return result.all()


async def count_admins(session: AsyncSession, scope: TenantScope) -> int:
    rows = await session.scalars(
        select(Membership.id).where(
            Membership.tenant_id == scope.tenant_id, Membership.role == Role.tenant_admin.value
        )
    )
    return len(rows.all())


async def claim_refresh_token(session: AsyncSession, token_id: uuid.UUID) -> bool:
    """Mark the token used, atomically: False when another request already used it."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def active_tenant_membership(
    session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID
) -> Membership | None:
    return await session.scalar(
        select(Membership)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(
            Membership.user_id == user_id,
            Membership.tenant_id == tenant_id,
            Tenant.status == TenantStatus.active.value,
        )
    )


async def revoke_sessions_where(
    session: AsyncSession, *conditions: object, reason: str
) -> list[uuid.UUID]:
    """Revoke every live session matching `conditions`; returns their ids."""
    ids = list(
        (
            await session.scalars(
                select(AuthSession.id).where(
                    AuthSession.revoked_at.is_(None),
                    *conditions,  # type: ignore[arg-type]
                )
            )
        ).all()
    )
    if ids:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id.in_(ids))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
    return ids
