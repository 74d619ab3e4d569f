"""The approval workflow: one per request, the single source of truth for its state.

A workflow that needs a person's go-ahead awaits `require_approval(...)`, which runs this
workflow as a child (id `<tenant>:approval:<approval id>`) and returns its outcome once the
request closes, however long that takes: the wait is durable (a Temporal timer and Update, no
polling, no process holding it).

Deciding is the `workflows.approval.decide` Update. Its validator refuses, before anything is
written to history, a second decision by the same person, a decision on a closed request and
one by someone the request is not assigned to; the handler checks again (two Updates can pass
their validators together), then records the decision through an activity and only then counts
it. Changes run one at a time under a lock, so the row the activities write always follows the
workflow's state in the same order.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from bizosaas.workflows.approvals.activities import ApprovalActivities
from bizosaas.workflows.exceptions import AlreadyDecided, ApprovalClosed, NotAnApprover
from bizosaas.workflows.queues import Workload, sibling_queue
from bizosaas.workflows.runs import STARTED_BY, split_workflow_id
from bizosaas.workflows.schemas import (
    DECIDE_UPDATE,
    ApprovalOutcome,
    ApprovalRequestInput,
    ApprovalSpec,
    ApprovalStatus,
    CloseRequest,
    DecisionInput,
    DecisionRead,
    ExpiryAction,
    OpenRequest,
    RecordDecision,
    RecordEscalation,
    Verdict,
)
from bizosaas.workflows.service import approval_workflow_id

_ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Writing the projection is retried until it succeeds (a database that is down comes back);
# the backoff stays short so a decision is visible soon after it is taken.
_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


def _refuse(problem: type[AlreadyDecided | ApprovalClosed | NotAnApprover], detail: str) -> None:
    raise ApplicationError(detail, type=problem.code, non_retryable=True)


@workflow.defn(name="workflows.Approval")
class ApprovalWorkflow:
    @workflow.init
    def __init__(self, request: ApprovalRequestInput) -> None:
        self._request = request
        self._status = ApprovalStatus.pending
        self._decisions: list[DecisionRead] = []
        self._deciding: set[uuid.UUID] = set()
        self._assignee_role = request.spec.assignee_role
        self._assignee_user_id = request.spec.assignee_user_id
        self._escalated = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, request: ApprovalRequestInput) -> ApprovalOutcome:
        spec = request.spec
        deadline = workflow.now() + spec.sla
        await self._activity(
            ApprovalActivities.open_request,
            OpenRequest(
                tenant_id=request.tenant_id,
                approval_id=request.approval_id,
                workflow_id=workflow.info().workflow_id,
                spec=spec,
                deadline=deadline,
            ),
        )
        try:
            await self._await_closing(spec, deadline)
        except asyncio.CancelledError:
            # The asking workflow gave up: close the request so nobody decides in vain.
            await self._close(ApprovalStatus.cancelled)
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome()

    async def _await_closing(self, spec: ApprovalSpec, deadline: datetime) -> None:
        while True:
            try:
                await workflow.wait_condition(
                    lambda: self._status is not ApprovalStatus.pending,
                    timeout=max(deadline - workflow.now(), timedelta(0)),
                    timeout_summary="approval deadline",
                )
                return
            except TimeoutError:
                async with self._lock:
                    if self._status is not ApprovalStatus.pending:
                        return
                    if spec.on_expiry is ExpiryAction.escalate and not self._escalated:
                        deadline = await self._escalate(spec)
                        continue
                    await self._close(ApprovalStatus.expired)
                    return

    async def _escalate(self, spec: ApprovalSpec) -> datetime:
        assert spec.escalate_to_role is not None  # the spec's validator requires it
        self._escalated = True
        self._assignee_role, self._assignee_user_id = spec.escalate_to_role, None
        deadline = workflow.now() + (spec.escalation_sla or spec.sla)
        await self._activity(
            ApprovalActivities.record_escalation,
            RecordEscalation(
                tenant_id=self._request.tenant_id,
                approval_id=self._request.approval_id,
                assignee_role=spec.escalate_to_role,
                deadline=deadline,
            ),
        )
        return deadline

    async def _close(self, status: ApprovalStatus) -> None:
        await self._activity(
            ApprovalActivities.close_request,
            CloseRequest(
                tenant_id=self._request.tenant_id,
                approval_id=self._request.approval_id,
                status=status,
                closed_at=workflow.now(),
            ),
        )
        self._status = status

    @workflow.update(name=DECIDE_UPDATE)
    async def decide(self, decision: DecisionInput) -> ApprovalOutcome:
        self._check(decision)
        self._deciding.add(decision.user_id)
        try:
            async with self._lock:
                if self._status is not ApprovalStatus.pending:  # closed while this one waited
                    _refuse(ApprovalClosed, "the request closed before this decision")
                await self._count(decision)
        finally:
            self._deciding.discard(decision.user_id)
        return self._outcome()

    @decide.validator
    def validate_decision(self, decision: DecisionInput) -> None:
        self._check(decision)

    def _check(self, decision: DecisionInput) -> None:
        if self._status is not ApprovalStatus.pending:
            _refuse(ApprovalClosed, f"the request is {self._status.value}")
        decided = {entry.user_id for entry in self._decisions} | self._deciding
        if decision.user_id in decided:
            _refuse(AlreadyDecided, "you have already decided on this request")
        if self._assignee_user_id is not None:
            if decision.user_id != self._assignee_user_id:
                _refuse(NotAnApprover, "the request is assigned to another person")
        elif self._assignee_role not in decision.roles:
            _refuse(NotAnApprover, f"the request is for the role {self._assignee_role}")

    async def _count(self, decision: DecisionInput) -> None:
        decided_at = workflow.now()
        entry = DecisionRead(
            user_id=decision.user_id,
            verdict=decision.verdict,
            comment=decision.comment,
            decided_at=decided_at,
        )
        status = self._status_with([*self._decisions, entry])
        await self._activity(
            ApprovalActivities.record_decision,
            RecordDecision(
                tenant_id=self._request.tenant_id,
                approval_id=self._request.approval_id,
                user_id=decision.user_id,
                verdict=decision.verdict,
                comment=decision.comment,
                decided_at=decided_at,
                status=status,
            ),
        )
        self._decisions.append(entry)
        self._status = status

    def _status_with(self, decisions: list[DecisionRead]) -> ApprovalStatus:
        if any(entry.verdict is Verdict.reject for entry in decisions):
            return ApprovalStatus.rejected
        approvals = sum(entry.verdict is Verdict.approve for entry in decisions)
        if approvals >= self._request.spec.min_approvers:
            return ApprovalStatus.approved
        return ApprovalStatus.pending

    @workflow.query(name="workflows.approval.state")
    def state(self) -> ApprovalOutcome:
        return self._outcome()

    def _outcome(self) -> ApprovalOutcome:
        return ApprovalOutcome(
            approval_id=self._request.approval_id,
            status=self._status,
            decisions=list(self._decisions),
        )

    async def _activity(self, method: object, argument: object) -> None:
        await workflow.execute_activity_method(
            method,  # type: ignore[arg-type]
            argument,
            task_queue=sibling_queue(Workload.default),
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
        )


async def require_approval(
    *, tenant_id: uuid.UUID, spec: ApprovalSpec, approval_id: uuid.UUID | None = None
) -> ApprovalOutcome:
    """From inside a workflow: ask for an approval and wait, durably, until it closes.

    `tenant_id` comes from the calling workflow's own input (written by the platform). The
    outcome's `approved` says whether to go on; an expired or rejected request is not approved.
    """
    approval_id = approval_id or workflow.uuid4()
    return await workflow.execute_child_workflow(
        ApprovalWorkflow.run,
        ApprovalRequestInput(tenant_id=tenant_id, approval_id=approval_id, spec=spec),
        id=approval_workflow_id(tenant_id, approval_id),
        task_queue=sibling_queue(Workload.default),
        memo={STARTED_BY: f"workflow:{_run_key(workflow.info().workflow_id)}"},
    )


def _run_key(workflow_id: str) -> str:
    key = split_workflow_id(workflow_id)
    return key.run_key if key is not None else workflow_id
