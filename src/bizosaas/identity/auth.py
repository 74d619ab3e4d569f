"""Identity's own dependencies (on top of kit.auth)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bizosaas.identity.exceptions import UserCredentialRequired
from bizosaas.kit.auth import CurrentPrincipal, Principal, PrincipalKind


async def current_user(principal: CurrentPrincipal) -> Principal:
    """A signed-in person (access token or browser session), not an API key."""
    if principal.kind is not PrincipalKind.user or principal.session_id is None:
        raise UserCredentialRequired()
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")
