"""Review and publish, reusable by any domain: a draft goes to review (an approval request),
and only once approved does the domain's own publish activity run; then everyone concerned
hears of it (an outbox event on the tenant's realtime channels).

A domain starts `workflows.ReviewAndPublish` with the name of its publish activity (registered
by its module like any other activity, on the worker's queues). The activity takes a
`PublishRequest` and must be idempotent on `approval_id`: Temporal runs an activity at least
once, so a retried publish must find its earlier result rather than publish twice.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity, workflow
from temporalio.common import RetryPolicy

from bizosaas.kit.db import Database
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows.approvals.workflow import require_approval
from bizosaas.workflows.events import REVIEW_FINISHED, ReviewFinished
from bizosaas.workflows.queues import Workload, sibling_queue
from bizosaas.workflows.schemas import ApprovalOutcome, ApprovalSpec


class PublishRequest(BaseModel):
    """What a domain's publish activity receives."""

    tenant_id: uuid.UUID
    approval_id: uuid.UUID
    """Use it as the idempotency key of the publication."""
    subject_id: str
    payload: dict[str, Any] = Field(default_factory=dict)


class ReviewAndPublishInput(BaseModel):
    tenant_id: uuid.UUID
    review: ApprovalSpec
    publish_activity: str
    """The Temporal name of the domain's publish activity (`cms.publish_page`)."""
    payload: dict[str, Any] = Field(default_factory=dict)
    publish_timeout: timedelta = timedelta(minutes=5)


class ReviewAndPublishResult(BaseModel):
    review: ApprovalOutcome
    published: dict[str, Any] | None = None
    """What the publish activity returned; None when the draft was not approved."""


class PublishingActivities:
    def __init__(self, database: Database) -> None:
        self._database = database

    @activity.defn(name="workflows.publishing.notify")
    async def notify(self, finished: ReviewFinished) -> None:
        async with self._database.unit_of_work(trusted_scope(finished.tenant_id)) as session:
            record_event(session, REVIEW_FINISHED, finished)


@workflow.defn(name="workflows.ReviewAndPublish")
class ReviewAndPublish:
    @workflow.run
    async def run(self, request: ReviewAndPublishInput) -> ReviewAndPublishResult:
        review = await require_approval(tenant_id=request.tenant_id, spec=request.review)
        published: dict[str, Any] | None = None
        if review.approved:
            published = await workflow.execute_activity(
                request.publish_activity,
                PublishRequest(
                    tenant_id=request.tenant_id,
                    approval_id=review.approval_id,
                    subject_id=request.review.subject.id,
                    payload=request.payload,
                ),
                result_type=dict,
                task_queue=sibling_queue(Workload.default),
                start_to_close_timeout=request.publish_timeout,
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            )
        await workflow.execute_activity_method(
            PublishingActivities.notify,
            ReviewFinished(
                tenant_id=request.tenant_id,
                approval_id=review.approval_id,
                subject_kind=request.review.subject.kind,
                subject_id=request.review.subject.id,
                status=review.status.value,
                published=published is not None,
            ),
            task_queue=sibling_queue(Workload.default),
            start_to_close_timeout=timedelta(seconds=30),
        )
        return ReviewAndPublishResult(review=review, published=published)
