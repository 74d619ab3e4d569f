"""Saved views: each member's own named lists of one record type."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from bizosaas.crm.api.common import errors, viewer_of
from bizosaas.crm.auth import ContactReader
from bizosaas.crm.models import RecordType
from bizosaas.crm.schemas import SavedViewCreate, SavedViewRead, SavedViewUpdate, ViewPage
from bizosaas.crm.service import views
from bizosaas.kit.auth import TenantSession
from bizosaas.kit.errors import PermissionDenied

router = APIRouter(tags=["crm: saved views"])
VIEW_ERRORS = errors(
    conflicts="`crm.name_taken`: you have a view of this name",
    status_422="`crm.invalid_filter`: a filter, sort or column the record type does not have",
)


@router.get("/views", summary="My saved views")
async def list_views(
    principal: ContactReader, session: TenantSession, record_type: RecordType | None = None
) -> list[SavedViewRead]:
    viewer = await viewer_of(session, principal)
    return await views.list_views(session, viewer=viewer, record_type=record_type)


@router.post("/views", status_code=201, summary="Save a view", responses=VIEW_ERRORS)
async def create_view(
    data: SavedViewCreate, principal: ContactReader, session: TenantSession
) -> SavedViewRead:
    viewer = await viewer_of(session, principal)
    return await views.create_view(session, viewer=viewer, data=data)


@router.get("/views/{view_id}", summary="One of my saved views", responses=errors())
async def read_view(
    view_id: uuid.UUID, principal: ContactReader, session: TenantSession
) -> SavedViewRead:
    viewer = await viewer_of(session, principal)
    return await views.read_view(session, viewer=viewer, view_id=view_id)


@router.patch("/views/{view_id}", summary="Change a saved view", responses=VIEW_ERRORS)
async def update_view(
    view_id: uuid.UUID, data: SavedViewUpdate, principal: ContactReader, session: TenantSession
) -> SavedViewRead:
    viewer = await viewer_of(session, principal)
    return await views.update_view(session, viewer=viewer, view_id=view_id, data=data)


@router.delete(
    "/views/{view_id}", status_code=204, summary="Delete a saved view", responses=errors()
)
async def delete_view(
    view_id: uuid.UUID, principal: ContactReader, session: TenantSession
) -> Response:
    viewer = await viewer_of(session, principal)
    await views.delete_view(session, viewer=viewer, view_id=view_id)
    return Response(status_code=204)


@router.get(
    "/views/{view_id}/records",
    summary="A page of a saved view's records, with its columns",
    responses=errors(status_400="`crm.invalid_cursor`: not a cursor of this view"),
)
async def run_view(
    view_id: uuid.UUID,
    principal: ContactReader,
    session: TenantSession,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ViewPage:
    viewer = await viewer_of(session, principal)
    view = await views.read_view(session, viewer=viewer, view_id=view_id)
    if view.record_type == RecordType.deal and not principal.can("crm.deal:read"):
        raise PermissionDenied("A view of deals needs the permission crm.deal:read.")
    return await views.run_view(session, viewer=viewer, view_id=view_id, cursor=cursor, limit=limit)
