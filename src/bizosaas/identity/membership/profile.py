"""The signed-in user's profile: who they are, where they belong, what they may do here."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.exceptions import InvalidCredentials
from bizosaas.identity.membership.registration import user_read
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import Me, MembershipRead, TenantRead


async def me(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    roles: list[str],
    permissions: list[str],
) -> Me:
    user = await accounts.user_by_id(session, user_id=user_id)
    if user is None:
        raise InvalidCredentials()
    rows = await accounts.memberships_of(session, user_id=user_id)
    memberships = [
        MembershipRead(tenant=TenantRead.model_validate(tenant), role=member.role)
        for member, tenant in rows
    ]
    current = next((m.tenant for m in memberships if m.tenant.id == tenant_id), None)
    return Me(
        user=user_read(user),
        tenant=current,
        roles=sorted(roles),
        permissions=sorted(permissions),
        session_id=session_id,
        memberships=memberships,
    )
