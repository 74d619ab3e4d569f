"""Admin console: dashboard, tenants and users (with the unlock of a held-back login)."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from bizosaas.identity import service as identity
from bizosaas.identity.schemas import TENANT_NAME_MAX
from bizosaas.kit.deps import DbSession
from bizosaas.kit.errors import Problem
from bizosaas.kit.module import WebApp
from bizosaas.web.admin.services import service_rows
from bizosaas.web.apps import page
from bizosaas.web.forms import Form
from bizosaas.web.session import SuperAdmin
from bizosaas.web.shell import WebRoute, act_and_redirect, flash, read_form, redirect

router = APIRouter(prefix="/admin", route_class=WebRoute)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@router.get("")
async def dashboard(request: Request, viewer: SuperAdmin, session: DbSession) -> Response:
    tenants = await identity.admin_list_tenants(session)
    users = await identity.admin_list_users(session)
    services = service_rows(request)
    stats = [
        {"label": "Tenants", "value": len(tenants), "href": "/admin/tenants"},
        {
            "label": "Suspended tenants",
            "value": sum(1 for t in tenants if t.status == "suspended"),
            "href": "/admin/tenants",
        },
        {"label": "Users", "value": len(users), "href": "/admin/users"},
        {
            "label": "Services needing attention",
            "value": sum(1 for s in services if s.state != "ok"),
            "href": "/admin/services",
        },
    ]
    context = {
        "title": "Platform overview",
        "lead": "Tenants, people and services across BizOSaaS.",
        "stats": stats,
        "recent_tenants": tenants[:5],
    }
    return page(request, WebApp.admin, viewer, "identity/admin/dashboard.html", context)


async def _tenants_page(
    request: Request, viewer: SuperAdmin, session: DbSession, form: Form | None = None
) -> Response:
    context = {
        "title": "Tenants",
        "lead": "Every business on the platform.",
        "tenants": await identity.admin_list_tenants(session),
        "errors": form.errors if form else {},
        "values": form.safe_values() if form else {},
    }
    status = 422 if form and form.errors else 200
    return page(
        request, WebApp.admin, viewer, "identity/admin/tenants.html", context, status=status
    )


@router.get("/tenants")
async def tenants(request: Request, viewer: SuperAdmin, session: DbSession) -> Response:
    return await _tenants_page(request, viewer, session)


@router.post("/tenants")
async def create_tenant(request: Request, viewer: SuperAdmin, session: DbSession) -> Response:
    form = Form(await read_form(request))
    name = form.require("name", "Enter the business name.")
    if name and len(name) < 2:
        form.errors["name"] = "Use at least 2 characters."
    form.max_length("name", TENANT_NAME_MAX)
    slug = form.get("slug").lower()
    if slug and not SLUG.match(slug):
        form.errors["slug"] = "Use 2 to 63 lowercase letters, digits and hyphens."
    if form.ok:
        try:
            tenant = await identity.admin_create_tenant(session, name=name, slug=slug or None)
        except Problem as problem:
            await session.rollback()
            form.fail(problem, {"identity.slug_taken": "slug"})
        else:
            flash(request, f"Tenant {tenant.name} created ({tenant.slug}).")
            return redirect(request, "/admin/tenants")
    return await _tenants_page(request, viewer, session, form)


@router.post("/tenants/{tenant_id}/suspend")
async def suspend_tenant(
    request: Request,
    tenant_id: uuid.UUID,
    viewer: SuperAdmin,
    session: DbSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    suspended = identity.admin_set_tenant_status(
        session,
        identity=identity_context,
        tenant_id=tenant_id,
        suspended=True,
        actor=viewer.principal,
    )
    return await act_and_redirect(
        request,
        session,
        suspended,
        done=lambda tenant: f"{tenant.name} is suspended: its members are signed out.",
        to="/admin/tenants",
        kind="warning",
    )


@router.post("/tenants/{tenant_id}/reactivate")
async def reactivate_tenant(
    request: Request,
    tenant_id: uuid.UUID,
    viewer: SuperAdmin,
    session: DbSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    reactivated = identity.admin_set_tenant_status(
        session,
        identity=identity_context,
        tenant_id=tenant_id,
        suspended=False,
        actor=viewer.principal,
    )
    return await act_and_redirect(
        request,
        session,
        reactivated,
        done=lambda tenant: f"{tenant.name} is active again.",
        to="/admin/tenants",
    )


@router.get("/users")
async def users(
    request: Request,
    viewer: SuperAdmin,
    session: DbSession,
    identity_context: identity.Identity,
) -> Response:
    people = await identity.admin_list_users(session, limit=500)
    context = {
        "title": "Users",
        "lead": "Every account on the platform.",
        "users": people,
        "failed_logins": await identity.admin_failed_logins(identity_context, users=people),
    }
    return page(request, WebApp.admin, viewer, "identity/admin/users.html", context)


@router.post("/users/{user_id}/unlock")
async def unlock_login(
    request: Request,
    user_id: uuid.UUID,
    viewer: SuperAdmin,
    session: DbSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    unlocked = identity.admin_unlock_login(
        session, identity=identity_context, user_id=user_id, actor=viewer.principal
    )
    return await act_and_redirect(
        request,
        session,
        unlocked,
        done=lambda result: (
            f"{result.email} can sign in again at once ({result.failures_cleared} failed "
            "sign-ins forgotten)."
            if result.failures_cleared
            else f"{result.email} had no failed sign-ins to forget."
        ),
        to="/admin/users",
    )
