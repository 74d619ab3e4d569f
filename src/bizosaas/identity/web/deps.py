"""What identity's pages share: role names people read, and the viewer dependencies that check
identity's permissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from bizosaas.web.session import Viewer, require_permission

ROLE_LABELS = {
    "tenant_admin": "Tenant admin",
    "manager": "Manager",
    "staff": "Staff",
    "client": "Client",
}

MemberReader = Annotated[Viewer, Depends(require_permission("identity.member:read"))]
MemberWriter = Annotated[Viewer, Depends(require_permission("identity.member:write"))]
InvitationReader = Annotated[Viewer, Depends(require_permission("identity.invitation:read"))]
InvitationWriter = Annotated[Viewer, Depends(require_permission("identity.invitation:write"))]
ApiKeyReader = Annotated[Viewer, Depends(require_permission("identity.api_key:read"))]
ApiKeyWriter = Annotated[Viewer, Depends(require_permission("identity.api_key:write"))]
AuditReader = Annotated[Viewer, Depends(require_permission("identity.audit:read"))]
