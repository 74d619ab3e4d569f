"""Durable workflows on Temporal: the client, the embedded dev server, the worker that runs
every enabled module's workflows and activities on task queues per workload, and human
approvals (`require_approval`, the approval workflow, the `/api/brain/approvals/` API).

The package declares two modules: `workflows` (the worker, the approval tables and their
migrations, events) and `approvals` (the approvals API, mounted at `/api/brain/approvals/`,
and its permissions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bizosaas.kit.module import DomainModule, Services
from bizosaas.kit.permissions import Role
from bizosaas.workflows import runtime
from bizosaas.workflows.approvals import ApprovalActivities, ApprovalWorkflow
from bizosaas.workflows.events import WORKFLOWS_EVENTS
from bizosaas.workflows.onboarding import (
    ONBOARDING_TRIGGERS,
    OnboardingActivities,
    TenantOnboarding,
)
from bizosaas.workflows.publishing import PublishingActivities, ReviewAndPublish
from bizosaas.workflows.router import DECIDE, READ, router
from bizosaas.workflows.starter import subscribe_triggers
from bizosaas.workflows.worker import WORKER, prepare_worker


async def startup(services: Services) -> None:
    """Connect the Temporal client; when this process runs the worker
    (`BIZOSAAS_TEMPORAL_WORKER`: `bizosaas worker`, or `up`'s single process), prepare it to
    start beside serving."""
    await runtime.startup(services)
    client = services.provided.get("temporal")
    if isinstance(client, Client):
        subscribe_triggers(services, client)
    if not services.settings.temporal_worker:
        return
    worker = prepare_worker(services)
    if worker is not None:
        services.provide(WORKER, worker)
        services.run_in_background(WORKER, worker)


def activities(services: Services) -> Sequence[Callable[..., Any]]:
    approvals = ApprovalActivities(services.database)
    onboarding = OnboardingActivities(services.database)
    publishing = PublishingActivities(services.database)
    return [
        approvals.open_request,
        approvals.record_decision,
        approvals.record_escalation,
        approvals.close_request,
        onboarding.welcome,
        publishing.notify,
    ]


module = DomainModule(
    name="workflows",
    title="Workflows",
    migrations=Path(__file__).parent / "migrations",
    events=WORKFLOWS_EVENTS,
    workflows=[ApprovalWorkflow, TenantOnboarding, ReviewAndPublish],
    activities=activities,
    workflow_triggers=ONBOARDING_TRIGGERS,
    startup=startup,
)

approvals_module = DomainModule(
    name="approvals",
    title="Approvals",
    router=router,
    permissions={
        READ: "See the tenant's approval requests and their decisions",
        DECIDE: "Approve or reject requests assigned to you or to a role you hold",
    },
    # Staff decide what is assigned to them or their role; the request's assignee narrows it.
    role_grants={Role.staff: [DECIDE]},
)

__all__ = ["approvals_module", "module"]
