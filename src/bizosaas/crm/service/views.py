"""Saved views: a member's own named lists (words, filters, sort, columns) of one record
type, checked when saved and run through the same search as the listings, so the tenant's
record-level rule applies to them too. Another member's view answers `crm.not_found`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm import repository, search
from bizosaas.crm.access import Viewer
from bizosaas.crm.exceptions import CrmNotFound, InvalidFilter, NameTaken
from bizosaas.crm.models import CustomField, RecordType, SavedView
from bizosaas.crm.schemas import (
    CompanyRead,
    DealRead,
    LeadRead,
    PersonRead,
    SavedViewCreate,
    SavedViewRead,
    SavedViewUpdate,
    ViewPage,
)
from bizosaas.crm.service import deals, records
from bizosaas.crm.service.fields import definitions
from bizosaas.kit.tenancy import bind_tenant

READ_MODELS: Mapping[RecordType, type[BaseModel]] = {
    RecordType.person: PersonRead,
    RecordType.company: CompanyRead,
    RecordType.lead: LeadRead,
    RecordType.deal: DealRead,
}


def view_read(view: SavedView) -> SavedViewRead:
    return SavedViewRead(
        id=view.id,
        record_type=RecordType(view.record_type),
        name=view.name,
        q=view.text,
        filters=list(view.filters),
        sort=view.sort,
        columns=list(view.columns),
    )


def _check(
    record_type: RecordType,
    *,
    filters: list[str],
    sort: str,
    columns: list[str],
    fields: Mapping[str, CustomField],
    dialect: str,
) -> None:
    """The filters, sort and columns mean something for the record type (`crm.invalid_filter`)."""
    model = search.MODELS[record_type]
    search.sort_key(model, sort, fields)
    for n, raw in enumerate(filters):
        search.filter_clause(model, raw, fields, dialect=dialect, n=n)
    known = set(READ_MODELS[record_type].model_fields) - {"custom"}
    unknown = [
        column
        for column in columns
        if column not in known
        and not (column.startswith("custom.") and column.removeprefix("custom.") in fields)
    ]
    if unknown:
        raise InvalidFilter(f"No such column of a {record_type}: {', '.join(unknown)}.")


async def _own(session: AsyncSession, *, viewer: Viewer, view_id: uuid.UUID) -> SavedView:
    await bind_tenant(session, viewer.scope)
    view = await repository.get(session, SavedView, scope=viewer.scope, row_id=view_id)
    if view is None or view.user_id != viewer.member_id:
        raise CrmNotFound(f"No saved view {view_id} of yours.")
    return view


async def list_views(
    session: AsyncSession, *, viewer: Viewer, record_type: RecordType | None
) -> list[SavedViewRead]:
    await bind_tenant(session, viewer.scope)
    if viewer.member_id is None:
        return []
    rows = await repository.saved_views(
        session, scope=viewer.scope, user_id=viewer.member_id, record_type=record_type
    )
    return [view_read(row) for row in rows]


async def create_view(
    session: AsyncSession, *, viewer: Viewer, data: SavedViewCreate
) -> SavedViewRead:
    if viewer.member_id is None:
        raise InvalidFilter("Saved views belong to members; an API key has none.")
    fields = await definitions(session, scope=viewer.scope, record_type=data.record_type)
    _check(
        data.record_type,
        filters=data.filters,
        sort=data.sort,
        columns=data.columns,
        fields=fields,
        dialect=session.get_bind().dialect.name,
    )
    mine = await list_views(session, viewer=viewer, record_type=data.record_type)
    if any(view.name == data.name for view in mine):
        raise NameTaken("You have a view of this name.")
    view = SavedView(
        user_id=viewer.member_id,
        record_type=data.record_type,
        name=data.name,
        text=data.q,
        filters=list(data.filters),
        sort=data.sort,
        columns=list(data.columns),
    )
    session.add(view)
    await session.flush()
    return view_read(view)


async def read_view(session: AsyncSession, *, viewer: Viewer, view_id: uuid.UUID) -> SavedViewRead:
    return view_read(await _own(session, viewer=viewer, view_id=view_id))


async def update_view(
    session: AsyncSession, *, viewer: Viewer, view_id: uuid.UUID, data: SavedViewUpdate
) -> SavedViewRead:
    view = await _own(session, viewer=viewer, view_id=view_id)
    record_type = RecordType(view.record_type)
    if data.name is not None and data.name != view.name:
        mine = await list_views(session, viewer=viewer, record_type=record_type)
        if any(other.name == data.name for other in mine):
            raise NameTaken("You have a view of this name.")
        view.name = data.name
    if "q" in data.model_fields_set:
        view.text = data.q
    filters = data.filters if data.filters is not None else list(view.filters)
    sort = data.sort if data.sort is not None else view.sort
    columns = data.columns if data.columns is not None else list(view.columns)
    fields = await definitions(session, scope=viewer.scope, record_type=record_type)
    _check(
        record_type,
        filters=filters,
        sort=sort,
        columns=columns,
        fields=fields,
        dialect=session.get_bind().dialect.name,
    )
    view.filters, view.sort, view.columns = list(filters), sort, list(columns)
    await session.flush()
    return view_read(view)


async def delete_view(session: AsyncSession, *, viewer: Viewer, view_id: uuid.UUID) -> None:
    view = await _own(session, viewer=viewer, view_id=view_id)
    await session.delete(view)
    await session.flush()


def _project(item: BaseModel, columns: list[str]) -> dict[str, Any]:
    data = item.model_dump(mode="json")
    if not columns:
        return data
    row: dict[str, Any] = {"id": data["id"]}
    for column in columns:
        if column.startswith("custom."):
            row[column] = data["custom"].get(column.removeprefix("custom."))
        else:
            row[column] = data[column]
    return row


async def run_view(
    session: AsyncSession, *, viewer: Viewer, view_id: uuid.UUID, cursor: str | None, limit: int
) -> ViewPage:
    """A page of the view's records (only those the viewer may see), projected to its columns."""
    view = await _own(session, viewer=viewer, view_id=view_id)
    query = search.RecordQuery(
        text=view.text, filters=tuple(view.filters), sort=view.sort, cursor=cursor, limit=limit
    )
    finders: dict[RecordType, Any] = {
        RecordType.person: records.find_people,
        RecordType.company: records.find_companies,
        RecordType.lead: records.find_leads,
        RecordType.deal: deals.find_deals,
    }
    page = await finders[RecordType(view.record_type)](session, viewer=viewer, query=query)
    columns = list(view.columns)
    return ViewPage(
        columns=columns,
        items=[_project(item, columns) for item in page.items],
        next_cursor=page.next_cursor,
    )
