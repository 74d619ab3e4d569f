"""Queries of tenants, users, memberships and invitations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bizosaas.identity.models import Invitation, Membership, Tenant, TenantStatus, User
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import TenantScope


def normalise_email(email: str) -> str:
    return email.strip().lower()


# -- users ------------------------------------------------------------------------------------


async def user_by_id(session: AsyncSession, *, user_id: object) -> User | None:
    return await session.get(User, user_id)


async def user_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalise_email(email)))


async def search_users(session: AsyncSession, *, query: str | None, limit: int) -> Sequence[User]:
    """Users, oldest first; with `query`, those whose address or name contains it."""
    statement = select(User).order_by(User.created_at).limit(limit)
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(or_(User.email.like(pattern), User.full_name.ilike(pattern)))
    return (await session.scalars(statement)).all()


# -- tenants ----------------------------------------------------------------------------------


async def tenant_by_id(session: AsyncSession, *, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def tenant_by_slug(session: AsyncSession, *, slug: str) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))


async def all_tenants(session: AsyncSession) -> Sequence[Tenant]:
    return (await session.scalars(select(Tenant).order_by(Tenant.created_at))).all()


# -- memberships ------------------------------------------------------------------------------


async def membership(
    session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID
) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.tenant_id == tenant_id)
    )


_PROFILE = (
    select(
        User.id,
        User.email,
        User.full_name,
        User.is_super_admin,
        User.is_active,
        User.email_verified_at,
        User.totp_enabled_at,
        User.created_at,
        Membership.role.label("member_role"),
        Tenant.id.label("tenant_id"),
        Tenant.name.label("tenant_name"),
        Tenant.slug.label("tenant_slug"),
        Tenant.status.label("tenant_status"),
        Tenant.created_at.label("tenant_created_at"),
    )
    .select_from(User)
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(Tenant, Tenant.id == Membership.tenant_id)
    .where(User.id == bindparam("user_id"))
    .order_by(Membership.last_used_at.desc().nulls_last(), Membership.created_at)
)


async def profile_rows(session: AsyncSession, *, user_id: uuid.UUID) -> Sequence[Any]:
    """The user with each membership and its tenant, most recently used first, in one plain
    SQL statement (no ORM objects: this answers every `GET /auth/me`). No row: no such user;
    one row with no `tenant_id`: a user without memberships."""
    connection = await session.connection()
    result = await connection.execute(_PROFILE, {"user_id": user_id})
    return result.all()


async def memberships_of(
    session: AsyncSession, *, user_id: uuid.UUID
) -> Sequence[Row[Membership, Tenant]]:
    """The user's memberships with their tenants, most recently used first."""
    result = await session.execute(
        select(Membership, Tenant)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.last_used_at.desc().nulls_last(), Membership.created_at)
    )
    return result.all()


async def active_tenant_membership(
    session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID
) -> Membership | None:
    """The user's membership of the tenant, if the tenant is active."""
    return await session.scalar(
        select(Membership)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(
            Membership.user_id == user_id,
            Membership.tenant_id == tenant_id,
            Tenant.status == TenantStatus.active.value,
        )
    )


async def member_in_scope(
    session: AsyncSession, *, scope: TenantScope, user_id: uuid.UUID
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
    session: AsyncSession, *, scope: TenantScope
) -> Sequence[Row[Membership, User]]:
    result = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == scope.tenant_id)
        .order_by(Membership.created_at)
    )
    return result.all()


async def count_admins(session: AsyncSession, *, scope: TenantScope) -> int:
    rows = await session.scalars(
        select(Membership.id).where(
            Membership.tenant_id == scope.tenant_id, Membership.role == Role.tenant_admin.value
        )
    )
    return len(rows.all())


async def has_verified_admin(session: AsyncSession, *, scope: TenantScope) -> bool:
    """Whether an active tenant admin of the tenant has proven their e-mail address."""
    found = await session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.tenant_id == scope.tenant_id,
            Membership.role == Role.tenant_admin.value,
            User.is_active.is_(True),
            User.email_verified_at.is_not(None),
        )
        .limit(1)
    )
    return found is not None


# -- invitations (tenant-owned) ------------------------------------------------------------


async def invitations_in_scope(
    session: AsyncSession, *, scope: TenantScope
) -> Sequence[Invitation]:
    """The tenant's invitations, newest first."""
    rows = await session.scalars(
        select(Invitation)
        .where(Invitation.tenant_id == scope.tenant_id)
        .order_by(Invitation.created_at.desc())
    )
    return rows.all()


async def invitation_in_scope(
    session: AsyncSession, *, scope: TenantScope, invitation_id: uuid.UUID
) -> Invitation | None:
    return await session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.tenant_id == scope.tenant_id
        )
    )


async def invitation_by_token_hash(
    session: AsyncSession, *, scope: TenantScope, token_hash: str
) -> Invitation | None:
    return await session.scalar(
        select(Invitation).where(
            Invitation.token_hash == token_hash, Invitation.tenant_id == scope.tenant_id
        )
    )


async def revoke_pending_invitations(
    session: AsyncSession, *, scope: TenantScope, email: str, now: datetime
) -> Sequence[uuid.UUID]:
    """Revoke the tenant's pending invitations for `email`; answers their ids."""
    replaced = await session.scalars(
        update(Invitation)
        .where(
            Invitation.tenant_id == scope.tenant_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(Invitation.id)
        .execution_options(synchronize_session=False)
    )
    return replaced.all()


async def sole_member_tenants(session: AsyncSession, *, user_id: uuid.UUID) -> Sequence[Tenant]:
    """The tenants whose only member is the user."""
    other = aliased(Membership)
    others = select(other.id).where(other.tenant_id == Tenant.id, other.user_id != user_id).exists()
    result = await session.scalars(
        select(Tenant)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == user_id, ~others)
    )
    return result.all()
