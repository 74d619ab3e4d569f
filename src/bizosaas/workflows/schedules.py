"""A tenant's recurring work as Temporal Schedules.

Temporal keeps the schedule (its calendar, whether it is paused, its next and recent runs) and
starts each run itself; nothing here polls. A schedule's id is `<tenant>:schedule:<name>` and
the runs it starts have the id `<tenant>:<kind>:<name>-<time>` (Temporal appends the time), so
a tenant's schedules and their runs are found, like everything else, by its id prefix; the API
names a schedule by `name` alone and puts the caller's tenant in front, so another tenant's
schedule is never reached (404).

The kinds of schedule a tenant may create are a closed list (`ScheduleKind`): a client never
names a workflow or its input.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from bizosaas.kit.tenancy import TenantScope
from bizosaas.settings import Settings
from bizosaas.workflows.digest import DIGEST_WORKFLOW, DigestInput
from bizosaas.workflows.exceptions import ScheduleExists, ScheduleNotFound, WorkflowsUnavailable
from bizosaas.workflows.queues import Workload, task_queue
from bizosaas.workflows.runs import STARTED_BY, tenant_workflow_id
from bizosaas.workflows.schemas import ScheduleCreate, ScheduleKind, ScheduleRead

KIND = "kind"
"""The schedule's memo field naming its `ScheduleKind`."""
_RUN_KINDS = {ScheduleKind.daily_digest: "digest"}
"""The `<kind>` of the workflow ids a schedule kind's runs get."""


def schedule_id(tenant_id: uuid.UUID, name: str) -> str:
    return tenant_workflow_id(tenant_id, "schedule", name)


def _client(client: Client | None) -> Client:
    if client is None:
        raise WorkflowsUnavailable("this process has no connection to Temporal")
    return client


def _action(
    settings: Settings, scope: TenantScope, body: ScheduleCreate
) -> ScheduleActionStartWorkflow:
    """What a schedule of `body.kind` starts (one workflow and input per kind)."""
    inputs = {ScheduleKind.daily_digest: (DIGEST_WORKFLOW, DigestInput)}
    workflow, input_type = inputs[body.kind]
    return ScheduleActionStartWorkflow(
        workflow,
        input_type(tenant_id=scope.tenant_id, schedule=body.name),
        id=tenant_workflow_id(scope.tenant_id, _RUN_KINDS[body.kind], body.name),
        task_queue=task_queue(settings, Workload.default),
        memo={STARTED_BY: f"schedule:{body.name}"},
    )


async def create_schedule(
    client: Client | None, settings: Settings, *, scope: TenantScope, body: ScheduleCreate
) -> ScheduleRead:
    """Create the schedule; 409 `workflows.schedule_exists` when the name is taken."""
    spec = ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                hour=[ScheduleRange(body.hour)], minute=[ScheduleRange(body.minute)]
            )
        ]
    )
    schedule = Schedule(
        action=_action(settings, scope, body),
        spec=spec,
        state=ScheduleState(paused=body.paused, note="created paused" if body.paused else ""),
    )
    try:
        handle = await _client(client).create_schedule(
            schedule_id(scope.tenant_id, body.name), schedule, memo={KIND: body.kind.value}
        )
    except ScheduleAlreadyRunningError:
        raise ScheduleExists(f"there is a schedule named {body.name} already") from None
    return await _describe(handle, body.name)


async def ensure_schedule(
    client: Client, settings: Settings, *, scope: TenantScope, body: ScheduleCreate
) -> bool:
    """Create the schedule unless one of that name exists (a tenant's defaults); True when it
    was created now."""
    try:
        await create_schedule(client, settings, scope=scope, body=body)
    except ScheduleExists:
        return False
    return True


async def list_schedules(client: Client | None, *, scope: TenantScope) -> list[ScheduleRead]:
    """The tenant's schedules by name (found by their id prefix, then each described: the
    listing carries no state a page needs, such as the note)."""
    connected = _client(client)
    prefix = schedule_id(scope.tenant_id, "")
    names = sorted(
        [
            listed.id.removeprefix(prefix)
            async for listed in await connected.list_schedules(
                query=f'ScheduleId STARTS_WITH "{prefix}"'
            )
        ]
    )
    return [
        await _describe(connected.get_schedule_handle(schedule_id(scope.tenant_id, name)), name)
        for name in names
    ]


async def get_schedule(client: Client | None, *, scope: TenantScope, name: str) -> ScheduleRead:
    return await _describe(_handle(client, scope, name), name)


async def pause_schedule(
    client: Client | None, *, scope: TenantScope, name: str, note: str = ""
) -> ScheduleRead:
    handle = _handle(client, scope, name)
    await _checked(handle.pause(note=note or "paused"), name)
    return await _describe(handle, name)


async def unpause_schedule(
    client: Client | None, *, scope: TenantScope, name: str, note: str = ""
) -> ScheduleRead:
    handle = _handle(client, scope, name)
    await _checked(handle.unpause(note=note or "unpaused"), name)
    return await _describe(handle, name)


async def trigger_schedule(client: Client | None, *, scope: TenantScope, name: str) -> ScheduleRead:
    """Start one run now, whatever the calendar says (a paused schedule too)."""
    handle = _handle(client, scope, name)
    await _checked(handle.trigger(), name)
    return await _describe(handle, name)


async def delete_schedule(client: Client | None, *, scope: TenantScope, name: str) -> None:
    """Delete the schedule; runs it started go on and stay listed."""
    await _checked(_handle(client, scope, name).delete(), name)


def _handle(client: Client | None, scope: TenantScope, name: str) -> ScheduleHandle:
    return _client(client).get_schedule_handle(schedule_id(scope.tenant_id, name))


async def _checked(call: Awaitable[object], name: str) -> None:
    try:
        await call
    except RPCError as error:
        if error.status in {RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT}:
            raise ScheduleNotFound(f"no schedule {name}") from None
        raise


async def _describe(handle: ScheduleHandle, name: str) -> ScheduleRead:
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status in {RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT}:
            raise ScheduleNotFound(f"no schedule {name}") from None
        raise
    schedule = description.schedule
    calendar = schedule.spec.calendars[0] if schedule.spec.calendars else None
    kind = await description.memo_value(KIND, ScheduleKind.daily_digest.value)
    recent: list[datetime] = [action.scheduled_at for action in description.info.recent_actions]
    return ScheduleRead(
        name=name,
        kind=ScheduleKind(kind),
        hour=calendar.hour[0].start if calendar and calendar.hour else 0,
        minute=calendar.minute[0].start if calendar and calendar.minute else 0,
        paused=schedule.state.paused,
        note=schedule.state.note or "",
        next_runs=list(description.info.next_action_times[:3]),
        recent_runs=sorted(recent, reverse=True)[:5],
    )
