"""The platform's task queues as Temporal sees them (DescribeTaskQueue): which workers poll
each queue for workflow tasks and for activity tasks, and when each last asked for work. This is
the admin console's view of the workers: a queue nobody polls is work that waits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from bizosaas.settings import Settings
from bizosaas.workflows.exceptions import WorkflowsUnavailable
from bizosaas.workflows.queues import Workload, queue_name

_TYPES: dict[Literal["workflow", "activity"], TaskQueueType.ValueType] = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}


class PollerRead(BaseModel):
    identity: str
    """The worker's identity: `<pid>@<host>` unless configured."""
    task_type: Literal["workflow", "activity"]
    last_seen: datetime | None


class QueueRead(BaseModel):
    name: str
    workload: Workload
    pollers: list[PollerRead]


async def describe_queues(client: Client | None, settings: Settings) -> list[QueueRead]:
    if client is None:
        raise WorkflowsUnavailable("this process has no connection to Temporal")
    queues = []
    for workload in Workload:
        name = queue_name(settings.temporal_queue_prefix, workload)
        pollers = []
        for task_type, value in _TYPES.items():
            try:
                response = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=client.namespace,
                        task_queue=TaskQueue(name=name, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                        task_queue_type=value,
                    )
                )
            except RPCError as error:
                raise WorkflowsUnavailable(f"Temporal did not describe {name}: {error}") from None
            pollers += [
                PollerRead(
                    identity=poller.identity,
                    task_type=task_type,
                    last_seen=poller.last_access_time.ToDatetime(tzinfo=UTC)
                    if poller.HasField("last_access_time")
                    else None,
                )
                for poller in response.pollers
            ]
        queues.append(QueueRead(name=name, workload=workload, pollers=pollers))
    return queues


async def temporal_serving(client: Client | None) -> bool:
    """Whether Temporal answers its health check (False without a connection)."""
    if client is None:
        return False
    try:
        return await client.service_client.check_health()
    except RPCError:
        return False
