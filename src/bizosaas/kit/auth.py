"""Who is calling: the `Principal` every endpoint checks, and the shared auth dependencies.

The identity module verifies credentials (access tokens, API keys, the web session cookie) and
registers an `Authenticator` in the process's `Services`; every domain checks permissions
through the dependencies here, so there is exactly one way to ask "may this caller do X?".

Permission strings are `<domain>.<resource>:<action>`; a grant may use `*` for a whole segment
(`commerce.*:read`, `*`).
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.deps import get_read_session, get_session
from bizosaas.kit.errors import PermissionDenied, Unauthenticated
from bizosaas.kit.events import Event
from bizosaas.kit.tenancy import TenantScope, bind_tenant


class PrincipalKind(StrEnum):
    user = "user"
    api_key = "api_key"
    service = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: uuid.UUID
    """The user id, API key id or service id."""
    kind: PrincipalKind
    scope: TenantScope | None
    """The tenant this principal acts for; None for platform-level callers."""
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    """Granted permission patterns (may contain `*`)."""
    session_id: uuid.UUID | None = None
    is_super_admin: bool = False
    claims: dict[str, Any] = field(default_factory=dict)

    def can(self, permission: str) -> bool:
        if self.is_super_admin:
            return True
        return any(fnmatch.fnmatchcase(permission, grant) for grant in self.permissions)


SESSIONS_ENDED = "platform.sessions_ended"
"""Bus event naming sessions that just ended (revoked, logged out), payload
`{"session_ids": [...]}`: the realtime hub closes their sockets in every process. The identity
module publishes it; it is a signal between processes, not an outbox event, and never reaches
a client."""


def sessions_ended_event(session_ids: Iterable[uuid.UUID]) -> Event:
    return Event(
        id=uuid.uuid4(),
        name=SESSIONS_ENDED,
        occurred_at=datetime.now(UTC),
        payload={"session_ids": [str(session_id) for session_id in session_ids]},
    )


def ended_session_ids(event: Event) -> list[uuid.UUID]:
    """The sessions a `SESSIONS_ENDED` event names (malformed entries are skipped)."""
    ids = []
    for raw in event.payload.get("session_ids") or []:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return ids


SESSION_LIVENESS = "session_liveness"
"""The name under which the identity module provides its `SessionLiveness`."""


class SessionLiveness(Protocol):
    async def ended(self, session_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these sessions have ended, in one batched lookup."""
        ...


def credential_expiry(principal: Principal) -> float | None:
    """When the principal's credential stops being valid (Unix time, the `exp` claim), if ever."""
    expiry = principal.claims.get("exp")
    return float(expiry) if isinstance(expiry, int | float) else None


class Authenticator(Protocol):
    async def authenticate(self, request: Request) -> Principal | None:
        """Return the verified principal of `request`, None if it carries no credential, and
        raise `Unauthenticated` for a credential that is present but invalid."""
        ...


async def optional_principal(request: Request) -> Principal | None:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    authenticator = cast(Authenticator | None, getattr(request.app.state, "authenticator", None))
    if authenticator is None:
        return None
    principal = await authenticator.authenticate(request)
    if principal is not None:
        request.state.principal = principal
        request.state.user_id = principal.subject
        request.state.tenant_id = principal.scope.tenant_id if principal.scope else None
    return principal


async def current_principal(request: Request) -> Principal:
    # Calls `optional_principal` itself rather than depending on it: one dependency fewer to
    # solve on every authenticated request (it remembers the principal on the request anyway).
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthenticated(
            "Send a bearer access token or API key.", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


_REQUIRED_PERMISSION = "required_permission"


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller, if it holds `permission`; 403 `auth.forbidden` otherwise.

    The dependency remembers `permission` (see `required_permission`), so start-up can check
    that every permission a route needs is one some enabled module declares."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise PermissionDenied(f"This action needs the permission {permission}.")
        return principal

    return checks_permission(dependency, permission)


DependencyT = TypeVar("DependencyT", bound=Callable[..., Any])


def checks_permission(dependency: DependencyT, permission: str) -> DependencyT:
    """Mark `dependency` as checking `permission` (API routes through `require`, pages through
    the web shell's `require_permission`), so start-up can refuse a permission no enabled
    module declares."""
    dependency.__name__ = f"require_{permission.replace('.', '_').replace(':', '_')}"
    setattr(dependency, _REQUIRED_PERMISSION, permission)
    return dependency


def required_permission(dependency: object) -> str | None:
    """The permission a `require(...)` dependency checks; None for any other callable."""
    permission = getattr(dependency, _REQUIRED_PERMISSION, None)
    return permission if isinstance(permission, str) else None


def require_super_admin() -> Callable[..., Awaitable[Principal]]:
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.is_super_admin:
            raise PermissionDenied("This action is for platform administrators.")
        return principal

    return dependency


async def tenant_session(
    principal: CurrentPrincipal,
    session: Annotated[AsyncSession, Depends(get_session, scope="function")],
) -> AsyncSession:
    """The request's session, bound to the caller's tenant (from the verified credential)."""
    if principal.scope is None:
        raise PermissionDenied("This endpoint acts within a tenant; use a tenant credential.")
    await bind_tenant(session, principal.scope)
    return session


TenantSession = Annotated[AsyncSession, Depends(tenant_session)]


async def tenant_read_session(
    principal: CurrentPrincipal,
    session: Annotated[AsyncSession, Depends(get_read_session, scope="function")],
) -> AsyncSession:
    """`tenant_session` for routes that only read: the read-only unit of work (kit/deps.py's
    `ReadSession`), bound to the caller's tenant. On SQLite it never waits for the writer."""
    if principal.scope is None:
        raise PermissionDenied("This endpoint acts within a tenant; use a tenant credential.")
    await bind_tenant(session, principal.scope)
    return session


TenantReadSession = Annotated[AsyncSession, Depends(tenant_read_session)]


def scope_of(principal: Principal) -> TenantScope:
    """The caller's tenant scope, on a route that also takes `TenantSession` (which has
    refused callers without a tenant already)."""
    assert principal.scope is not None
    return principal.scope
