"""Identity's pages in the web apps: sign-in and the pages its e-mails link to (auth_pages),
the admin console's tenants, users, audit log and mail sink (admin/), and the workspace's
dashboard, members, invitations, roles, API keys, audit log, security and sessions
(workspace/). They render in the web shell's layout; the module declares them with their
navigation and templates (`identity/templates/identity/`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from bizosaas.identity.web import admin, auth_pages, workspace
from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.shell import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
router.include_router(auth_pages.router)
router.include_router(admin.router)
router.include_router(workspace.router)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_workspace = WebApp.workspace
_admin = WebApp.admin
NAV_LINKS: tuple[NavLink, ...] = (
    NavLink(_workspace, "overview", "Dashboard", "/app", icon="home"),
    NavLink(
        _workspace, "organisation", "Members", "/app/members", "identity.member:read", icon="users"
    ),
    NavLink(
        _workspace,
        "organisation",
        "Invitations",
        "/app/invitations",
        "identity.invitation:read",
        icon="mail",
    ),
    NavLink(
        _workspace, "organisation", "Roles", "/app/roles", "identity.member:read", icon="badge"
    ),
    NavLink(
        _workspace, "organisation", "API keys", "/app/api-keys", "identity.api_key:read", icon="key"
    ),
    NavLink(
        _workspace, "organisation", "Audit log", "/app/audit", "identity.audit:read", icon="list"
    ),
    NavLink(_workspace, "account", "Security", "/app/security", icon="shield"),
    NavLink(_workspace, "account", "Sessions", "/app/sessions", icon="monitor"),
    NavLink(_admin, "overview", "Dashboard", "/admin", super_admin=True, icon="home"),
    NavLink(_admin, "platform", "Tenants", "/admin/tenants", super_admin=True, icon="building"),
    NavLink(_admin, "platform", "Users", "/admin/users", super_admin=True, icon="users"),
    NavLink(_admin, "records", "Audit log", "/admin/audit", super_admin=True, icon="list"),
    NavLink(_admin, "records", "Mail sink", "/admin/mail", super_admin=True, icon="inbox"),
)
"""Identity's links in the apps' side navigation (the sections are the shell's)."""
