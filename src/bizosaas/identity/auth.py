"""Identity's own dependencies (on top of kit.auth)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.exceptions import UserCredentialRequired
from bizosaas.kit.auth import CurrentPrincipal, Principal, PrincipalKind


async def current_user(principal: CurrentPrincipal) -> Principal:
    """A signed-in person (access token or browser session), not an API key."""
    if principal.kind is not PrincipalKind.user or principal.session_id is None:
        raise UserCredentialRequired()
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


async def identity_context(request: Request) -> IdentityContext:
    """The process's identity context, provided by identity's startup hook."""
    identity: IdentityContext = request.app.state.identity
    return identity


Identity = Annotated[IdentityContext, Depends(identity_context)]
"""What routes and pages that call identity's use cases pass on as `identity=`."""


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")
