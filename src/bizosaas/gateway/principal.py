"""The caller's verified identity, resolved once per request at the ASGI layer.

Rate limits, the response cache and the proxy need to know who calls before FastAPI's
dependencies run. They share one resolution, kept in the request state where
`kit.auth.optional_principal` finds it again, so a credential is verified once per request.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.types import Scope

from bizosaas.kit.auth import Authenticator, Principal
from bizosaas.kit.errors import Problem

_RESOLVED = "gateway_principal_resolved"


async def resolve_principal(scope: Scope) -> Principal | None:
    """The verified principal, None when the request carries no credential (or no
    authenticator is installed). Raises `Unauthenticated` for an invalid credential."""
    state: dict[str, Any] = scope.setdefault("state", {})
    if state.get(_RESOLVED):
        return cast(Principal | None, state.get("principal"))
    app = scope.get("app")
    authenticator = cast(
        Authenticator | None, getattr(getattr(app, "state", None), "authenticator", None)
    )
    principal = None
    if authenticator is not None:
        principal = await authenticator.authenticate(Request(scope))
    state[_RESOLVED] = True
    if principal is not None:
        state["principal"] = principal
        state["user_id"] = principal.subject
        state["tenant_id"] = principal.scope.tenant_id if principal.scope else None
    return principal


def has_credential(scope: Scope) -> bool:
    return any(name in (b"authorization", b"cookie") for name, _ in scope["headers"])


async def caller_principal(scope: Scope) -> Principal | None:
    """The verified principal for the gateway's own policies (rate limits, the response
    cache): None for an anonymous caller and for an invalid credential, which the endpoint
    itself answers with 401."""
    if not has_credential(scope):
        return None
    try:
        return await resolve_principal(scope)
    except Problem:
        return None
