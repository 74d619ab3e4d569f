"""Run status changes on the tenant's realtime channels.

A worker interceptor wraps every workflow the platform runs (ids `<tenant>:<kind>:<key>`): when
a run starts and when it ends (completed, failed, cancelled) the workflow itself runs the local
activity `workflows.runs.announce`, which writes `workflows.run_changed` to the outbox in the
tenant's scope; the relay takes it to the bus and `GET /api/brain/ws` to the tenant's pages.
Being steps of the workflow, the announcements are as durable as the run: a worker killed in
between repeats an announcement at most (consumers treat them as "look again"), never loses one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import FailureError, is_cancelled_exception
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from bizosaas.kit.db import Database
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows.events import RUN_CHANGED, RunChanged
from bizosaas.workflows.runs import WorkflowKey, split_workflow_id

ANNOUNCE_ACTIVITY = "workflows.runs.announce"
_TIMEOUT = timedelta(seconds=30)


class RunAnnouncement(RunChanged):
    workflow_id: str


class AnnouncementActivities:
    def __init__(self, database: Database) -> None:
        self._database = database

    @activity.defn(name=ANNOUNCE_ACTIVITY)
    async def announce(self, announcement: RunAnnouncement) -> None:
        key = split_workflow_id(announcement.workflow_id)
        if key is None:  # the interceptor announces only the platform's ids
            return
        async with self._database.unit_of_work(trusted_scope(key.tenant_id)) as session:
            record_event(
                session, RUN_CHANGED, RunChanged(**announcement.model_dump(exclude={"workflow_id"}))
            )


class RunAnnouncements(Interceptor):
    """The worker interceptor (worker.py installs it)."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _AnnouncingInbound


class _AnnouncingInbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        key = split_workflow_id(info.workflow_id)
        if key is None:
            return await super().execute_workflow(input)
        await _announce(key, "running")
        try:
            result = await super().execute_workflow(input)
        except BaseException as error:
            if is_cancelled_exception(error):
                await _announce(key, "cancelled")
            elif isinstance(error, FailureError):  # fails the run (others retry the task)
                await _announce(key, "failed")
            raise
        await _announce(key, "completed")
        return result


async def _announce(key: WorkflowKey, status: str) -> None:
    info = workflow.info()
    await workflow.execute_local_activity(
        ANNOUNCE_ACTIVITY,
        RunAnnouncement(
            workflow_id=info.workflow_id,
            key=key.run_key,
            run_id=info.run_id,
            kind=key.kind,
            workflow_type=info.workflow_type,
            status=status,
        ),
        start_to_close_timeout=_TIMEOUT,
    )
