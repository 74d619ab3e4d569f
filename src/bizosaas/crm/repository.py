"""Every query of the CRM tables. Functions take the session and keyword-only arguments; reads
take the `TenantScope` (from a verified credential), or for people, companies, leads and deals
the caller's `Viewer`, which adds the tenant's record-level rule (access.py) to the WHERE
clause, on top of the ORM filter and PostgreSQL's row-level security.

The record search (full text, filters, keyset pages) is in `search.py` beside this file.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm.access import Viewer
from bizosaas.crm.models import (
    AccessPolicy,
    Activity,
    CustomField,
    Deal,
    DealStatus,
    Employment,
    ExternalEvent,
    Note,
    OwnedRecord,
    Pipeline,
    Reminder,
    SavedView,
    Stage,
    StageChange,
)
from bizosaas.kit.tenancy import TenantScope

RecordT = TypeVar("RecordT", bound=OwnedRecord)
RowT = TypeVar("RowT", Pipeline, Stage, Activity, Note, CustomField, SavedView)


async def get_record(
    session: AsyncSession, model: type[RecordT], *, viewer: Viewer, record_id: uuid.UUID
) -> RecordT | None:
    """One record the viewer may see, or None (missing, another tenant's, or hidden by the
    tenant's record-level rule)."""
    return await session.scalar(
        select(model).where(
            model.id == record_id,
            model.tenant_id == viewer.scope.tenant_id,
            viewer.clause(model),
        )
    )


async def get(
    session: AsyncSession, model: type[RowT], *, scope: TenantScope, row_id: uuid.UUID
) -> RowT | None:
    return await session.scalar(
        select(model).where(model.id == row_id, model.tenant_id == scope.tenant_id)
    )


# -- access and custom fields ----------------------------------------------------------------


async def access_policy(session: AsyncSession, *, scope: TenantScope) -> AccessPolicy | None:
    return await session.scalar(
        select(AccessPolicy).where(AccessPolicy.tenant_id == scope.tenant_id)
    )


async def custom_fields(
    session: AsyncSession, *, scope: TenantScope, record_type: str | None = None
) -> Sequence[CustomField]:
    query = select(CustomField).where(CustomField.tenant_id == scope.tenant_id)
    if record_type is not None:
        query = query.where(CustomField.record_type == record_type)
    return (
        await session.scalars(
            query.order_by(CustomField.record_type, CustomField.position, CustomField.code)
        )
    ).all()


# -- people and companies --------------------------------------------------------------------


async def company_ids_of(
    session: AsyncSession, *, scope: TenantScope, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {person_id: [] for person_id in person_ids}
    rows = await session.execute(
        select(Employment.person_id, Employment.company_id)
        .where(Employment.tenant_id == scope.tenant_id, Employment.person_id.in_(person_ids))
        .order_by(Employment.company_id)
    )
    for person_id, company_id in rows:
        found[person_id].append(company_id)
    return found


async def set_employments(
    session: AsyncSession,
    *,
    scope: TenantScope,
    person_id: uuid.UUID,
    company_ids: Sequence[uuid.UUID],
) -> None:
    await session.execute(
        delete(Employment).where(
            Employment.tenant_id == scope.tenant_id, Employment.person_id == person_id
        )
    )
    session.add_all(
        Employment(person_id=person_id, company_id=company_id) for company_id in company_ids
    )


# -- pipelines, stages, deals ----------------------------------------------------------------


async def pipelines(session: AsyncSession, *, scope: TenantScope) -> Sequence[Pipeline]:
    return (
        await session.scalars(
            select(Pipeline)
            .where(Pipeline.tenant_id == scope.tenant_id)
            .order_by(Pipeline.position, Pipeline.name, Pipeline.id)
        )
    ).all()


async def stages_of(
    session: AsyncSession, *, scope: TenantScope, pipeline_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Stage]]:
    found: dict[uuid.UUID, list[Stage]] = {pipeline_id: [] for pipeline_id in pipeline_ids}
    rows = await session.scalars(
        select(Stage)
        .where(Stage.tenant_id == scope.tenant_id, Stage.pipeline_id.in_(pipeline_ids))
        .order_by(Stage.position)
    )
    for stage in rows:
        found[stage.pipeline_id].append(stage)
    return found


async def name_taken(
    session: AsyncSession, *, scope: TenantScope, name: str, except_id: uuid.UUID | None = None
) -> bool:
    query = select(Pipeline.id).where(Pipeline.tenant_id == scope.tenant_id, Pipeline.name == name)
    if except_id is not None:
        query = query.where(Pipeline.id != except_id)
    return await session.scalar(query.limit(1)) is not None


async def deals_in_stages(
    session: AsyncSession, *, scope: TenantScope, stage_ids: Sequence[uuid.UUID]
) -> int:
    """How many deals (of any owner, open or closed) sit in these stages."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Deal)
            .where(Deal.tenant_id == scope.tenant_id, Deal.stage_id.in_(stage_ids))
        )
        or 0
    )


async def forecast(
    session: AsyncSession, *, viewer: Viewer, pipeline_id: uuid.UUID
) -> list[tuple[uuid.UUID, str, int, int | None]]:
    """(stage, currency, deal count, amount in minor units) of the open deals the viewer sees
    in a pipeline: the sums are SQL sums of exact integers."""
    rows = await session.execute(
        select(Deal.stage_id, Deal.currency, func.count(), func.sum(Deal.amount_minor))
        .where(
            Deal.tenant_id == viewer.scope.tenant_id,
            Deal.pipeline_id == pipeline_id,
            Deal.status == DealStatus.open,
            viewer.clause(Deal),
        )
        .group_by(Deal.stage_id, Deal.currency)
    )
    return [(stage, currency, count, total) for stage, currency, count, total in rows]


async def stage_history(
    session: AsyncSession, *, scope: TenantScope, deal_id: uuid.UUID
) -> Sequence[StageChange]:
    return (
        await session.scalars(
            select(StageChange)
            .where(StageChange.tenant_id == scope.tenant_id, StageChange.deal_id == deal_id)
            .order_by(StageChange.changed_at, StageChange.id)
        )
    ).all()


# -- activities, notes -----------------------------------------------------------------------


async def about_record(
    session: AsyncSession,
    model: type[Activity] | type[Note],
    *,
    scope: TenantScope,
    record_type: str,
    record_id: uuid.UUID,
) -> Sequence[Any]:
    return (
        await session.scalars(
            select(model)
            .where(
                model.tenant_id == scope.tenant_id,
                model.record_type == record_type,
                model.record_id == record_id,
            )
            .order_by(model.created_at, model.id)
        )
    ).all()


async def external_events_about(
    session: AsyncSession, *, scope: TenantScope, record_type: str, record_id: uuid.UUID
) -> Sequence[ExternalEvent]:
    return (
        await session.scalars(
            select(ExternalEvent)
            .where(
                ExternalEvent.tenant_id == scope.tenant_id,
                ExternalEvent.record_type == record_type,
                ExternalEvent.record_id == record_id,
            )
            .order_by(ExternalEvent.occurred_at, ExternalEvent.id)
        )
    ).all()


async def open_activities_of(
    session: AsyncSession,
    *,
    scope: TenantScope,
    assignee_id: uuid.UUID,
    due_before: datetime | None,
) -> Sequence[Activity]:
    query = select(Activity).where(
        Activity.tenant_id == scope.tenant_id,
        Activity.assignee_id == assignee_id,
        Activity.done_at.is_(None),
    )
    if due_before is not None:
        query = query.where(Activity.due_at < due_before)
    undated_last = case((Activity.due_at.is_(None), 1), else_=0)
    return (await session.scalars(query.order_by(undated_last, Activity.due_at, Activity.id))).all()


async def delete_about_record(
    session: AsyncSession, *, scope: TenantScope, record_type: str, record_id: uuid.UUID
) -> None:
    for model in (Activity, Note, ExternalEvent):
        await session.execute(
            delete(model).where(
                model.tenant_id == scope.tenant_id,
                model.record_type == record_type,
                model.record_id == record_id,
            )
        )


# -- the reminder queue (cross-tenant; ids and times only) -----------------------------------


async def schedule_reminder(
    session: AsyncSession, *, scope: TenantScope, activity_id: uuid.UUID, remind_at: datetime | None
) -> None:
    await session.execute(delete(Reminder).where(Reminder.activity_id == activity_id))
    if remind_at is not None:
        session.add(
            Reminder(activity_id=activity_id, tenant_id=scope.tenant_id, remind_at=remind_at)
        )


async def due_reminders(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[Reminder]:
    """Reminders due by `now`, oldest first, locked (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
    several sweepers share the queue)."""
    query = select(Reminder).where(Reminder.remind_at <= now).order_by(Reminder.remind_at)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return (await session.scalars(query.limit(limit))).all()


async def drop_reminder(session: AsyncSession, *, activity_id: uuid.UUID) -> None:
    await session.execute(delete(Reminder).where(Reminder.activity_id == activity_id))


# -- saved views -----------------------------------------------------------------------------


async def saved_views(
    session: AsyncSession, *, scope: TenantScope, user_id: uuid.UUID, record_type: str | None
) -> Sequence[SavedView]:
    query = select(SavedView).where(
        SavedView.tenant_id == scope.tenant_id, SavedView.user_id == user_id
    )
    if record_type is not None:
        query = query.where(SavedView.record_type == record_type)
    return (await session.scalars(query.order_by(SavedView.record_type, SavedView.name))).all()
