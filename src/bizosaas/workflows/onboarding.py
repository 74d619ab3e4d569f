"""Tenant onboarding: started by `identity.tenant_created` (one run per tenant, id
`<tenant>:onboarding:<tenant>`), it welcomes the tenant's administrators by e-mail through the
outbox mailer.

The welcome runs on the `io` queue. It is idempotent: each message is an outbox event whose id
is derived from the workflow and the recipient, so an activity retried after a crash finds its
message already written and sends nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

from bizosaas.identity import service as identity
from bizosaas.identity.events import MAIL_REQUESTED, TENANT_CREATED, MailRequested
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event
from bizosaas.kit.module import WorkflowTrigger
from bizosaas.kit.outbox import OutboxEvent, record_event
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows.queues import Workload, sibling_queue

_MESSAGE_IDS = uuid.UUID("5b0d7c4e-6f1a-4c55-9a52-0b8e0f6c1d11")
"""Namespace of the welcome messages' deterministic ids."""


class TenantOnboardingInput(BaseModel):
    tenant_id: uuid.UUID
    name: str


class Welcomed(BaseModel):
    recipients: list[str]


class OnboardingActivities:
    def __init__(self, database: Database) -> None:
        self._database = database

    @activity.defn(name="workflows.onboarding.welcome")
    async def welcome(self, request: TenantOnboardingInput) -> Welcomed:
        scope = trusted_scope(request.tenant_id)
        origin = activity.info().workflow_id
        sent = []
        async with self._database.unit_of_work(scope) as session:
            members = await identity.list_members(session, scope=scope)
            for member in members:
                if member.role != Role.tenant_admin:
                    continue
                message_id = uuid.uuid5(_MESSAGE_IDS, f"{origin}:{member.user_id}")
                sent.append(member.email)
                if await session.get(OutboxEvent, message_id) is not None:
                    continue  # written by an earlier attempt
                row = record_event(
                    session,
                    MAIL_REQUESTED,
                    MailRequested(
                        to=member.email,
                        subject=f"Welcome to BizOSaaS, {request.name}",
                        body=(
                            f"Hello {member.full_name},\n\nyour workspace {request.name} is "
                            "ready. Sign in to invite your team and set it up.\n"
                        ),
                    ),
                )
                row.id = message_id
        return Welcomed(recipients=sent)


@workflow.defn(name="workflows.TenantOnboarding")
class TenantOnboarding:
    @workflow.run
    async def run(self, request: TenantOnboardingInput) -> Welcomed:
        return await workflow.execute_activity_method(
            OnboardingActivities.welcome,
            request,
            task_queue=sibling_queue(Workload.io),
            start_to_close_timeout=timedelta(seconds=60),
        )


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
