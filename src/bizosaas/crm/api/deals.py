"""Pipelines with their stages, the forecast, and deals: moving, winning and losing them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from bizosaas.crm.api.common import LIST_ERRORS, RECORD_ERRORS, errors, record_query, viewer_of
from bizosaas.crm.auth import DealReader, DealWriter, PipelineReader, PipelineWriter
from bizosaas.crm.models import Deal
from bizosaas.crm.schemas import (
    DealClose,
    DealCreate,
    DealMove,
    DealRead,
    DealUpdate,
    Forecast,
    Page,
    PipelineCreate,
    PipelineRead,
    PipelineUpdate,
    StageChangeRead,
)
from bizosaas.crm.search import RecordQuery
from bizosaas.crm.service import deals, records
from bizosaas.kit.auth import TenantSession, scope_of

router = APIRouter(tags=["crm: pipelines and deals"])
Query_ = Annotated[RecordQuery, Depends(record_query)]
STAGE_CONFLICTS = "`crm.invalid_stage`: a stage of another pipeline"


@router.get("/pipelines", summary="The pipelines and their stages, in order")
async def list_pipelines(principal: PipelineReader, session: TenantSession) -> list[PipelineRead]:
    return await deals.list_pipelines(session, scope=scope_of(principal))


@router.post(
    "/pipelines",
    status_code=201,
    summary="Create a pipeline with its stages",
    responses=errors(not_found=False, conflicts="`crm.name_taken`"),
)
async def create_pipeline(
    data: PipelineCreate, principal: PipelineWriter, session: TenantSession
) -> PipelineRead:
    return await deals.create_pipeline(session, scope=scope_of(principal), data=data)


@router.get("/pipelines/{pipeline_id}", summary="One pipeline", responses=errors())
async def read_pipeline(
    pipeline_id: uuid.UUID, principal: PipelineReader, session: TenantSession
) -> PipelineRead:
    return await deals.read_pipeline(session, scope=scope_of(principal), pipeline_id=pipeline_id)


@router.patch(
    "/pipelines/{pipeline_id}",
    summary="Rename a pipeline, or set its stages in order",
    responses=errors(conflicts="`crm.name_taken`, `crm.invalid_stage`, `crm.in_use`"),
)
async def update_pipeline(
    pipeline_id: uuid.UUID, data: PipelineUpdate, principal: PipelineWriter, session: TenantSession
) -> PipelineRead:
    return await deals.update_pipeline(
        session, scope=scope_of(principal), pipeline_id=pipeline_id, data=data
    )


@router.delete(
    "/pipelines/{pipeline_id}",
    status_code=204,
    summary="Delete a pipeline without deals",
    responses=errors(conflicts="`crm.in_use`"),
)
async def delete_pipeline(
    pipeline_id: uuid.UUID, principal: PipelineWriter, session: TenantSession
) -> Response:
    await deals.delete_pipeline(session, scope=scope_of(principal), pipeline_id=pipeline_id)
    return Response(status_code=204)


@router.get(
    "/pipelines/{pipeline_id}/forecast",
    summary="Open deals per stage and currency, and their amount weighted by probability",
    responses=errors(),
)
async def forecast(
    pipeline_id: uuid.UUID, principal: PipelineReader, session: TenantSession
) -> Forecast:
    viewer = await viewer_of(session, principal)
    return await deals.forecast(session, viewer=viewer, pipeline_id=pipeline_id)


# -- deals -----------------------------------------------------------------------------------


@router.get("/deals", summary="Find deals", responses=LIST_ERRORS)
async def list_deals(
    principal: DealReader, session: TenantSession, query: Query_
) -> Page[DealRead]:
    viewer = await viewer_of(session, principal)
    return await deals.find_deals(session, viewer=viewer, query=query)


@router.post(
    "/deals",
    status_code=201,
    summary="Open a deal in a pipeline",
    responses=errors(
        conflicts=STAGE_CONFLICTS, status_422=RECORD_ERRORS + ", `crm.unknown_currency`"
    ),
)
async def create_deal(data: DealCreate, principal: DealWriter, session: TenantSession) -> DealRead:
    viewer = await viewer_of(session, principal)
    return await deals.create_deal(session, viewer=viewer, data=data)


@router.get("/deals/{deal_id}", summary="One deal", responses=errors())
async def read_deal(deal_id: uuid.UUID, principal: DealReader, session: TenantSession) -> DealRead:
    viewer = await viewer_of(session, principal)
    return await deals.read_deal(session, viewer=viewer, deal_id=deal_id)


@router.patch(
    "/deals/{deal_id}",
    summary="Change a deal",
    responses=errors(status_422=RECORD_ERRORS + ", `crm.unknown_currency`"),
)
async def update_deal(
    deal_id: uuid.UUID, data: DealUpdate, principal: DealWriter, session: TenantSession
) -> DealRead:
    viewer = await viewer_of(session, principal)
    return await deals.update_deal(session, viewer=viewer, deal_id=deal_id, data=data)


@router.delete("/deals/{deal_id}", status_code=204, summary="Delete a deal", responses=errors())
async def delete_deal(
    deal_id: uuid.UUID, principal: DealWriter, session: TenantSession
) -> Response:
    viewer = await viewer_of(session, principal)
    await records.delete_record(session, Deal, viewer=viewer, record_id=deal_id)
    return Response(status_code=204)


@router.post(
    "/deals/{deal_id}/move",
    summary="Move a deal to another stage of its pipeline (written to its stage history)",
    responses=errors(conflicts=STAGE_CONFLICTS),
)
async def move_deal(
    deal_id: uuid.UUID, data: DealMove, principal: DealWriter, session: TenantSession
) -> DealRead:
    viewer = await viewer_of(session, principal)
    return await deals.move_deal(session, viewer=viewer, deal_id=deal_id, data=data)


@router.post(
    "/deals/{deal_id}/close",
    summary="Win or lose a deal (a lost deal needs a reason)",
    responses=errors(conflicts="`crm.deal_closed`: already won or lost"),
)
async def close_deal(
    deal_id: uuid.UUID, data: DealClose, principal: DealWriter, session: TenantSession
) -> DealRead:
    viewer = await viewer_of(session, principal)
    return await deals.close_deal(session, viewer=viewer, deal_id=deal_id, data=data)


@router.get(
    "/deals/{deal_id}/history", summary="The deal's stage history, oldest first", responses=errors()
)
async def deal_history(
    deal_id: uuid.UUID, principal: DealReader, session: TenantSession
) -> list[StageChangeRead]:
    viewer = await viewer_of(session, principal)
    return await deals.deal_history(session, viewer=viewer, deal_id=deal_id)
