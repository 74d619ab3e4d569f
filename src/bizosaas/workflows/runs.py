"""A tenant's workflow runs, read from Temporal itself: the list from its visibility store, a
run's steps from its event history. Nothing is copied into our tables, so what the workspace
shows is what Temporal knows.

Every workflow the platform starts has the id `<tenant>:<kind>:<key>` (event starts, approval
requests, schedules, retries). A tenant's runs are the executions whose id starts with its
tenant id and a colon; the API takes the rest (`<kind>:<key>`, the run's "key") and puts the
caller's tenant in front itself, so another tenant's run is never named, only missed (404).

Who started a run is its memo's `started_by`: `event:<name>`, `schedule:<name>`, `user:<id>`
(a retry) or `workflow:<key>` (a child such as an approval request).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import RawValue, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from bizosaas.kit.tenancy import TenantScope
from bizosaas.workflows.exceptions import (
    RunClosed,
    RunNotFound,
    RunNotRetryable,
    WorkflowsUnavailable,
)
from bizosaas.workflows.schemas import RunDetail, RunRead, RunStatus, RunStep, StepStatus

LIST_LIMIT = 200
STARTED_BY = "started_by"
"""The memo field naming who started a run."""
NOT_RETRYABLE_KINDS = frozenset({"approval"})
"""An approval request is asked for by its parent workflow; starting one alone means nothing."""

_STATUS = {
    WorkflowExecutionStatus.RUNNING: RunStatus.running,
    WorkflowExecutionStatus.COMPLETED: RunStatus.completed,
    WorkflowExecutionStatus.FAILED: RunStatus.failed,
    WorkflowExecutionStatus.CANCELED: RunStatus.cancelled,
    WorkflowExecutionStatus.TERMINATED: RunStatus.terminated,
    WorkflowExecutionStatus.CONTINUED_AS_NEW: RunStatus.continued_as_new,
    WorkflowExecutionStatus.TIMED_OUT: RunStatus.timed_out,
}


@dataclass(frozen=True, slots=True)
class WorkflowKey:
    """A workflow id split into its tenant, kind and key."""

    tenant_id: uuid.UUID
    kind: str
    key: str

    @property
    def workflow_id(self) -> str:
        return f"{self.tenant_id}:{self.kind}:{self.key}"

    @property
    def run_key(self) -> str:
        """The id without its tenant: what the API and the pages name a run by."""
        return f"{self.kind}:{self.key}"


def tenant_workflow_id(tenant_id: uuid.UUID, kind: str, key: str) -> str:
    return WorkflowKey(tenant_id, kind, key).workflow_id


def split_workflow_id(workflow_id: str) -> WorkflowKey | None:
    """`<tenant>:<kind>:<key>` split; None for an id the platform did not build."""
    tenant, _, rest = workflow_id.partition(":")
    kind, _, key = rest.partition(":")
    if not kind or not key:
        return None
    try:
        return WorkflowKey(uuid.UUID(tenant), kind, key)
    except ValueError:
        return None


def _client(client: Client | None) -> Client:
    if client is None:
        raise WorkflowsUnavailable("this process has no connection to Temporal")
    return client


def _owned_id(scope: TenantScope, run_key: str) -> str:
    key = split_workflow_id(f"{scope.tenant_id}:{run_key}")
    if key is None:
        raise RunNotFound(f"no run {run_key}")
    return key.workflow_id


def _visibility_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _duration(started: datetime | None, ended: datetime | None) -> float | None:
    if started is None or ended is None:
        return None
    return round((ended - started).total_seconds(), 3)


async def _read(execution: WorkflowExecution) -> RunRead:
    key = split_workflow_id(execution.id)
    assert key is not None  # listed by the tenant's id prefix
    started_by = await execution.memo_value(STARTED_BY, None)
    return RunRead(
        key=key.run_key,
        run_id=execution.run_id,
        kind=key.kind,
        workflow_type=execution.workflow_type,
        status=_STATUS.get(execution.status or WorkflowExecutionStatus.RUNNING, RunStatus.running),
        started_by=str(started_by) if started_by is not None else None,
        started_at=execution.start_time,
        ended_at=execution.close_time,
        duration_seconds=_duration(execution.start_time, execution.close_time),
        task_queue=execution.task_queue,
    )


def runs_query(
    scope: TenantScope,
    *,
    kind: str | None = None,
    status: RunStatus | None = None,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
) -> str:
    """The visibility query for the tenant's runs (ids `<tenant>:...`), optionally narrowed."""
    prefix = f"{scope.tenant_id}:" + (f"{kind}:" if kind else "")
    clauses = [f"WorkflowId STARTS_WITH {_visibility_literal(prefix)}"]
    if status is not None:
        temporal_status = next(name for name, ours in _STATUS.items() if ours is status)
        clauses.append(f"ExecutionStatus = {_visibility_literal(temporal_status.name.title())}")
    if started_after is not None:
        clauses.append(f"StartTime >= {_visibility_literal(started_after.isoformat())}")
    if started_before is not None:
        clauses.append(f"StartTime < {_visibility_literal(started_before.isoformat())}")
    return " AND ".join(clauses)


