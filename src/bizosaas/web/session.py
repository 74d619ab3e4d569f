"""The browser session: the `bizosaas_session` cookie and who is looking at a page.

The cookie holds the opaque token of a session the sign-in pages opened on the browser
channel. The authenticator (`kit.auth`, provided by identity) accepts it on every request, so
revoking that session (from the sessions page, by logout in any app, or by an administrator)
closes every app at once. What the top bar shows about the person comes from the provided
`ProfileSource` (see kit/viewer.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from bizosaas.kit.auth import Principal, checks_permission, optional_principal
from bizosaas.kit.db import Database
from bizosaas.kit.deps import DbSession
from bizosaas.kit.errors import PermissionDenied, Unauthenticated
from bizosaas.kit.viewer import PROFILES, Profile, ProfileSource, TenantChoice
from bizosaas.web.shell import SESSION_COOKIE, is_secure


class LoginRequired(Unauthenticated):
    """A page needs a signed-in browser: browsers are sent to /login, API clients get 401."""

    code = "web.login_required"
    title = "Sign in to continue"


class NoWorkspace(PermissionDenied):
    code = "web.no_workspace"
    title = "No workspace"


def set_session_cookie(
    request: Request, response: Response, *, token: str, expires_at: datetime
) -> None:
    """Hand the browser the token of its session; the cookie expires with the session."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires_at,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person, as the shell shows them."""

    principal: Principal
    email: str
    full_name: str
    tenant_id: uuid.UUID | None
    tenant_name: str | None
    memberships: tuple[TenantChoice, ...]
    email_verified: bool = False
    mfa_enabled: bool = False

    @property
    def is_super_admin(self) -> bool:
        return self.principal.is_super_admin

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def initials(self) -> str:
        words = (self.full_name or self.email).replace("@", " ").replace(".", " ").split()
        return "".join(word[0] for word in words[:2]).upper() or "?"

    @property
    def role(self) -> str | None:
        for choice in self.memberships:
            if choice.tenant_id == self.tenant_id:
                return choice.role
        return None

    def can(self, permission: str) -> bool:
        return self.principal.can(permission)


async def _viewer(request: Request, session: AsyncSession | None = None) -> Viewer | None:
    cached = getattr(request.state, "web_viewer", None)
    if isinstance(cached, Viewer):
        return cached
    if session_token(request) is None:
        return None
    try:
        principal = await optional_principal(request)
    except Unauthenticated:
        principal = None
    if principal is None or principal.session_id is None:
        # A revoked or expired session: forget the cookie (see shell.finish_response).
        request.state.web_drop_session = True
        return None
    profile = await _profile(request, principal, session)
    viewer = Viewer(
        principal=principal,
        email=profile.email,
        full_name=profile.full_name,
        tenant_id=principal.scope.tenant_id if principal.scope else None,
        tenant_name=profile.tenant_name,
        memberships=profile.memberships,
        email_verified=profile.email_verified,
        mfa_enabled=profile.mfa_enabled,
    )
    request.state.web_viewer = viewer
    return viewer


async def _profile(request: Request, principal: Principal, session: AsyncSession | None) -> Profile:
    """The profile, read in the request's session when it has one."""
    source = cast(ProfileSource | None, getattr(request.app.state, PROFILES, None))
    if source is None:
        raise RuntimeError("no enabled module provides the viewers' profiles (identity does)")
    if session is not None:
        return await source.load(session, principal)
    database = cast(Database, request.app.state.database)
    async with database.unit_of_work() as own:
        return await source.load(own, principal)


async def optional_viewer(request: Request, session: DbSession) -> Viewer | None:
    return await _viewer(request, session)


async def viewer_outside_request(request: Request) -> Viewer | None:
    """For error pages, which run outside the route's dependencies."""
    return await _viewer(request)


async def signed_in(request: Request, session: DbSession) -> Viewer:
    viewer = await _viewer(request, session)
    if viewer is None:
        raise LoginRequired("Sign in to open this page.")
    return viewer


async def super_admin(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    if not viewer.is_super_admin:
        raise PermissionDenied("The admin console is for platform administrators.")
    return viewer


async def workspace_member(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    if viewer.tenant_id is None:
        raise NoWorkspace(
            "Your account is not a member of any workspace yet. Ask a workspace administrator "
            "for an invitation."
        )
    return viewer


MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]
SignedIn = Annotated[Viewer, Depends(signed_in)]
SuperAdmin = Annotated[Viewer, Depends(super_admin)]
WorkspaceMember = Annotated[Viewer, Depends(workspace_member)]


def require_permission(permission: str) -> Callable[..., Awaitable[Viewer]]:
    """Dependency for workspace pages: the viewer, if their role grants `permission`."""

    async def dependency(viewer: WorkspaceMember) -> Viewer:
        if not viewer.can(permission):
            raise PermissionDenied("Your role in this workspace does not include this page.")
        return viewer

    return checks_permission(dependency, permission)
