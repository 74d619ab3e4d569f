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
    rows = await accounts.profile_rows(session, user_id=user_id)
    if not rows:
        raise InvalidCredentials()
    memberships = [
        MembershipRead(
            tenant=TenantRead(
                id=row.tenant_id,
                name=row.tenant_name,
                slug=row.tenant_slug,
                status=row.tenant_status,
                created_at=row.tenant_created_at,
            ),
            role=row.member_role,
        )
        for row in rows
        if row.tenant_id is not None
    ]
    current = next((m.tenant for m in memberships if m.tenant.id == tenant_id), None)
    return Me(
        user=user_read(rows[0]),
        tenant=current,
        roles=sorted(roles),
        permissions=sorted(permissions),
        session_id=session_id,
        memberships=memberships,
    )
