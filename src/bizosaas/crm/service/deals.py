"""Pipelines with their ordered stages, deals in them, moving deals (every move writes the
stage history), winning and losing them, and the forecast per pipeline and stage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm import repository, search
from bizosaas.crm.access import Viewer
from bizosaas.crm.events import DEAL_STAGE_CHANGED, DealStageChanged
from bizosaas.crm.exceptions import CrmNotFound, DealClosed, InUse, InvalidStage, NameTaken
from bizosaas.crm.models import Company, Deal, DealStatus, Pipeline, RecordType, Stage, StageChange
from bizosaas.crm.schemas import (
    DealClose,
    DealCreate,
    DealLost,
    DealMove,
    DealRead,
    DealUpdate,
    Forecast,
    ForecastLine,
    Page,
    PipelineCreate,
    PipelineRead,
    PipelineUpdate,
    StageChangeRead,
    StageInput,
    StageRead,
)
from bizosaas.crm.service.fields import definitions
from bizosaas.crm.service.records import apply_common, check_visible_links, found
from bizosaas.crm.service.values import check_currency, from_minor, search_text, to_minor
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import TenantScope, bind_tenant

# -- pipelines -------------------------------------------------------------------------------


def _pipeline_read(pipeline: Pipeline, stages: Sequence[Stage]) -> PipelineRead:
    return PipelineRead(
        id=pipeline.id,
        name=pipeline.name,
        stages=[
            StageRead(id=s.id, name=s.name, position=s.position, probability=s.probability)
            for s in stages
        ],
    )


async def _pipeline(
    session: AsyncSession, *, scope: TenantScope, pipeline_id: uuid.UUID
) -> Pipeline:
    await bind_tenant(session, scope)
    pipeline = await repository.get(session, Pipeline, scope=scope, row_id=pipeline_id)
    if pipeline is None:
        raise CrmNotFound(f"No pipeline {pipeline_id} in this CRM.")
    return pipeline


async def list_pipelines(session: AsyncSession, *, scope: TenantScope) -> list[PipelineRead]:
    await bind_tenant(session, scope)
    pipelines = await repository.pipelines(session, scope=scope)
    stages = await repository.stages_of(
        session, scope=scope, pipeline_ids=[p.id for p in pipelines]
    )
    return [_pipeline_read(p, stages[p.id]) for p in pipelines]


async def read_pipeline(
    session: AsyncSession, *, scope: TenantScope, pipeline_id: uuid.UUID
) -> PipelineRead:
    pipeline = await _pipeline(session, scope=scope, pipeline_id=pipeline_id)
    stages = await repository.stages_of(session, scope=scope, pipeline_ids=[pipeline.id])
    return _pipeline_read(pipeline, stages[pipeline.id])


async def create_pipeline(
    session: AsyncSession, *, scope: TenantScope, data: PipelineCreate
) -> PipelineRead:
    await bind_tenant(session, scope)
    if await repository.name_taken(session, scope=scope, name=data.name):
        raise NameTaken("A pipeline of this name exists.")
    pipeline = Pipeline(
        name=data.name, position=len(await repository.pipelines(session, scope=scope))
    )
    session.add(pipeline)
    await session.flush()
    await _set_stages(session, scope=scope, pipeline=pipeline, wanted=data.stages, current=[])
    return await read_pipeline(session, scope=scope, pipeline_id=pipeline.id)


async def _set_stages(
    session: AsyncSession,
    *,
    scope: TenantScope,
    pipeline: Pipeline,
    wanted: Sequence[StageInput],
    current: Sequence[Stage],
) -> None:
    """The pipeline's stages become `wanted`, in order: listed ids are kept (renamed,
    re-weighted, moved), new ones added, the others removed unless deals sit in them."""
    by_id = {stage.id: stage for stage in current}
    unknown = [str(s.id) for s in wanted if s.id is not None and s.id not in by_id]
    if unknown:
        raise InvalidStage(f"Not stages of this pipeline: {', '.join(unknown)}.")
    kept = {s.id for s in wanted if s.id is not None}
    removed = [stage for stage in current if stage.id not in kept]
    if removed and await repository.deals_in_stages(
        session, scope=scope, stage_ids=[s.id for s in removed]
    ):
        raise InUse("Deals sit in a stage to remove; move them first.")
    for stage in removed:
        await session.delete(stage)
    for position, item in enumerate(wanted):
        stage = by_id[item.id] if item.id is not None else Stage(pipeline_id=pipeline.id)
        stage.name, stage.probability, stage.position = item.name, item.probability, position
        session.add(stage)
    await session.flush()


async def update_pipeline(
    session: AsyncSession, *, scope: TenantScope, pipeline_id: uuid.UUID, data: PipelineUpdate
) -> PipelineRead:
    pipeline = await _pipeline(session, scope=scope, pipeline_id=pipeline_id)
    if data.name is not None and data.name != pipeline.name:
        if await repository.name_taken(session, scope=scope, name=data.name, except_id=pipeline.id):
            raise NameTaken("A pipeline of this name exists.")
        pipeline.name = data.name
    if data.stages is not None:
        current = (await repository.stages_of(session, scope=scope, pipeline_ids=[pipeline.id]))[
            pipeline.id
        ]
        await _set_stages(
            session, scope=scope, pipeline=pipeline, wanted=data.stages, current=current
        )
    await session.flush()
    return await read_pipeline(session, scope=scope, pipeline_id=pipeline.id)


async def delete_pipeline(
    session: AsyncSession, *, scope: TenantScope, pipeline_id: uuid.UUID
) -> None:
    pipeline = await _pipeline(session, scope=scope, pipeline_id=pipeline_id)
    stages = (await repository.stages_of(session, scope=scope, pipeline_ids=[pipeline.id]))[
        pipeline.id
    ]
    if await repository.deals_in_stages(session, scope=scope, stage_ids=[s.id for s in stages]):
        raise InUse("Deals sit in this pipeline; move or delete them first.")
    await session.delete(pipeline)
    await session.flush()


async def forecast(session: AsyncSession, *, viewer: Viewer, pipeline_id: uuid.UUID) -> Forecast:
    """Open deals the viewer sees, per stage and currency: their amount, and the amount
    weighted by the stage's probability (rounded half up to the currency's minor unit)."""
    pipeline = await read_pipeline(session, scope=viewer.scope, pipeline_id=pipeline_id)
    sums = {
        (stage_id, currency): (count, int(total or 0))
        for stage_id, currency, count, total in await repository.forecast(
            session, viewer=viewer, pipeline_id=pipeline.id
        )
    }
    lines: list[ForecastLine] = []
    totals: dict[str, Decimal] = {}
    for stage in pipeline.stages:
        for (stage_id, currency), (count, total_minor) in sorted(
            sums.items(), key=lambda i: i[0][1]
        ):
            if stage_id != stage.id:
                continue
            amount = from_minor(total_minor, currency)
            weighted_minor = (Decimal(total_minor) * stage.probability / 100).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
            weighted = from_minor(int(weighted_minor), currency)
            lines.append(
                ForecastLine(
                    stage_id=stage.id,
                    stage=stage.name,
                    probability=stage.probability,
                    currency=currency,
                    deals=count,
                    amount=amount,
                    weighted_amount=weighted,
                )
            )
            totals[currency] = totals.get(currency, Decimal(0)) + weighted
    return Forecast(pipeline_id=pipeline.id, lines=lines, totals=totals)


# -- deals -----------------------------------------------------------------------------------


def deal_read(deal: Deal) -> DealRead:
    return DealRead(
        id=deal.id,
        title=deal.title,
        pipeline_id=deal.pipeline_id,
        stage_id=deal.stage_id,
        amount=from_minor(deal.amount_minor, deal.currency),
        currency=deal.currency,
        expected_close_date=deal.expected_close_date,
        status=deal.status,
        lost_reason=deal.lost_reason,
        closed_at=deal.closed_at,
        person_id=deal.person_id,
        company_id=deal.company_id,
        owner_id=deal.owner_id,
        source=deal.source,
        tags=list(deal.tags),
        custom=dict(deal.custom),
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


async def _stage_in(
    session: AsyncSession, *, scope: TenantScope, pipeline_id: uuid.UUID, stage_id: uuid.UUID | None
) -> Stage:
    stages = (await repository.stages_of(session, scope=scope, pipeline_ids=[pipeline_id]))[
        pipeline_id
    ]
    if stage_id is None:
        return stages[0]
    for stage in stages:
        if stage.id == stage_id:
            return stage
    raise InvalidStage(f"The stage {stage_id} is not a stage of this pipeline.")


def _history(
    session: AsyncSession, deal: Deal, *, viewer: Viewer, from_stage_id: uuid.UUID | None
) -> None:
    session.add(
        StageChange(
            deal_id=deal.id,
            from_stage_id=from_stage_id,
            to_stage_id=deal.stage_id,
            status=deal.status,
            changed_by=viewer.member_id,
        )
    )
    record_event(
        session,
        DEAL_STAGE_CHANGED,
        DealStageChanged(
            deal_id=deal.id,
            pipeline_id=deal.pipeline_id,
            from_stage_id=from_stage_id,
            to_stage_id=deal.stage_id,
            status=deal.status,
        ),
    )


async def create_deal(session: AsyncSession, *, viewer: Viewer, data: DealCreate) -> DealRead:
    pipeline = await _pipeline(session, scope=viewer.scope, pipeline_id=data.pipeline_id)
    stage = await _stage_in(
        session, scope=viewer.scope, pipeline_id=pipeline.id, stage_id=data.stage_id
    )
    await check_visible_links(
        session,
        viewer=viewer,
        person_id=data.person_id,
        company_ids=[data.company_id] if data.company_id else [],
    )
    deal = Deal(
        title=data.title,
        pipeline_id=pipeline.id,
        stage_id=stage.id,
        currency=check_currency(data.currency),
        amount_minor=to_minor(data.amount, data.currency),
        expected_close_date=data.expected_close_date,
        status=DealStatus.open,
        person_id=data.person_id,
        company_id=data.company_id,
    )
    await apply_common(
        session, deal, data, viewer=viewer, record_type=RecordType.deal, creating=True
    )
    deal.search_text = search_text(deal.title, *deal.tags)
    session.add(deal)
    await session.flush()
    _history(session, deal, viewer=viewer, from_stage_id=None)
    await session.flush()
    return deal_read(deal)


async def read_deal(session: AsyncSession, *, viewer: Viewer, deal_id: uuid.UUID) -> DealRead:
    return deal_read(await found(session, Deal, viewer=viewer, record_id=deal_id))


async def update_deal(
    session: AsyncSession, *, viewer: Viewer, deal_id: uuid.UUID, data: DealUpdate
) -> DealRead:
    deal = await found(session, Deal, viewer=viewer, record_id=deal_id)
    given = data.model_fields_set
    if data.title is not None:
        deal.title = data.title
    if data.amount is not None or data.currency is not None:
        currency = check_currency(data.currency or deal.currency)
        amount = (
            data.amount if data.amount is not None else from_minor(deal.amount_minor, deal.currency)
        )
        deal.currency, deal.amount_minor = currency, to_minor(amount, currency)
    if "expected_close_date" in given:
        deal.expected_close_date = data.expected_close_date
    if "person_id" in given:
        await check_visible_links(session, viewer=viewer, person_id=data.person_id)
        deal.person_id = data.person_id
    if "company_id" in given:
        if data.company_id is not None:
            await found(session, Company, viewer=viewer, record_id=data.company_id)
        deal.company_id = data.company_id
    await apply_common(
        session, deal, data, viewer=viewer, record_type=RecordType.deal, creating=False
    )
    deal.search_text = search_text(deal.title, *deal.tags)
    await session.flush()
    return deal_read(deal)


async def move_deal(
    session: AsyncSession, *, viewer: Viewer, deal_id: uuid.UUID, data: DealMove
) -> DealRead:
    """Another stage of the deal's pipeline; the move joins the stage history. Moving a won or
    lost deal reopens it (`crm.deal_closed` is only for closing twice)."""
    deal = await found(session, Deal, viewer=viewer, record_id=deal_id)
    stage = await _stage_in(
        session, scope=viewer.scope, pipeline_id=deal.pipeline_id, stage_id=data.stage_id
    )
    if stage.id == deal.stage_id and deal.status == DealStatus.open:
        return deal_read(deal)
    previous = deal.stage_id
    deal.stage_id, deal.status = stage.id, DealStatus.open
    deal.lost_reason, deal.closed_at = None, None
    _history(session, deal, viewer=viewer, from_stage_id=previous)
    await session.flush()
    return deal_read(deal)


async def close_deal(
    session: AsyncSession, *, viewer: Viewer, deal_id: uuid.UUID, data: DealClose
) -> DealRead:
    deal = await found(session, Deal, viewer=viewer, record_id=deal_id)
    if deal.status != DealStatus.open:
        raise DealClosed(f"The deal is already {deal.status}.")
    deal.status = DealStatus.won if data.won else DealStatus.lost
    deal.lost_reason = data.reason if isinstance(data, DealLost) else None
    deal.closed_at = datetime.now(UTC)
    _history(session, deal, viewer=viewer, from_stage_id=deal.stage_id)
    await session.flush()
    return deal_read(deal)


async def deal_history(
    session: AsyncSession, *, viewer: Viewer, deal_id: uuid.UUID
) -> list[StageChangeRead]:
    deal = await found(session, Deal, viewer=viewer, record_id=deal_id)
    return [
        stage_change_read(c)
        for c in await repository.stage_history(session, scope=viewer.scope, deal_id=deal.id)
    ]


def stage_change_read(change: StageChange) -> StageChangeRead:
    return StageChangeRead(
        from_stage_id=change.from_stage_id,
        to_stage_id=change.to_stage_id,
        status=change.status,
        changed_by=change.changed_by,
        changed_at=change.changed_at,
    )


async def find_deals(
    session: AsyncSession, *, viewer: Viewer, query: search.RecordQuery
) -> Page[DealRead]:
    await bind_tenant(session, viewer.scope)
    fields = await definitions(session, scope=viewer.scope, record_type=RecordType.deal)
    rows, next_cursor = await search.find(session, Deal, query, viewer=viewer, fields=fields)
    return Page(items=[deal_read(deal) for deal in rows], next_cursor=next_cursor)
