"""One Temporal worker for every enabled module's workflows and activities.

`bizosaas worker` runs it as a process of its own (scaled mode); `bizosaas up` runs it inside
the gateway process beside the embedded dev server (`BIZOSAAS_TEMPORAL_WORKER`). Either way it
shares the process's `Services`: each module's `ActivityFactory` is called with them, so an
activity reaches the database and the bus through its closure. Activities are async and run on
the process's event loop.

Workflow code runs in Temporal's sandbox, with the platform's packages and the packages that
define the workflows passed through: a domain package imports its models, and importing them
again in the sandbox would define their tables twice. Temporal's runtime checks (no I/O, no
wall clock, no randomness in workflow code) still apply.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bizosaas.kit.module import DomainModule, Services
from bizosaas.workflows.announce import RunAnnouncements
from bizosaas.workflows.queues import polled_queues

log = structlog.get_logger(__name__)

# Activities still running at shutdown get this long to finish before they are cancelled
# (Temporal retries a cancelled attempt on another worker).
SHUTDOWN_GRACE = timedelta(seconds=10)
WORKER = "temporal_worker"
"""The name the running worker is provided under (`Services.provided`, `app.state`)."""


class WorkerError(RuntimeError):
    """The worker cannot be assembled or cannot run; the message says why."""


def has_work(modules: Sequence[DomainModule]) -> bool:
    return any(module.workflows or module.activities for module in modules)


def collect(
    modules: Sequence[DomainModule], services: Services
) -> tuple[list[type], list[Callable[..., Any]]]:
    """Every module's workflow classes, and its activities built around `services`."""
    workflows = [workflow for module in modules for workflow in module.workflows]
    activities: list[Callable[..., Any]] = []
    for module in modules:
        if module.activities is None:
            continue
        for activity in module.activities(services):
            if not inspect.iscoroutinefunction(activity):
                raise WorkerError(
                    f"module {module.name}: activity {getattr(activity, '__name__', activity)!r} "
                    "must be async (activities run on the process's event loop)"
                )
            activities.append(activity)
    return workflows, activities


def build_worker(
    client: Client,
    modules: Sequence[DomainModule],
    services: Services,
    *,
    task_queue: str,
    concurrency: int,
) -> Worker:
    workflows, activities = collect(modules, services)
    if not workflows and not activities:
        raise WorkerError("no enabled module declares workflows or activities")
    packages = {workflow.__module__.partition(".")[0] for workflow in workflows}
    restrictions = SandboxRestrictions.default.with_passthrough_modules("bizosaas", *packages)
    try:
        return Worker(
            client,
            task_queue=task_queue,
            workflows=workflows,
            activities=activities,
            workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
            max_concurrent_activities=concurrency,
            max_concurrent_workflow_tasks=concurrency,
            graceful_shutdown_timeout=SHUTDOWN_GRACE,
            interceptors=[RunAnnouncements()],
        )
    except (TypeError, ValueError, RuntimeError) as error:  # e.g. a duplicate activity name
        raise WorkerError(f"cannot assemble the Temporal worker: {error}") from error


class ModuleWorker:
    """The process's workers (one per polled task queue, see queues.py), run together as one
    task of this process's event loop."""

    def __init__(self, workers: Sequence[Worker]) -> None:
        self.workers = list(workers)
        self._task: asyncio.Task[None] | None = None

    @property
    def task_queues(self) -> list[str]:
        return [str(worker.config()["task_queue"]) for worker in self.workers]

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run_all(), name="temporal-worker")

    async def _run_all(self) -> None:
        # One failing worker stops the others: a process half-polling its queues would look
        # healthy while one workload piles up.
        async with asyncio.TaskGroup() as group:
            for worker in self.workers:
                group.create_task(worker.run())

    async def wait(self) -> None:
        """Return when the worker stops; raise what stopped it if it failed."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Stop polling, let running activities finish (within `SHUTDOWN_GRACE`), and return
        once the worker is down."""
        if self._task is None:
            return
        task, self._task = self._task, None
        if not task.done():
            await asyncio.gather(*(worker.shutdown() for worker in self.workers))
        try:
            await task
        except Exception:  # it failed earlier; stopping is what was asked
            log.exception("temporal_worker_failed")


def prepare_worker(services: Services) -> ModuleWorker | None:
    """The process's workers on the queues it polls, built around `services` (started by the
    platform with the other background parts); None when no module has any work."""
    settings = services.settings
    modules = services.modules
    if not has_work(modules):
        log.info("temporal_worker_idle", reason="no enabled module declares workflows")
        return None
    client = services.provided.get("temporal")
    if not isinstance(client, Client):
        raise WorkerError(
            "the Temporal worker needs a Temporal frontend: set BIZOSAAS_TEMPORAL_ADDRESS "
            "(host:port) and keep the workflows module enabled"
        )
    queues = polled_queues(settings)
    log.info(
        "temporal_worker_prepared",
        task_queues=queues,
        concurrency=settings.temporal_worker_concurrency,
    )
    return ModuleWorker(
        [
            build_worker(
                client,
                modules,
                services,
                task_queue=queue,
                concurrency=settings.temporal_worker_concurrency,
            )
            for queue in queues
        ]
    )
