"""Tenant onboarding: started by `identity.tenant_created` (one run per tenant, id
`<tenant>:onboarding:<tenant>`), it sets the tenant's defaults, then welcomes the tenant's
administrators by e-mail through the outbox mailer.

The defaults: a `daily-digest` schedule (07:00 UTC, the `daily_digest` kind: pending approvals
and yesterday's runs by e-mail to the administrators), which the tenant can pause, move or
delete like any schedule. Creating it again finds it there, so a retried activity changes
nothing.

The welcome runs on the `io` queue. It is idempotent: each message is an outbox event whose id
is derived from the workflow and the recipient (workflows/mail.py), so an activity retried
after a crash finds its message already written and sends nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client

from bizosaas.identity.events import TENANT_CREATED
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event
from bizosaas.kit.module import WorkflowTrigger
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.settings import Settings
from bizosaas.workflows.exceptions import WorkflowsUnavailable
from bizosaas.workflows.mail import mail_tenant_admins
from bizosaas.workflows.queues import Workload, sibling_queue
from bizosaas.workflows.schedules import ensure_schedule
from bizosaas.workflows.schemas import ScheduleCreate, ScheduleKind

DEFAULT_SCHEDULES = (ScheduleCreate(name="daily-digest", kind=ScheduleKind.daily_digest, hour=7),)
"""The schedules every new tenant starts with."""


class TenantOnboardingInput(BaseModel):
    tenant_id: uuid.UUID
    name: str


class Defaults(BaseModel):
    schedules: list[str]
    """The default schedules created by this run (none when they existed already)."""


class Welcomed(BaseModel):
    recipients: list[str]
    schedules: list[str] = []


class OnboardingActivities:
    def __init__(self, database: Database, client: Client | None, settings: Settings) -> None:
        self._database = database
        self._client = client
        self._settings = settings

    @activity.defn(name="workflows.onboarding.defaults")
    async def defaults(self, request: TenantOnboardingInput) -> Defaults:
        if self._client is None:
            raise WorkflowsUnavailable("the worker has no Temporal client")
        scope = trusted_scope(request.tenant_id)
        created = [
            schedule.name
            for schedule in DEFAULT_SCHEDULES
            if await ensure_schedule(self._client, self._settings, scope=scope, body=schedule)
        ]
        return Defaults(schedules=created)

    @activity.defn(name="workflows.onboarding.welcome")
    async def welcome(self, request: TenantOnboardingInput) -> Welcomed:
        scope = trusted_scope(request.tenant_id)
        async with self._database.unit_of_work(scope) as session:
            sent = await mail_tenant_admins(
                session,
                scope=scope,
                origin=activity.info().workflow_id or activity.info().activity_id,
                subject=f"Welcome to BizOSaaS, {request.name}",
                body=lambda member: (
                    f"Hello {member.full_name},\n\nyour workspace {request.name} is "
                    "ready. Sign in to invite your team and set it up.\n\nEvery morning at "
                    "07:00 UTC you will receive a digest of the approvals waiting for your team "
                    "and yesterday's workflow runs; pause it under Automation > Schedules.\n"
                ),
            )
        return Welcomed(recipients=sent)


@workflow.defn(name="workflows.TenantOnboarding")
class TenantOnboarding:
    @workflow.run
    async def run(self, request: TenantOnboardingInput) -> Welcomed:
        defaults = await workflow.execute_activity_method(
            OnboardingActivities.defaults,
            request,
            task_queue=sibling_queue(Workload.default),
            start_to_close_timeout=timedelta(seconds=30),
        )
        welcomed = await workflow.execute_activity_method(
            OnboardingActivities.welcome,
            request,
            task_queue=sibling_queue(Workload.io),
            start_to_close_timeout=timedelta(seconds=60),
        )
        welcomed.schedules = defaults.schedules
        return welcomed


def _onboarding_input(event: Event) -> TenantOnboardingInput:
    created = TENANT_CREATED.parse(event)
    assert event.tenant_id is not None  # the starter skips events without a tenant
    return TenantOnboardingInput(tenant_id=event.tenant_id, name=created.name)


ONBOARDING_TRIGGERS: Sequence[WorkflowTrigger] = (
    WorkflowTrigger(
        event=TENANT_CREATED.name,
        workflow="workflows.TenantOnboarding",
        kind="onboarding",
        key=lambda event: str(event.tenant_id),
        input=_onboarding_input,
    ),
)
