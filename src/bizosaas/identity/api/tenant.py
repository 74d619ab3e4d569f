"""Identity API: the name, members, invitations, API keys and the audit log of the caller's
tenant.

The tenant is the verified credential's (`TenantSession`); ids of another tenant's rows answer
404. Changes need `identity.<resource>:write`, which only tenant admins hold.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from bizosaas.identity.auth import Identity, client_ip
from bizosaas.identity.credentials import api_keys
from bizosaas.identity.membership import members
from bizosaas.identity.records import audit
from bizosaas.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    AuditEventRead,
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationRead,
    MemberRead,
    RoleChange,
    TenantRead,
    TenantRename,
)
from bizosaas.kit.auth import Principal, TenantReadSession, TenantSession, require, scope_of
from bizosaas.kit.deps import DbSession
from bizosaas.kit.idempotency import IdempotencyKey, IdempotentRoute

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(tags=["identity: tenant"], route_class=IdempotentRoute)

NOT_FOUND: Responses = {404: {"description": "No such row in your tenant"}}
FORBIDDEN: Responses = {403: {"description": "Your role does not allow this"}}


MemberReader = Annotated[Principal, Depends(require("identity.member:read"))]
MemberWriter = Annotated[Principal, Depends(require("identity.member:write"))]
InvitationReader = Annotated[Principal, Depends(require("identity.invitation:read"))]
InvitationWriter = Annotated[Principal, Depends(require("identity.invitation:write"))]
KeyReader = Annotated[Principal, Depends(require("identity.api_key:read"))]
KeyWriter = Annotated[Principal, Depends(require("identity.api_key:write"))]
AuditReader = Annotated[Principal, Depends(require("identity.audit:read"))]
TenantWriter = Annotated[Principal, Depends(require("identity.tenant:write"))]


@router.patch(
    "/tenant",
    summary="Rename my tenant (tenant admins)",
    description=(
        "2 to 80 characters of plain text on one line (422 `identity.invalid_tenant_name` "
        "otherwise). The slug, and so every address of the tenant, stays. Audited as "
        "`tenant.renamed`."
    ),
    responses=FORBIDDEN,
)
async def rename_tenant(
    payload: TenantRename, principal: TenantWriter, request: Request, session: TenantSession
) -> TenantRead:
    return await members.rename_tenant(
        session,
        scope=scope_of(principal),
        actor=principal,
        name=payload.name,
        ip=client_ip(request),
    )


@router.get("/members", summary="Members of my tenant", responses=FORBIDDEN)
async def list_members(principal: MemberReader, session: TenantReadSession) -> list[MemberRead]:
    return await members.list_members(session, scope=scope_of(principal))


@router.patch(
    "/members/{user_id}",
    summary="Change a member's role",
    responses={**FORBIDDEN, **NOT_FOUND, 409: {"description": "Last tenant admin"}},
)
async def change_role(
    user_id: uuid.UUID,
    payload: RoleChange,
    *,
    principal: MemberWriter,
    request: Request,
    session: TenantSession,
    identity: Identity,
) -> MemberRead:
    return await members.change_member_role(
        session,
        identity=identity,
        scope=scope_of(principal),
        actor=principal,
        user_id=user_id,
        role=payload.role,
        ip=client_ip(request),
    )


@router.delete(
    "/members/{user_id}",
    status_code=204,
    summary="Remove a member (their sessions here end)",
    responses={**FORBIDDEN, **NOT_FOUND, 409: {"description": "Last tenant admin"}},
)
async def remove_member(
    user_id: uuid.UUID,
    principal: MemberWriter,
    request: Request,
    session: TenantSession,
    identity: Identity,
) -> Response:
    await members.remove_member(
        session,
        identity=identity,
        scope=scope_of(principal),
        actor=principal,
        user_id=user_id,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.get("/invitations", summary="Invitations of my tenant", responses=FORBIDDEN)
async def list_invitations(
    principal: InvitationReader, session: TenantReadSession
) -> list[InvitationRead]:
    return await members.list_invitations(session, scope=scope_of(principal))


@router.post(
    "/invitations",
    status_code=201,
    summary="Invite someone by e-mail",
    description=(
        "Mails the invitation. Refused with 403 `identity.email_unverified` until a tenant "
        "admin has confirmed their e-mail address, and with 429 "
        "`identity.invitations_throttled` (see Retry-After) beyond the tenant's invitation "
        "quota (setting `invitation_limit_per_tenant`)."
    ),
    responses={
        **FORBIDDEN,
        409: {"description": "Already a member"},
        429: {"description": "The tenant's invitation quota is spent (see Retry-After)"},
    },
    dependencies=[IdempotencyKey],
)
async def create_invitation(
    payload: InvitationCreate,
    principal: InvitationWriter,
    request: Request,
    session: TenantSession,
    identity: Identity,
) -> InvitationRead:
    return await members.create_invitation(
        session,
        identity=identity,
        scope=scope_of(principal),
        actor=principal,
        email=payload.email,
        role=payload.role,
        ip=client_ip(request),
    )


@router.delete(
    "/invitations/{invitation_id}",
    status_code=204,
    summary="Revoke an invitation",
    responses={**FORBIDDEN, **NOT_FOUND},
)
async def revoke_invitation(
    invitation_id: uuid.UUID, principal: InvitationWriter, request: Request, session: TenantSession
) -> Response:
    await members.revoke_invitation(
        session,
        scope=scope_of(principal),
        actor=principal,
        invitation_id=invitation_id,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.post(
    "/invitations/accept",
    status_code=201,
    summary="Accept an invitation (creates the account when new)",
    responses={410: {"description": "Expired, used or revoked"}},
)
async def accept_invitation(
    payload: InvitationAccept, request: Request, session: DbSession, identity: Identity
) -> InvitationAccepted:
    return await members.accept_invitation(
        session,
        identity=identity,
        token=payload.token,
        password=payload.password,
        full_name=payload.full_name,
        ip=client_ip(request),
    )


@router.get("/api-keys", summary="API keys of my tenant", responses=FORBIDDEN)
async def list_api_keys(principal: KeyReader, session: TenantReadSession) -> list[ApiKeyRead]:
    return await api_keys.list_api_keys(session, scope=scope_of(principal))


@router.post(
    "/api-keys",
    status_code=201,
    summary="Create an API key (the secret is shown once)",
    responses={
        **FORBIDDEN,
        429: {"description": "The tenant's API key quota is spent (see Retry-After)"},
    },
    dependencies=[IdempotencyKey],
)
async def create_api_key(
    payload: ApiKeyCreate,
    principal: KeyWriter,
    request: Request,
    session: TenantSession,
    identity: Identity,
) -> ApiKeyCreated:
    return await api_keys.create_api_key(
        session,
        identity=identity,
        scope=scope_of(principal),
        actor=principal,
        name=payload.name,
        permissions=payload.permissions,
        expires_at=payload.expires_at,
        ip=client_ip(request),
    )


@router.delete(
    "/api-keys/{key_id}",
    status_code=204,
    summary="Revoke an API key",
    responses={**FORBIDDEN, **NOT_FOUND},
)
async def revoke_api_key(
    key_id: uuid.UUID,
    principal: KeyWriter,
    request: Request,
    session: TenantSession,
    identity: Identity,
) -> Response:
    await api_keys.revoke_api_key(
        session,
        identity=identity,
        scope=scope_of(principal),
        actor=principal,
        key_id=key_id,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.get("/audit", summary="My tenant's audit log, newest first", responses=FORBIDDEN)
async def list_audit(
    principal: AuditReader,
    session: TenantReadSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: datetime | None = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
) -> list[AuditEventRead]:
    return await audit.list_audit_events(
        session, scope=scope_of(principal), limit=limit, before=before, action=action
    )
