"""Durable workflows on Temporal: the client, the embedded dev server, the worker that runs
every enabled module's workflows and activities, and (as domains add them) human approvals."""

from __future__ import annotations

from bizosaas.kit.module import DomainModule, Services
from bizosaas.workflows import runtime
from bizosaas.workflows.worker import WORKER, prepare_worker


async def startup(services: Services) -> None:
    """Connect the Temporal client; when this process runs the worker
    (`BIZOSAAS_TEMPORAL_WORKER`: `bizosaas worker`, or `up`'s single process), prepare it to
    start beside serving."""
    await runtime.startup(services)
    if not services.settings.temporal_worker:
        return
    worker = prepare_worker(services)
    if worker is not None:
        services.provide(WORKER, worker)
        services.run_in_background(WORKER, worker)


module = DomainModule(name="workflows", title="Workflows", startup=startup)

__all__ = ["module"]
