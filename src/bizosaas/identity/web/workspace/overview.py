"""Workspace dashboard, roles and audit log."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from bizosaas.identity import service as identity
from bizosaas.identity.web.deps import ROLE_LABELS, AuditReader, MemberReader
from bizosaas.identity.web.workspace.people import open_invitations
from bizosaas.kit.module import DomainModule, WebApp
from bizosaas.kit.permissions import ROLES, DeclaredPermission, PermissionCatalogue
from bizosaas.web.apps import WorkspaceSession, page, planned_areas, workspace_scope
from bizosaas.web.session import WorkspaceMember
from bizosaas.web.shell import WebRoute

router = APIRouter(prefix="/app", route_class=WebRoute)

ROLE_SUMMARIES = {
    "tenant_admin": "Everything in the workspace, including members, keys and settings.",
    "manager": "Runs the business areas and sees who is in the team.",
    "staff": "Day-to-day work: orders, contacts and pages.",
    "client": "A customer's view: only their own orders, bookings and invoices.",
}


@dataclass(frozen=True, slots=True)
class Stat:
    label: str
    value: int
    href: str


@router.get("")
async def dashboard(
    request: Request, viewer: WorkspaceMember, session: WorkspaceSession
) -> Response:
    stats: list[Stat] = []
    scope = workspace_scope(viewer)
    if viewer.can("identity.member:read"):
        members = await identity.list_members(session, scope=scope)
        stats.append(Stat("Members", len(members), "/app/members"))
    if viewer.can("identity.invitation:read"):
        invitations = await open_invitations(session, scope)
        stats.append(Stat("Pending invitations", len(invitations.pending), "/app/invitations"))
    if viewer.can("identity.api_key:read"):
        keys = await identity.list_api_keys(session, scope=scope)
        active = [key for key in keys if key.status == "active"]
        stats.append(Stat("Active API keys", len(active), "/app/api-keys"))
    sessions = await identity.list_sessions(session, user_id=viewer.principal.subject)
    stats.append(Stat("Your signed-in devices", len(sessions), "/app/sessions"))
    context = {
        "title": f"Welcome, {viewer.full_name or viewer.email}",
        "lead": f"{viewer.tenant_name} workspace",
        "stats": stats,
        "planned": planned_areas(request, WebApp.workspace),
        "role_labels": ROLE_LABELS,
    }
    return page(request, WebApp.workspace, viewer, "identity/workspace/dashboard.html", context)


@router.get("/roles")
async def roles(request: Request, viewer: MemberReader, session: WorkspaceSession) -> Response:
    scope = workspace_scope(viewer)
    members = await identity.list_members(session, scope=scope)
    cards = [
        {
            "label": ROLE_LABELS[role],
            "summary": ROLE_SUMMARIES[role],
            "members": sum(1 for m in members if m.role == role),
        }
        for role in ROLES
    ]
    catalogue: PermissionCatalogue = request.app.state.permissions
    modules: dict[str, DomainModule] = {m.name: m for m in request.app.state.services.modules}
    matrix = [
        (
            modules[name].title if name in modules else name,
            [
                (p.name, p.description, [catalogue.role_covers(role, p.name) for role in ROLES])
                for p in sorted(declared, key=lambda p: p.name)
            ],
        )
        for name, declared in _by_module(catalogue).items()
    ]
    context = {
        "title": "Roles",
        "lead": "What each role in this workspace may do.",
        "roles": cards,
        "matrix": matrix,
    }
    return page(request, WebApp.workspace, viewer, "identity/workspace/roles.html", context)


@router.get("/audit")
async def audit(request: Request, viewer: AuditReader, session: WorkspaceSession) -> Response:
    scope = workspace_scope(viewer)
    events = await identity.list_audit_events(session, scope=scope, limit=200)
    members = {m.user_id: m.email for m in await identity.list_members(session, scope=scope)}
    rows = [
        {
            "created_at": e.created_at,
            "action": e.action,
            "actor": members.get(e.actor_id) if e.actor_id else None,
            "target": e.target,
            "ip": e.ip,
        }
        for e in events
    ]
    context = {
        "title": "Audit log",
        "lead": "Who did what in this workspace, newest first.",
        "events": rows,
        "show_tenant": False,
    }
    return page(request, WebApp.workspace, viewer, "identity/workspace/audit.html", context)


def _by_module(catalogue: PermissionCatalogue) -> dict[str, list[DeclaredPermission]]:
    """Every declared permission, grouped by the module that declares it (in declaration
    order of the modules)."""
    groups: dict[str, list[DeclaredPermission]] = {}
    for permission in catalogue.declared.values():
        groups.setdefault(permission.module, []).append(permission)
    return groups
