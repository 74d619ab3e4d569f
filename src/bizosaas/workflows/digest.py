"""The daily digest: an e-mail to a tenant's administrators with the approval requests still
waiting and the workflow runs of the day before (by kind and status), started by a tenant's
`daily_digest` schedule (schedules.py) through the outbox mailer."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, time, timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client

from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows import repository
from bizosaas.workflows.mail import mail_tenant_admins
from bizosaas.workflows.queues import Workload, sibling_queue
from bizosaas.workflows.runs import list_runs
from bizosaas.workflows.schemas import ApprovalStatus

DIGEST_WORKFLOW = "workflows.DailyDigest"


class DigestInput(BaseModel):
    tenant_id: uuid.UUID
    schedule: str


class DigestRequest(BaseModel):
    tenant_id: uuid.UUID
    as_of: datetime
    """When the run was due: "yesterday" is the UTC day before it."""


class DigestSent(BaseModel):
    recipients: list[str]
    pending_approvals: int
    runs_yesterday: int


class DigestActivities:
    def __init__(self, database: Database, client: Client | None) -> None:
        self._database = database
        self._client = client

    @activity.defn(name="workflows.digest.send")
    async def send(self, request: DigestRequest) -> DigestSent:
        scope = trusted_scope(request.tenant_id)
        today = datetime.combine(request.as_of.date(), time(), tzinfo=request.as_of.tzinfo)
        yesterday = today - timedelta(days=1)
        runs = await list_runs(
            self._client, scope=scope, started_after=yesterday, started_before=today
        )
        counts = Counter((run.kind, run.status.value) for run in runs)
        run_lines = [
            f"  {kind}: {count} {status}" for (kind, status), count in sorted(counts.items())
        ]
        async with self._database.unit_of_work(scope) as session:
            pending = await repository.list_approvals(
                session, scope=scope, statuses=[ApprovalStatus.pending.value]
            )
            approval_lines = [
                f"  {row.title} (for {row.assignee_role or 'a named person'}, "
                f"due {row.deadline:%Y-%m-%d %H:%M} UTC)"
                for row in pending
            ]
            sent = await mail_tenant_admins(
                session,
                scope=scope,
                origin=activity.info().workflow_id or activity.info().activity_id,
                subject=f"Your BizOSaaS digest for {yesterday:%Y-%m-%d}",
                body=lambda member: "\n".join(
                    [
                        f"Hello {member.full_name},",
                        "",
                        f"Approval requests waiting: {len(pending)}",
                        *approval_lines,
                        "",
                        f"Workflow runs started on {yesterday:%Y-%m-%d}: {len(runs)}",
                        *run_lines,
                        "",
                    ]
                ),
            )
        return DigestSent(recipients=sent, pending_approvals=len(pending), runs_yesterday=len(runs))


@workflow.defn(name=DIGEST_WORKFLOW)
class DailyDigest:
    @workflow.run
    async def run(self, request: DigestInput) -> DigestSent:
        return await workflow.execute_activity_method(
            DigestActivities.send,
            DigestRequest(tenant_id=request.tenant_id, as_of=workflow.now()),
            task_queue=sibling_queue(Workload.io),
            start_to_close_timeout=timedelta(seconds=60),
        )
