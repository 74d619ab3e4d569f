"""What the shell shows about the signed-in person: name, e-mail and workspaces."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import service as identity
from bizosaas.kit.auth import Principal
from bizosaas.kit.db import Database


@dataclass(frozen=True, slots=True)
class TenantChoice:
    """A workspace the person can switch to (an active tenant they belong to)."""

    tenant_id: uuid.UUID
    tenant_name: str
    role: str


@dataclass(frozen=True, slots=True)
class Profile:
    email: str
    full_name: str
    tenant_name: str | None
    memberships: tuple[TenantChoice, ...]
    email_verified: bool
    mfa_enabled: bool


async def _read(session: AsyncSession, principal: Principal) -> Profile:
    me = await identity.me(
        session,
        user_id=principal.subject,
        tenant_id=principal.scope.tenant_id if principal.scope else None,
        session_id=principal.session_id,
        roles=sorted(principal.roles),
        permissions=sorted(principal.permissions),
    )
    return Profile(
        email=me.user.email,
        full_name=me.user.full_name,
        tenant_name=me.tenant.name if me.tenant else None,
        email_verified=me.user.email_verified_at is not None,
        mfa_enabled=me.user.mfa_enabled,
        memberships=tuple(
            TenantChoice(tenant_id=m.tenant.id, tenant_name=m.tenant.name, role=m.role)
            for m in me.memberships
            if m.tenant.status == "active"
        ),
    )


async def load(request: Request, principal: Principal, session: AsyncSession | None) -> Profile:
    """The profile, read in the request's session when it has one (identity's tables are
    global, so a tenant-bound session reads them too)."""
    if session is not None:
        return await _read(session, principal)
    database = cast(Database, request.app.state.database)
    async with database.unit_of_work() as own:
        return await _read(own, principal)
