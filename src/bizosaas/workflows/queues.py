"""Task queues per workload.

Work is split by what it waits on, so a slow kind cannot starve another: `default` (workflow
logic, approvals, database activities), `agents` (model calls, long and costly) and `io` (mail,
webhooks, third-party APIs). A queue's name is `<BIZOSAAS_TEMPORAL_QUEUE_PREFIX><workload>`;
the prefix lets several deployments, or test runs, share one Temporal namespace.

Every worker registers every enabled module's workflows and activities, so the queue a piece of
work is put on decides which workers run it. `bizosaas up` polls all three queues in one
process; `bizosaas worker --queue io` polls one, so each workload scales on its own.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio import workflow

from bizosaas.settings import Settings


class Workload(StrEnum):
    default = "default"
    agents = "agents"
    io = "io"


def queue_name(prefix: str, workload: Workload) -> str:
    return f"{prefix}{workload.value}"


def task_queue(settings: Settings, workload: Workload = Workload.default) -> str:
    """The queue to start `workload` work on (client side: routes, event starters)."""
    return queue_name(settings.temporal_queue_prefix, workload)


def polled_queues(settings: Settings) -> list[str]:
    """The queues this process's worker polls: the one `--queue` names, else all of them."""
    chosen = settings.temporal_task_queue
    workloads = [Workload(chosen)] if chosen else list(Workload)
    return [queue_name(settings.temporal_queue_prefix, workload) for workload in workloads]


def sibling_queue(workload: Workload) -> str:
    """Inside a workflow: the queue of `workload` in the same deployment as the queue this
    workflow runs on (same prefix), e.g. to send mail activities to `io`."""
    current = workflow.info().task_queue
    for known in Workload:
        if current.endswith(known.value):
            return current[: -len(known.value)] + workload.value
    return current
