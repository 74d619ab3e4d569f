"""The example module's page in the workspace: the notes of the viewer's tenant, in the shell's
layout, for people whose role grants `notes.note:read`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.apps import WorkspaceSession, page
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import WebRoute
from tests.support.notes.models import Note

NoteReader = Annotated[Viewer, Depends(require_permission("notes.note:read"))]

router = APIRouter(prefix="/app/notes", include_in_schema=False, route_class=WebRoute)
NAV_LINKS = (
    NavLink(
        WebApp.workspace,
        "business",
        "Notes",
        "/app/notes",
        permission="notes.note:read",
        icon="list",
    ),
)


@router.get("")
async def notes(request: Request, viewer: NoteReader, session: WorkspaceSession) -> Response:
    rows = await session.scalars(select(Note).order_by(Note.body))
    context = {
        "title": "Notes",
        "lead": f"What the team of {viewer.tenant_name} wrote down.",
        "notes": list(rows),
    }
    return page(request, WebApp.workspace, viewer, "notes/list.html", context)