async def list_runs(
    client: Client | None,
    *,
    scope: TenantScope,
    kind: str | None = None,
    status: RunStatus | None = None,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
    limit: int = LIST_LIMIT,
) -> list[RunRead]:
    """The tenant's runs, newest first."""
    query = runs_query(
        scope,
        kind=kind,
        status=status,
        started_after=started_after,
        started_before=started_before,
    )
    runs = [
        await _read(execution)
        async for execution in _client(client).list_workflows(query, limit=limit)
    ]
    runs.sort(key=lambda run: run.started_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return runs


async def _describe(
    client: Client | None, scope: TenantScope, run_key: str, run_id: str | None
) -> tuple[WorkflowHandle[object, object], RunRead, WorkflowExecutionDescription]:
    connected = _client(client)
    handle = connected.get_workflow_handle(_owned_id(scope, run_key), run_id=run_id)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status in {RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT}:
            raise RunNotFound(f"no run {run_key}") from None
        raise
    # Pin the handle to the run described, so history and cancel act on that run.
    pinned = connected.get_workflow_handle(description.id, run_id=description.run_id)
    return pinned, await _read(description), description


async def get_run(
    client: Client | None,
    *,
    scope: TenantScope,
    run_key: str,
    run_id: str | None = None,
    temporal_ui_url: str | None = None,
) -> RunDetail:
    """One run (the latest of its key unless `run_id` names one) with its steps."""
    handle, run, description = await _describe(client, scope, run_key, run_id)
    events = [event async for event in handle.fetch_history_events()]
    steps = steps_of(events, pending=description.raw_description.pending_activities)
    detail = RunDetail(**run.model_dump(), steps=steps, error=_run_error(events))
    if temporal_ui_url:
        namespace = _client(client).namespace
        detail.temporal_ui_url = (
            f"{temporal_ui_url.rstrip('/')}/namespaces/{namespace}/workflows/"
            f"{handle.id}/{run.run_id}/history"
        )
    return detail


async def cancel_run(client: Client | None, *, scope: TenantScope, run_key: str) -> RunRead:
    """Ask the running run of `run_key` to cancel (its workflow cleans up, then ends as
    cancelled); 409 `workflows.run_closed` when it has ended already."""
    handle, run, _ = await _describe(client, scope, run_key, None)
    if run.status is not RunStatus.running:
        raise RunClosed(f"run {run_key} is {run.status.value}")
    try:
        await handle.cancel()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:  # it ended in the meantime
            raise RunClosed(f"run {run_key} has ended") from None
        raise
    return run


async def retry_run(
    client: Client | None,
    *,
    scope: TenantScope,
    run_key: str,
    run_id: str | None,
    started_by: str,
) -> RunRead:
    """Start the workflow of an ended run again, with the same input, as a new run of the same
    id. A run still going, or an approval request, cannot be retried (409)."""
    handle, run, _ = await _describe(client, scope, run_key, run_id)
    if run.kind in NOT_RETRYABLE_KINDS:
        raise RunNotRetryable(f"a {run.kind} run is started by its parent workflow only")
    if run.status is RunStatus.running:
        raise RunNotRetryable(f"run {run_key} is still running: cancel it first")
    started = await _started_event(handle)
    attributes = started.workflow_execution_started_event_attributes
    arguments = [RawValue(payload) for payload in attributes.input.payloads]
    try:
        new = await _client(client).start_workflow(
            run.workflow_type,
            args=arguments,
            id=handle.id,
            task_queue=attributes.task_queue.name,
            memo={STARTED_BY: started_by},
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except RPCError as error:
        raise RunNotRetryable(f"run {run_key} cannot start again: {error.message}") from None
    _, fresh, _ = await _describe(client, scope, run_key, new.result_run_id)
    return fresh


async def _started_event(handle: WorkflowHandle[object, object]) -> HistoryEvent:
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return event
    raise RunNotFound(f"run {handle.id} has no history")


# -- steps from the history -------------------------------------------------------------------


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def _run_error(events: Iterable[HistoryEvent]) -> str | None:
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            return event.workflow_execution_failed_event_attributes.failure.message or "failed"
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            return "the run timed out"
    return None


def _finish(
    step: RunStep, event: HistoryEvent, status: StepStatus, error: str | None = None
) -> None:
    step.status = status
    step.ended_at = _at(event)
    step.duration_seconds = _duration(step.started_at or step.scheduled_at, step.ended_at)
    if error:
        step.error = error


def steps_of(
    events: Iterable[HistoryEvent], pending: Iterable[PendingActivityInfo] = ()
) -> list[RunStep]:
    """The run's activities (with their attempts and the last failure), child workflows and
    timers, in the order they were scheduled. An activity being retried shows in the history
    only once it ends: `pending` (from describing the run) gives its attempt and last error."""
    steps: dict[int, RunStep] = {}
    by_activity_id: dict[str, RunStep] = {}
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            steps[event.event_id] = RunStep(
                kind="activity", name=name, status="scheduled", scheduled_at=_at(event)
            )
            activity_id = event.activity_task_scheduled_event_attributes.activity_id
            by_activity_id[activity_id] = steps[event.event_id]
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            step = steps[started.scheduled_event_id]
            step.status, step.started_at, step.attempt = "running", _at(event), started.attempt
            if started.HasField("last_failure"):
                step.error = started.last_failure.message
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            step = steps[event.activity_task_completed_event_attributes.scheduled_event_id]
            _finish(step, event, "completed")
            step.error = None
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            failed = event.activity_task_failed_event_attributes
            _finish(steps[failed.scheduled_event_id], event, "failed", failed.failure.message)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            timed_out = event.activity_task_timed_out_event_attributes
            _finish(steps[timed_out.scheduled_event_id], event, "timed_out", "timed out")
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
            # The workflow does not wait for the activity to confirm (the default): asking is
            # the last the history may say of it.
            requested = event.activity_task_cancel_requested_event_attributes
            _finish(steps[requested.scheduled_event_id], event, "cancelled")
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
            cancelled = event.activity_task_canceled_event_attributes
            _finish(steps[cancelled.scheduled_event_id], event, "cancelled")
        else:
            _child_or_timer(steps, event)
    for info in pending:
        _pending_into(by_activity_id.get(info.activity_id), info)
    return list(steps.values())


def _pending_into(step: RunStep | None, info: PendingActivityInfo) -> None:
    if step is None or step.status not in {"scheduled", "running"}:
        return
    step.attempt = info.attempt
    is_running = info.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
    step.status = "running" if is_running else "scheduled"
    if info.HasField("last_started_time"):
        step.started_at = info.last_started_time.ToDatetime(tzinfo=UTC)
    if info.HasField("last_failure"):
        step.error = info.last_failure.message


_CHILD_ENDS: dict[EventType.ValueType, tuple[StepStatus, str]] = {
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: (
        "completed",
        "child_workflow_execution_completed_event_attributes",
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: (
        "failed",
        "child_workflow_execution_failed_event_attributes",
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: (
        "cancelled",
        "child_workflow_execution_canceled_event_attributes",
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: (
        "timed_out",
        "child_workflow_execution_timed_out_event_attributes",
    ),
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: (
        "cancelled",
        "child_workflow_execution_terminated_event_attributes",
    ),
}


def _child_or_timer(steps: dict[int, RunStep], event: HistoryEvent) -> None:
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        initiated = event.start_child_workflow_execution_initiated_event_attributes
        steps[event.event_id] = RunStep(
            kind="child_workflow",
            name=f"{initiated.workflow_type.name} ({initiated.workflow_id})",
            status="scheduled",
            scheduled_at=_at(event),
        )
    elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
        started = event.child_workflow_execution_started_event_attributes
        step = steps[started.initiated_event_id]
        step.status, step.started_at = "running", _at(event)
    elif kind in _CHILD_ENDS:
        status, field = _CHILD_ENDS[kind]
        attributes = getattr(event, field)
        error = attributes.failure.message if hasattr(attributes, "failure") else None
        _finish(steps[attributes.initiated_event_id], event, status, error)
    elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
        timer = event.timer_started_event_attributes
        seconds = round(timer.start_to_fire_timeout.ToTimedelta().total_seconds())
        summary = _summary(event)
        steps[event.event_id] = RunStep(
            kind="timer",
            name=f"{summary} ({seconds} s)" if summary else f"wait {seconds} s",
            status="running",
            scheduled_at=_at(event),
            started_at=_at(event),
        )
    elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
        _finish(steps[event.timer_fired_event_attributes.started_event_id], event, "completed")
    elif kind == EventType.EVENT_TYPE_TIMER_CANCELED:
        _finish(steps[event.timer_canceled_event_attributes.started_event_id], event, "cancelled")


def _summary(event: HistoryEvent) -> str | None:
    """The summary a workflow gave a step (`timeout_summary=...`), if any."""
    if not event.HasField("user_metadata") or not event.user_metadata.HasField("summary"):
        return None
    try:
        text = json.loads(event.user_metadata.summary.data)
    except ValueError:
        return None
    return text if isinstance(text, str) and text else None
