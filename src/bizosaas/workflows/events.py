"""Workflows' events: every change of an approval request, written to the outbox by the approval
workflow's activities, so the web apps hear of them through `GET /api/brain/ws`."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from bizosaas.kit.module import EventType


class ApprovalChanged(BaseModel):
    approval_id: uuid.UUID
    status: str = Field(description="pending, approved, rejected, expired or cancelled.")
    title: str
    assignee_role: str | None = None
    assignee_user_id: uuid.UUID | None = None
    decided_by: uuid.UUID | None = Field(default=None, description="Who just decided, if anyone.")


APPROVAL_REQUESTED = EventType(
    "workflows.approval_requested",
    ApprovalChanged,
    description="A workflow asks a person (a role or a user) to approve something.",
)
APPROVAL_DECIDED = EventType(
    "workflows.approval_decided",
    ApprovalChanged,
    description="Someone approved or rejected a request (it may still wait for more approvers).",
)
APPROVAL_ESCALATED = EventType(
    "workflows.approval_escalated",
    ApprovalChanged,
    description="A request passed its deadline and now waits on another role.",
)
APPROVAL_CLOSED = EventType(
    "workflows.approval_closed",
    ApprovalChanged,
    description="A request expired or was cancelled without enough decisions.",
)


class ReviewFinished(BaseModel):
    tenant_id: uuid.UUID
    approval_id: uuid.UUID
    subject_kind: str
    subject_id: str
    status: str = Field(description="How the review closed: approved, rejected, expired ...")
    published: bool = Field(description="Whether the domain's publish step ran.")


REVIEW_FINISHED = EventType(
    "workflows.review_finished",
    ReviewFinished,
    description="A review-and-publish run is over: published after approval, or not.",
)


class RunChanged(BaseModel):
    key: str = Field(description="The run's workflow id without its tenant: `<kind>:<key>`.")
    run_id: str
    kind: str
    workflow_type: str
    status: str = Field(description="running, completed, failed or cancelled.")


RUN_CHANGED = EventType(
    "workflows.run_changed",
    RunChanged,
    description="A workflow run of the tenant started or ended (completed, failed, cancelled).",
)
WORKFLOWS_EVENTS = (
    APPROVAL_REQUESTED,
    APPROVAL_DECIDED,
    APPROVAL_ESCALATED,
    APPROVAL_CLOSED,
    REVIEW_FINISHED,
    RUN_CHANGED,
)
