"""The apps' navigation and the dependencies their pages share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse

from bizosaas.kit.deps import DbSession
from bizosaas.kit.tenancy import TenantScope, bind_tenant
from bizosaas.web.navigation import NAVIGATION, App, NavItem
from bizosaas.web.session import Viewer, WorkspaceMember, require_permission
from bizosaas.web.shell import render

ROLE_LABELS = {
    "tenant_admin": "Tenant admin",
    "manager": "Manager",
    "staff": "Staff",
    "client": "Client",
}

# -- navigation ------------------------------------------------------------------------------

NAVIGATION.section(App.workspace, "overview", "Overview")
NAVIGATION.section(
    App.workspace, "business", "Business", planned=("Commerce", "Content", "CRM", "Campaigns")
)
NAVIGATION.section(App.workspace, "automation", "Automation", planned=("Agents", "Approvals"))
NAVIGATION.section(App.workspace, "organisation", "Organisation")
NAVIGATION.section(App.workspace, "account", "Your account")
for section, item in [
    ("overview", NavItem("Dashboard", "/app", icon="home")),
    ("organisation", NavItem("Members", "/app/members", "identity.member:read", icon="users")),
    (
        "organisation",
        NavItem("Invitations", "/app/invitations", "identity.invitation:read", icon="mail"),
    ),
    ("organisation", NavItem("Roles", "/app/roles", "identity.member:read", icon="badge")),
    ("organisation", NavItem("API keys", "/app/api-keys", "identity.api_key:read", icon="key")),
    ("organisation", NavItem("Audit log", "/app/audit", "identity.audit:read", icon="list")),
    ("account", NavItem("Security", "/app/security", icon="shield")),
    ("account", NavItem("Sessions", "/app/sessions", icon="monitor")),
]:
    NAVIGATION.add(App.workspace, section, item)

NAVIGATION.section(App.admin, "overview", "Overview")
NAVIGATION.section(App.admin, "platform", "Platform")
NAVIGATION.section(App.admin, "records", "Records")
for section, item in [
    ("overview", NavItem("Dashboard", "/admin", super_admin=True, icon="home")),
    ("platform", NavItem("Tenants", "/admin/tenants", super_admin=True, icon="building")),
    ("platform", NavItem("Users", "/admin/users", super_admin=True, icon="users")),
    ("platform", NavItem("Services", "/admin/services", super_admin=True, icon="server")),
    ("records", NavItem("Audit log", "/admin/audit", super_admin=True, icon="list")),
    ("records", NavItem("Mail sink", "/admin/mail", super_admin=True, icon="inbox")),
]:
    NAVIGATION.add(App.admin, section, item)


# -- rendering -------------------------------------------------------------------------------


def page(
    request: Request,
    app: App,
    viewer: Viewer,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a page of `app` with its navigation for `viewer`."""
    values: dict[str, Any] = {
        "app": app.value,
        "nav": NAVIGATION.visible(app, viewer.principal),
        "role_labels": ROLE_LABELS,
    }
    values.update(context)
    return render(request, template, values, status=status)


def workspace_scope(viewer: Viewer) -> TenantScope:
    """The viewer's tenant, from their verified session (workspace pages require one)."""
    assert viewer.principal.scope is not None
    return viewer.principal.scope


async def workspace_session(viewer: WorkspaceMember, session: DbSession) -> AsyncSession:
    """The request's session bound to the viewer's workspace."""
    await bind_tenant(session, workspace_scope(viewer))
    return session


WorkspaceSession = Annotated[AsyncSession, Depends(workspace_session)]

MemberReader = Annotated[Viewer, Depends(require_permission("identity.member:read"))]
MemberWriter = Annotated[Viewer, Depends(require_permission("identity.member:write"))]
InvitationReader = Annotated[Viewer, Depends(require_permission("identity.invitation:read"))]
InvitationWriter = Annotated[Viewer, Depends(require_permission("identity.invitation:write"))]
ApiKeyReader = Annotated[Viewer, Depends(require_permission("identity.api_key:read"))]
ApiKeyWriter = Annotated[Viewer, Depends(require_permission("identity.api_key:write"))]
AuditReader = Annotated[Viewer, Depends(require_permission("identity.audit:read"))]
