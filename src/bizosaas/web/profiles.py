"""What the shell shows about the signed-in person: name, e-mail and workspaces."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request

from bizosaas.kit.auth import Principal


@dataclass(frozen=True, slots=True)
class MembershipInfo:
    tenant_id: uuid.UUID
    tenant_name: str
    role: str


@dataclass(frozen=True, slots=True)
class Profile:
    email: str
    full_name: str
    tenant_name: str | None
    memberships: tuple[MembershipInfo, ...]


async def load(request: Request, principal: Principal) -> Profile:
    return Profile(
        email=str(principal.claims.get("email", "")),
        full_name="",
        tenant_name=None,
        memberships=(),
    )
