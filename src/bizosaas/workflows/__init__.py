"""Durable workflows on Temporal: the client, the embedded dev server, the worker that runs
every enabled module's workflows and activities on task queues per workload, and human
approvals (`require_approval`, the approval workflow, the `/api/brain/approvals/` API).

The package declares two modules: `workflows` (the worker, the approval tables and their
migrations, events, the runs and schedules API at `/api/brain/workflows/`, the pages) and
`approvals` (the approvals API, mounted at `/api/brain/approvals/`, and its permissions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bizosaas.kit.module import DomainModule, Services
from bizosaas.kit.permissions import Role
from bizosaas.workflows import runtime
from bizosaas.workflows.announce import AnnouncementActivities
from bizosaas.workflows.api import RUN_MANAGE, RUN_READ, SCHEDULE_MANAGE, SCHEDULE_READ
from bizosaas.workflows.api import router as workflows_router
from bizosaas.workflows.approvals import ApprovalActivities, ApprovalWorkflow
from bizosaas.workflows.digest import DailyDigest, DigestActivities
from bizosaas.workflows.events import WORKFLOWS_EVENTS
from bizosaas.workflows.onboarding import (
    ONBOARDING_TRIGGERS,
    OnboardingActivities,
    TenantOnboarding,
)
from bizosaas.workflows.publishing import PublishingActivities, ReviewAndPublish
from bizosaas.workflows.router import DECIDE, READ, router
from bizosaas.workflows.starter import subscribe_triggers
from bizosaas.workflows.web import NAV_LINKS, TEMPLATES
from bizosaas.workflows.web import router as pages
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
    temporal = services.provided.get("temporal")
    client = temporal if isinstance(temporal, Client) else None
    approvals = ApprovalActivities(services.database)
    onboarding = OnboardingActivities(services.database, client, services.settings)
    publishing = PublishingActivities(services.database)
    digest = DigestActivities(services.database, client)
    announcements = AnnouncementActivities(services.database)
    return [
        approvals.open_request,
        approvals.record_decision,
        approvals.record_escalation,
        approvals.close_request,
        onboarding.defaults,
        onboarding.welcome,
        publishing.notify,
        digest.send,
        announcements.announce,
    ]


module = DomainModule(
    name="workflows",
    title="Workflows",
    migrations=Path(__file__).parent / "migrations",
    router=workflows_router,
    web=pages,
    navigation=NAV_LINKS,
    templates=TEMPLATES,
    permissions={
        RUN_READ: "See the tenant's workflow runs and their steps",
        RUN_MANAGE: "Cancel a running workflow or start an ended one again",
        SCHEDULE_READ: "See the tenant's schedules",
        SCHEDULE_MANAGE: "Create, pause, resume, trigger and delete the tenant's schedules",
    },
    role_grants={Role.staff: [RUN_READ]},
    events=WORKFLOWS_EVENTS,
    workflows=[ApprovalWorkflow, TenantOnboarding, ReviewAndPublish, DailyDigest],
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
