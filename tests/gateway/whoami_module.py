"""A test module whose endpoint needs a verified caller: proves that a split-mode service
verifies the gateway's access tokens itself (through the JWKS)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from bizosaas.kit.auth import CurrentPrincipal
from bizosaas.kit.module import DomainModule

router = APIRouter(tags=["whoami"])


class Me(BaseModel):
    subject: str
    tenant_id: str | None
    super_admin: bool


@router.get("/me", summary="Who the verified caller is")
async def me(principal: CurrentPrincipal) -> Me:
    return Me(
        subject=str(principal.subject),
        tenant_id=str(principal.scope.tenant_id) if principal.scope else None,
        super_admin=principal.is_super_admin,
    )


module = DomainModule(name="whoami", title="Who am I (test module)", router=router)
