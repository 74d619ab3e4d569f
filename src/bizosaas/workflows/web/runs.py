"""The workspace's runs (list and detail, cancel and retry) and schedules (create, pause,
resume, run now, delete), read from and acted on in Temporal through the same use cases as the
API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response
from temporalio.client import Client

from bizosaas.kit.errors import Problem
from bizosaas.kit.module import WebApp
from bizosaas.web.apps import page, workspace_scope
from bizosaas.web.forms import Form
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import WebRoute, flash, read_form, redirect, settings_of
from bizosaas.workflows import runs, schedules
from bizosaas.workflows.api import RUN_MANAGE, RUN_READ, SCHEDULE_MANAGE, SCHEDULE_READ
from bizosaas.workflows.exceptions import WorkflowsUnavailable
from bizosaas.workflows.router import temporal_client
from bizosaas.workflows.schemas import ScheduleCreate, ScheduleKind

router = APIRouter(prefix="/app", route_class=WebRoute)
RunReader = Annotated[Viewer, Depends(require_permission(RUN_READ))]
RunManager = Annotated[Viewer, Depends(require_permission(RUN_MANAGE))]
ScheduleReader = Annotated[Viewer, Depends(require_permission(SCHEDULE_READ))]
ScheduleManager = Annotated[Viewer, Depends(require_permission(SCHEDULE_MANAGE))]
TemporalClient = Annotated[Client | None, Depends(temporal_client)]
STATUS_BADGES = {
    "running": "info",
    "completed": "success",
    "failed": "danger",
    "timed_out": "danger",
    "cancelled": "warning",
    "terminated": "warning",
    "continued_as_new": "neutral",
    "scheduled": "neutral",
}
T = TypeVar("T")
KIND_LABELS = {ScheduleKind.daily_digest.value: "Daily digest e-mail"}


async def _act(request: Request, action: Awaitable[Any], done: str, to: str) -> Response:
    try:
        await action
    except Problem as problem:
        flash(request, problem.detail, "error")
    else:
        flash(request, done)
    return redirect(request, to)


async def _unless_unavailable(listing: Awaitable[list[T]]) -> tuple[list[T], str | None]:
    """A list page still opens where workflows do not run (`serve` without Temporal): empty,
    saying why."""
    try:
        return await listing, None
    except WorkflowsUnavailable as problem:
        return [], problem.detail


# -- runs -------------------------------------------------------------------------------------


@router.get("/runs")
async def run_list(request: Request, viewer: RunReader, client: TemporalClient) -> Response:
    listed, unavailable = await _unless_unavailable(
        runs.list_runs(client, scope=workspace_scope(viewer))
    )
    context = {
        "title": "Runs",
        "lead": "Every workflow run of this workspace, from Temporal.",
        "runs": listed,
        "unavailable": unavailable,
        "badges": STATUS_BADGES,
        "live": "workflows.run_changed",
    }
    return page(request, WebApp.workspace, viewer, "workflows/runs.html", context)


@router.get("/runs/{run_key}")
async def run_detail(
    request: Request,
    run_key: str,
    viewer: RunReader,
    client: TemporalClient,
    run_id: str | None = None,
) -> Response:
    ui_url = settings_of(request).temporal_ui_url if viewer.principal.is_super_admin else None
    run = await runs.get_run(
        client,
        scope=workspace_scope(viewer),
        run_key=run_key,
        run_id=run_id,
        temporal_ui_url=ui_url,
    )
    context = {
        "title": run.workflow_type.removeprefix("workflows."),
        "lead": f"Run {run.run_id} of {run.key}",
        "run": run,
        "badges": STATUS_BADGES,
        "can_manage": viewer.can(RUN_MANAGE),
        "live": "workflows.run_changed,workflows.approval_*",
    }
    return page(request, WebApp.workspace, viewer, "workflows/run.html", context)


@router.post("/runs/{run_key}/cancel")
async def cancel(
    request: Request, run_key: str, viewer: RunManager, client: TemporalClient
) -> Response:
    await read_form(request)
    cancelled = runs.cancel_run(client, scope=workspace_scope(viewer), run_key=run_key)
    return await _act(request, cancelled, "Cancellation requested.", f"/app/runs/{run_key}")


@router.post("/runs/{run_key}/retry")
async def retry(
    request: Request, run_key: str, viewer: RunManager, client: TemporalClient
) -> Response:
    form = Form(await read_form(request))
    retried = runs.retry_run(
        client,
        scope=workspace_scope(viewer),
        run_key=run_key,
        run_id=form.get("run_id") or None,
        started_by=f"user:{viewer.principal.subject}",
    )
    return await _act(request, retried, "Started again as a new run.", f"/app/runs/{run_key}")


# -- schedules --------------------------------------------------------------------------------


@router.get("/schedules")
async def schedule_list(
    request: Request, viewer: ScheduleReader, client: TemporalClient
) -> Response:
    listed, unavailable = await _unless_unavailable(
        schedules.list_schedules(client, scope=workspace_scope(viewer))
    )
    context = {
        "title": "Schedules",
        "lead": "Recurring work Temporal starts for this workspace (times in UTC).",
        "schedules": listed,
        "unavailable": unavailable,
        "kinds": KIND_LABELS,
        "can_manage": viewer.can(SCHEDULE_MANAGE),
    }
    return page(request, WebApp.workspace, viewer, "workflows/schedules.html", context)


@router.post("/schedules")
async def schedule_create(
    request: Request, viewer: ScheduleManager, client: TemporalClient
) -> Response:
    form = Form(await read_form(request))
    at = form.require("at", "Give a time like 07:00.")
    hour, _, minute = at.partition(":")
    try:
        body = ScheduleCreate(
            name=form.get("name"),
            kind=ScheduleKind(form.get("kind") or ScheduleKind.daily_digest.value),
            hour=int(hour),
            minute=int(minute or 0),
        )
    except ValueError:
        flash(request, "Name it with lower-case letters, digits and dashes, at HH:MM.", "error")
        return redirect(request, "/app/schedules")
    created = schedules.create_schedule(
        client, settings_of(request), scope=workspace_scope(viewer), body=body
    )
    return await _act(request, created, f"Schedule {body.name} created.", "/app/schedules")


SCHEDULE_ACTIONS: dict[str, tuple[Callable[..., Awaitable[Any]], str]] = {
    "pause": (schedules.pause_schedule, "paused"),
    "unpause": (schedules.unpause_schedule, "resumed"),
    "trigger": (schedules.trigger_schedule, "started"),
    "delete": (schedules.delete_schedule, "deleted"),
}
"""The buttons of a schedule's row: the use case each calls and what the flash says."""


@router.post("/schedules/{name}/{action}")
async def schedule_action(
    request: Request, name: str, action: str, viewer: ScheduleManager, client: TemporalClient
) -> Response:
    await read_form(request)
    if action not in SCHEDULE_ACTIONS:
        flash(request, "Unknown action.", "error")
        return redirect(request, "/app/schedules")
    use_case, done = SCHEDULE_ACTIONS[action]
    call = use_case(client, scope=workspace_scope(viewer), name=name)
    return await _act(request, call, f"Schedule {name} {done}.", "/app/schedules")
