"""Workflows API under `/api/brain/workflows/`: the tenant's runs (from Temporal's visibility and
history; cancel, retry), its schedules (Temporal Schedules: create, pause, unpause, run now,
delete), and, for platform administrators, the task queues with their pollers.

A run is named by its key (`<kind>:<key>`, the workflow id without the tenant) and a schedule
by its name; the tenant always comes from the caller's token, so another tenant's run or
schedule answers 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from temporalio.client import Client

from bizosaas.kit.auth import Principal, require, require_super_admin
from bizosaas.kit.errors import PermissionDenied
from bizosaas.kit.module import Services, get_services
from bizosaas.kit.tenancy import TenantScope
from bizosaas.workflows import runs, schedules
from bizosaas.workflows.pollers import QueueRead, describe_queues
from bizosaas.workflows.router import temporal_client
from bizosaas.workflows.schemas import (
    PauseBody,
    RunDetail,
    RunRead,
    RunStatus,
    ScheduleCreate,
    ScheduleRead,
)

RUN_READ = "workflows.run:read"
RUN_MANAGE = "workflows.run:manage"
SCHEDULE_READ = "workflows.schedule:read"
SCHEDULE_MANAGE = "workflows.schedule:manage"

Responses = dict[int | str, dict[str, Any]]
UNAVAILABLE: Responses = {
    503: {"description": "Workflows are not running here (workflows.unavailable)"}
}
RUN_NOT_FOUND: Responses = {
    404: {"description": "No such run in your tenant (workflows.run_not_found)"},
    **UNAVAILABLE,
}
SCHEDULE_NOT_FOUND: Responses = {
    404: {"description": "No such schedule in your tenant (workflows.schedule_not_found)"},
    **UNAVAILABLE,
}

TemporalClient = Annotated[Client | None, Depends(temporal_client)]
router = APIRouter(tags=["workflows"])


def tenant_scope(principal: Principal) -> TenantScope:
    """The caller's tenant: these routes act within one (they hold no database session that
    would refuse a credential without a tenant)."""
    if principal.scope is None:
        raise PermissionDenied("This endpoint acts within a tenant; use a tenant credential.")
    return principal.scope


RunReader = Annotated[Principal, Depends(require(RUN_READ))]
RunManager = Annotated[Principal, Depends(require(RUN_MANAGE))]
ScheduleReader = Annotated[Principal, Depends(require(SCHEDULE_READ))]
ScheduleManager = Annotated[Principal, Depends(require(SCHEDULE_MANAGE))]


# -- runs -------------------------------------------------------------------------------------


@router.get("/runs", summary="Workflow runs of my tenant, newest first", responses=UNAVAILABLE)
async def list_runs(
    caller: RunReader,
    client: TemporalClient,
    kind: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]+$", max_length=60)] = None,
    status: RunStatus | None = None,
) -> list[RunRead]:
    return await runs.list_runs(client, scope=tenant_scope(caller), kind=kind, status=status)


@router.get("/runs/{run_key}", summary="One run with its steps", responses=RUN_NOT_FOUND)
async def get_run(
    run_key: str,
    *,
    caller: RunReader,
    client: TemporalClient,
    services: Annotated[Services, Depends(get_services)],
    run_id: Annotated[
        str | None, Query(description="A run of this key; default the latest.")
    ] = None,
) -> RunDetail:
    ui_url = services.settings.temporal_ui_url if caller.is_super_admin else None
    return await runs.get_run(
        client, scope=tenant_scope(caller), run_key=run_key, run_id=run_id, temporal_ui_url=ui_url
    )


@router.post(
    "/runs/{run_key}/cancel",
    summary="Cancel a running run",
    status_code=202,
    responses={**RUN_NOT_FOUND, 409: {"description": "It has ended (workflows.run_closed)"}},
)
async def cancel_run(run_key: str, caller: RunManager, client: TemporalClient) -> RunRead:
    return await runs.cancel_run(client, scope=tenant_scope(caller), run_key=run_key)


@router.post(
    "/runs/{run_key}/retry",
    summary="Start an ended run again with the same input (a new run)",
    status_code=201,
    responses={
        **RUN_NOT_FOUND,
        409: {"description": "Still running, or not retryable (workflows.run_not_retryable)"},
    },
)
async def retry_run(
    run_key: str,
    caller: RunManager,
    client: TemporalClient,
    run_id: Annotated[
        str | None, Query(description="The run to repeat; default the latest.")
    ] = None,
) -> RunRead:
    return await runs.retry_run(
        client,
        scope=tenant_scope(caller),
        run_key=run_key,
        run_id=run_id,
        started_by=f"user:{caller.subject}",
    )


# -- schedules --------------------------------------------------------------------------------


@router.get("/schedules", summary="Schedules of my tenant", responses=UNAVAILABLE)
async def list_schedules(caller: ScheduleReader, client: TemporalClient) -> list[ScheduleRead]:
    return await schedules.list_schedules(client, scope=tenant_scope(caller))


@router.post(
    "/schedules",
    summary="Create a schedule",
    status_code=201,
    responses={409: {"description": "The name is taken (workflows.schedule_exists)"}},
)
async def create_schedule(
    body: ScheduleCreate,
    caller: ScheduleManager,
    client: TemporalClient,
    services: Annotated[Services, Depends(get_services)],
) -> ScheduleRead:
    return await schedules.create_schedule(
        client, services.settings, scope=tenant_scope(caller), body=body
    )


@router.get("/schedules/{name}", summary="One schedule", responses=SCHEDULE_NOT_FOUND)
async def get_schedule(name: str, caller: ScheduleReader, client: TemporalClient) -> ScheduleRead:
    return await schedules.get_schedule(client, scope=tenant_scope(caller), name=name)


@router.post("/schedules/{name}/pause", summary="Pause a schedule", responses=SCHEDULE_NOT_FOUND)
async def pause_schedule(
    name: str, caller: ScheduleManager, client: TemporalClient, body: PauseBody | None = None
) -> ScheduleRead:
    note = body.note if body else ""
    return await schedules.pause_schedule(client, scope=tenant_scope(caller), name=name, note=note)


@router.post(
    "/schedules/{name}/unpause", summary="Resume a paused schedule", responses=SCHEDULE_NOT_FOUND
)
async def unpause_schedule(
    name: str, caller: ScheduleManager, client: TemporalClient, body: PauseBody | None = None
) -> ScheduleRead:
    note = body.note if body else ""
    return await schedules.unpause_schedule(
        client, scope=tenant_scope(caller), name=name, note=note
    )


@router.post("/schedules/{name}/trigger", summary="Start one run now", responses=SCHEDULE_NOT_FOUND)
async def trigger_schedule(
    name: str, caller: ScheduleManager, client: TemporalClient
) -> ScheduleRead:
    return await schedules.trigger_schedule(client, scope=tenant_scope(caller), name=name)


@router.delete(
    "/schedules/{name}",
    summary="Delete a schedule (its past runs stay)",
    status_code=204,
    responses=SCHEDULE_NOT_FOUND,
)
async def delete_schedule(name: str, caller: ScheduleManager, client: TemporalClient) -> Response:
    await schedules.delete_schedule(client, scope=tenant_scope(caller), name=name)
    return Response(status_code=204)


# -- the platform's task queues (administrators) ------------------------------------------------


@router.get(
    "/queues",
    summary="Task queues and their pollers (platform administrators)",
    responses=UNAVAILABLE,
)
async def list_queues(
    _admin: Annotated[Principal, Depends(require_super_admin())],
    client: TemporalClient,
    services: Annotated[Services, Depends(get_services)],
) -> list[QueueRead]:
    return await describe_queues(client, services.settings)
