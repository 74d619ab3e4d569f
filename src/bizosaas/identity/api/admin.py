"""Identity API: platform administration for super admins (tenants, users, login unlocks,
the mail sink)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from bizosaas.identity.auth import Identity
from bizosaas.identity.membership import platform_admin
from bizosaas.identity.schemas import LoginUnlock, MailRead, TenantCreate, TenantRead, UserRead
from bizosaas.kit.auth import Principal, require_super_admin
from bizosaas.kit.deps import DbSession, ReadSession

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(prefix="/admin", tags=["identity: platform admin"])
SuperAdmin = Annotated[Principal, Depends(require_super_admin())]
FORBIDDEN: Responses = {403: {"description": "Platform administrators only"}}


@router.get("/tenants", summary="Every tenant", responses=FORBIDDEN)
async def list_tenants(_admin: SuperAdmin, session: ReadSession) -> list[TenantRead]:
    return await platform_admin.admin_list_tenants(session)


@router.post("/tenants", status_code=201, summary="Create a tenant", responses=FORBIDDEN)
async def create_tenant(
    payload: TenantCreate, principal: SuperAdmin, session: DbSession
) -> TenantRead:
    return await platform_admin.admin_create_tenant(
        session, name=payload.name, slug=payload.slug, actor=principal
    )


@router.post(
    "/tenants/{tenant_id}/suspend",
    summary="Suspend a tenant (its sessions end, its keys stop working)",
    responses=FORBIDDEN,
)
async def suspend_tenant(
    tenant_id: uuid.UUID, principal: SuperAdmin, session: DbSession, identity: Identity
) -> TenantRead:
    return await platform_admin.admin_set_tenant_status(
        session, identity=identity, tenant_id=tenant_id, suspended=True, actor=principal
    )


@router.post("/tenants/{tenant_id}/reactivate", summary="Reactivate a tenant", responses=FORBIDDEN)
async def reactivate_tenant(
    tenant_id: uuid.UUID, principal: SuperAdmin, session: DbSession, identity: Identity
) -> TenantRead:
    return await platform_admin.admin_set_tenant_status(
        session, identity=identity, tenant_id=tenant_id, suspended=False, actor=principal
    )


@router.get("/users", summary="Every user", responses=FORBIDDEN)
async def list_users(
    _admin: SuperAdmin,
    session: ReadSession,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[UserRead]:
    return await platform_admin.admin_list_users(session, query=q, limit=limit)


@router.post(
    "/users/{user_id}/unlock-login",
    summary="Let an account that failed to log in too often try again at once",
    description=(
        "Forgets the account's failed logins, so its next attempt is not made to wait. "
        "Audited in the user's tenant."
    ),
    responses={**FORBIDDEN, 404: {"description": "No such user"}},
)
async def unlock_login(
    user_id: uuid.UUID, admin: SuperAdmin, session: DbSession, identity: Identity
) -> LoginUnlock:
    return await platform_admin.admin_unlock_login(
        session, identity=identity, user_id=user_id, actor=admin
    )


@router.get("/mail", summary="Messages in the local mail sink", responses=FORBIDDEN)
async def list_mail(
    _admin: SuperAdmin,
    session: ReadSession,
    to: Annotated[str | None, Query(max_length=320)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MailRead]:
    return await platform_admin.list_mail(session, to=to, limit=limit)


@router.get("/mail/{message_id}", summary="One message of the mail sink", responses=FORBIDDEN)
async def get_mail(message_id: uuid.UUID, _admin: SuperAdmin, session: ReadSession) -> MailRead:
    return await platform_admin.get_mail(session, message_id=message_id)
