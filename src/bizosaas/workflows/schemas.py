"""Approvals' public shapes: what a workflow asks for (`ApprovalSpec`), what a decider sends,
and what the API and the workflow return. Workflow and activity inputs are these Pydantic
models too (the Temporal client's data converter carries them)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bizosaas.kit.text import PlainText


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"
    cancelled = "cancelled"


class Verdict(StrEnum):
    approve = "approve"
    reject = "reject"


class ExpiryAction(StrEnum):
    reject = "reject"
    """The request closes as `expired`: the asking workflow goes on as if it were rejected."""
    escalate = "escalate"
    """The request passes to `escalate_to_role` for another SLA; expiring again rejects."""


class Subject(BaseModel):
    kind: str = Field(max_length=60, description="What is to be approved, e.g. `cms.page`.")
    id: str = Field(max_length=120, description="The subject's id in its domain.")
    title: str = Field(max_length=200, description="What people see in the inbox.")


class Requester(BaseModel):
    kind: Literal["user", "agent_run", "system"]
    id: str = Field(max_length=64)


class ApprovalSpec(BaseModel):
    """What a workflow asks a person to approve (`require_approval`)."""

    subject: Subject
    preview: dict[str, Any] = Field(
        default_factory=dict, description="The proposed action, structured, shown in full."
    )
    requested_by: Requester
    assignee_role: str | None = None
    assignee_user_id: uuid.UUID | None = None
    min_approvers: int = Field(default=1, ge=1, le=20)
    sla: timedelta = Field(gt=timedelta(0))
    on_expiry: ExpiryAction = ExpiryAction.reject
    escalate_to_role: str | None = None
    escalation_sla: timedelta | None = None
    """How long the escalated request waits (default: `sla` again)."""

    @model_validator(mode="after")
    def _check(self) -> ApprovalSpec:
        if (self.assignee_role is None) == (self.assignee_user_id is None):
            raise ValueError("name exactly one assignee: a role or a user")
        if self.on_expiry is ExpiryAction.escalate and not self.escalate_to_role:
            raise ValueError("escalating on expiry needs escalate_to_role")
        return self


class ApprovalRequestInput(BaseModel):
    """The approval workflow's input, written by the workflow that asks (never by a client)."""

    tenant_id: uuid.UUID
    approval_id: uuid.UUID
    spec: ApprovalSpec


class DecisionInput(BaseModel):
    """A person's decision as the API sends it to the workflow (an Update): who decides comes
    from the verified principal, never from the request body."""

    user_id: uuid.UUID
    roles: list[str]
    verdict: Verdict
    comment: str = Field(default="", max_length=2000)


class DecisionBody(BaseModel):
    """`POST /api/brain/approvals/{id}/decision`."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    comment: PlainText = Field(default="", max_length=2000)


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    verdict: Verdict
    comment: str
    decided_at: datetime


class ApprovalOutcome(BaseModel):
    """What `require_approval` returns once the request is closed."""

    approval_id: uuid.UUID
    status: ApprovalStatus
    decisions: list[DecisionRead] = Field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.status is ApprovalStatus.approved


class ApprovalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workflow_id: str
    subject_kind: str
    subject_id: str
    title: str
    preview: dict[str, Any]
    requested_by_kind: str
    requested_by_id: str
    assignee_role: str | None
    assignee_user_id: uuid.UUID | None
    min_approvers: int
    deadline: datetime
    on_expiry: ExpiryAction
    escalate_to_role: str | None
    escalated: bool
    status: ApprovalStatus
    created_at: datetime
    closed_at: datetime | None
    decisions: list[DecisionRead] = Field(default_factory=list)


class ApprovalFilter(StrEnum):
    mine = "mine"
    """Assigned to me by name."""
    my_role = "my_role"
    """Assigned to a role I hold."""
    all = "all"


DECIDE_UPDATE = "workflows.approval.decide"
"""The name of the approval workflow's Update that takes a decision (a stored contract)."""


class OpenRequest(BaseModel):
    tenant_id: uuid.UUID
    approval_id: uuid.UUID
    workflow_id: str
    spec: ApprovalSpec
    deadline: datetime


class RecordDecision(BaseModel):
    tenant_id: uuid.UUID
    approval_id: uuid.UUID
    user_id: uuid.UUID
    verdict: Verdict
    comment: str
    decided_at: datetime
    status: ApprovalStatus
    """The request's status once this decision counts (pending while more are needed)."""


class RecordEscalation(BaseModel):
    tenant_id: uuid.UUID
    approval_id: uuid.UUID
    assignee_role: str
    deadline: datetime


class CloseRequest(BaseModel):
    tenant_id: uuid.UUID
    approval_id: uuid.UUID
    status: ApprovalStatus
    closed_at: datetime


# -- runs (Temporal visibility and history) ----------------------------------------------------


class RunStatus(StrEnum):
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    terminated = "terminated"
    continued_as_new = "continued_as_new"
    timed_out = "timed_out"


class RunRead(BaseModel):
    """One run of a workflow in the caller's tenant. `key` is the workflow id without its
    tenant (`<kind>:<key>`): the API's runs paths take it, and the tenant comes from the token."""

    key: str
    run_id: str
    kind: str
    workflow_type: str
    status: RunStatus
    started_by: str | None = Field(
        default=None,
        description="`event:<name>`, `schedule:<name>`, `user:<id>`, `workflow:<key>`.",
    )
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    task_queue: str


StepStatus = Literal["scheduled", "running", "completed", "failed", "timed_out", "cancelled"]


class RunStep(BaseModel):
    """An activity, child workflow or timer of a run, from its history."""

    kind: Literal["activity", "child_workflow", "timer"]
    name: str
    status: StepStatus
    attempt: int = 1
    scheduled_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    error: str | None = None


class RunDetail(RunRead):
    steps: list[RunStep] = Field(default_factory=list)
    error: str | None = None
    temporal_ui_url: str | None = Field(
        default=None, description="For platform administrators in embedded mode only."
    )


# -- schedules --------------------------------------------------------------------------------


class ScheduleKind(StrEnum):
    daily_digest = "daily_digest"
    """An e-mail to the tenant's administrators: pending approvals and yesterday's runs."""


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="Unique in the tenant: `morning-digest`."
    )
    kind: ScheduleKind = ScheduleKind.daily_digest
    hour: int = Field(default=7, ge=0, le=23, description="UTC hour of each run.")
    minute: int = Field(default=0, ge=0, le=59)
    paused: bool = False


class ScheduleRead(BaseModel):
    name: str
    kind: ScheduleKind
    hour: int
    minute: int
    paused: bool
    note: str = ""
    next_runs: list[datetime] = Field(default_factory=list)
    recent_runs: list[datetime] = Field(default_factory=list)


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: PlainText = Field(default="", max_length=200)
