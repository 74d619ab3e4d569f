"""Starting work from events, exactly once.

Every enabled module's `workflow_triggers` are subscribed on the process's bus: a relayed event
starts its workflow with the id `<tenant>:<kind>:<key>`, `USE_EXISTING` for a run still going
and `REJECT_DUPLICATE` for one that has ended. Relay is at-least-once, and with Redis every
process hears every event, so the same event may reach the starter several times; the id makes
all but the first a no-op, whether the first run is still going or long finished.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from bizosaas.kit.events import Event
from bizosaas.kit.module import Services, WorkflowTrigger
from bizosaas.settings import Settings
from bizosaas.workflows.queues import Workload, task_queue
from bizosaas.workflows.runs import STARTED_BY

log = structlog.get_logger(__name__)


def workflow_id(trigger: WorkflowTrigger, event: Event) -> str:
    if event.tenant_id is None:
        raise ValueError(f"event {event.id} ({event.name}) names no tenant")
    return f"{event.tenant_id}:{trigger.kind}:{trigger.key(event)}"


async def start_for(
    client: Client, settings: Settings, trigger: WorkflowTrigger, event: Event
) -> WorkflowHandle[object, object] | None:
    """Start `trigger`'s workflow for `event`; None when an ended run already had its id."""
    try:
        return await client.start_workflow(
            trigger.workflow,
            trigger.input(event),
            id=workflow_id(trigger, event),
            task_queue=task_queue(settings, Workload(trigger.workload)),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={STARTED_BY: f"event:{event.name}"},
        )
    except WorkflowAlreadyStartedError:
        log.info("workflow_already_ran", workflow_id=workflow_id(trigger, event))
        return None


def subscribe_triggers(services: Services, client: Client) -> None:
    for module in services.modules:
        for trigger in module.workflow_triggers:
            services.bus.subscribe(trigger.event, _starter(client, services.settings, trigger))


def _starter(
    client: Client, settings: Settings, trigger: WorkflowTrigger
) -> Callable[[Event], Awaitable[None]]:
    async def start(event: Event) -> None:
        if event.tenant_id is None:
            log.warning("workflow_trigger_without_tenant", event_id=str(event.id))
            return
        await start_for(client, settings, trigger, event)

    return start
