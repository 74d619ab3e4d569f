"""Rendering a page of an app (admin console, workspace) and the dependencies workspace pages
share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse

from bizosaas.kit.deps import DbSession
from bizosaas.kit.module import WebApp
from bizosaas.kit.tenancy import TenantScope, bind_tenant
from bizosaas.web.runtime import runtime_of
from bizosaas.web.session import Viewer, WorkspaceMember
from bizosaas.web.shell import render


def page(
    request: Request,
    app: WebApp,
    viewer: Viewer,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a page of `app` with its navigation for `viewer`."""
    values: dict[str, Any] = {
        "app": app.value,
        "nav": runtime_of(request).navigation.visible(app, viewer.principal),
    }
    values.update(context)
    return render(request, template, values, status=status)


def planned_areas(request: Request, app: WebApp) -> list[tuple[str, tuple[str, ...]]]:
    """The areas `app`'s sections are waiting for (no enabled module links there yet)."""
    return runtime_of(request).navigation.planned(app)


def workspace_scope(viewer: Viewer) -> TenantScope:
    """The viewer's tenant, from their verified session (workspace pages require one)."""
    assert viewer.principal.scope is not None
    return viewer.principal.scope


async def workspace_session(viewer: WorkspaceMember, session: DbSession) -> AsyncSession:
    """The request's session bound to the viewer's workspace."""
    await bind_tenant(session, workspace_scope(viewer))
    return session


WorkspaceSession = Annotated[AsyncSession, Depends(workspace_session)]
