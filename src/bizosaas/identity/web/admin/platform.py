"""Admin console: the platform audit log and the mail sink."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from bizosaas.identity import service as identity
from bizosaas.kit.db import Database
from bizosaas.kit.deps import DbSession
from bizosaas.kit.module import WebApp
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from bizosaas.web.apps import page
from bizosaas.web.session import SuperAdmin
from bizosaas.web.shell import WebRoute

router = APIRouter(prefix="/admin", route_class=WebRoute)
AUDIT_TENANTS = 50
AUDIT_PER_TENANT = 100


@router.get("/audit")
async def audit(
    request: Request,
    viewer: SuperAdmin,
    session: DbSession,
    tenant: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    tenants = await identity.admin_list_tenants(session)
    people = {u.id: u.email for u in await identity.admin_list_users(session, limit=1000)}
    chosen = [t for t in tenants if tenant is None or t.id == tenant][:AUDIT_TENANTS]
    # End the request's read before opening one session per tenant: SQLite has one writer
    # transaction at a time, and a session serves a single tenant.
    await session.commit()
    database = cast(Database, request.app.state.database)
    rows: list[dict[str, Any]] = []
    for item in chosen:
        # Audit events are tenant-owned: read each tenant in a session bound to it. The tenant
        # ids come from the platform's own tenant list, read for a platform administrator.
        scope = trusted_scope(item.id)
        async with database.unit_of_work() as scoped:
            await bind_tenant(scoped, scope)
            events = await identity.list_audit_events(scoped, scope=scope, limit=AUDIT_PER_TENANT)
        rows += [
            {
                "created_at": e.created_at,
                "action": e.action,
                "actor": people.get(e.actor_id) if e.actor_id else None,
                "tenant": item.name,
                "target": e.target,
                "ip": e.ip,
            }
            for e in events
        ]
    rows.sort(key=lambda row: row["created_at"], reverse=True)
    context = {
        "title": "Audit log",
        "lead": "Security-relevant events across tenants, newest first.",
        "events": rows[: AUDIT_PER_TENANT * 2],
        "show_tenant": True,
        "tenants": tenants,
        "selected": tenant,
    }
    return page(request, WebApp.admin, viewer, "identity/admin/audit.html", context)


@router.get("/mail")
async def mail(request: Request, viewer: SuperAdmin, session: DbSession) -> Response:
    context = {
        "title": "Mail sink",
        "lead": "Messages the platform sent. Without an SMTP server they are kept here only.",
        "messages": await identity.list_mail(session, limit=100),
    }
    return page(request, WebApp.admin, viewer, "identity/admin/mail.html", context)


@router.get("/mail/{message_id}")
async def mail_message(
    request: Request, message_id: uuid.UUID, viewer: SuperAdmin, session: DbSession
) -> Response:
    message = await identity.get_mail(session, message_id=message_id)
    context = {"title": message.subject, "lead": f"To {message.to_address}", "message": message}
    return page(request, WebApp.admin, viewer, "identity/admin/mail_message.html", context)
