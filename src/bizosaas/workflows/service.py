"""Workflows' use cases: approval requests.

The approval workflow (approvals/workflow.py) is the one source of truth for a request; the
`workflow_approvals` rows are its projection, written only by that workflow's activities
(`open_request`, `record_decision`, `record_escalation`, `close_request` below), each after the
workflow has accepted the change and before the workflow acts on it. The API reads the rows and
decides only through the workflow's Update (`decide`), never by writing a row. Functions take
the session first and keyword-only arguments, flush but never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from bizosaas.identity import service as identity
from bizosaas.identity.events import AuditAction
from bizosaas.kit.auth import Principal
from bizosaas.kit.module import EventType
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import TenantScope, trusted_scope
from bizosaas.workflows import repository
from bizosaas.workflows.events import (
    APPROVAL_CLOSED,
    APPROVAL_DECIDED,
    APPROVAL_ESCALATED,
    APPROVAL_REQUESTED,
    ApprovalChanged,
)
from bizosaas.workflows.exceptions import (
    DECISION_REFUSALS,
    ApprovalClosed,
    ApprovalNotFound,
    WorkflowsUnavailable,
)
from bizosaas.workflows.models import ApprovalDecision, ApprovalRequest
from bizosaas.workflows.schemas import (
    DECIDE_UPDATE,
    ApprovalFilter,
    ApprovalOutcome,
    ApprovalRead,
    ApprovalStatus,
    CloseRequest,
    DecisionInput,
    DecisionRead,
    OpenRequest,
    RecordDecision,
    RecordEscalation,
    Verdict,
)

_AUDIT_OF_STATUS = {
    ApprovalStatus.expired: AuditAction.approval_expired,
    ApprovalStatus.cancelled: AuditAction.approval_cancelled,
}


def approval_workflow_id(tenant_id: uuid.UUID, approval_id: uuid.UUID) -> str:
    return f"{tenant_id}:approval:{approval_id}"


# -- reading (the API) -----------------------------------------------------------------------


async def list_approvals(
    session: AsyncSession,
    *,
    scope: TenantScope,
    principal: Principal,
    which: ApprovalFilter = ApprovalFilter.all,
    statuses: Collection[ApprovalStatus] = (),
) -> list[ApprovalRead]:
    rows = await repository.list_approvals(
        session,
        scope=scope,
        assignee_user_id=principal.subject if which is ApprovalFilter.mine else None,
        assignee_roles=principal.roles if which is ApprovalFilter.my_role else None,
        statuses=[status.value for status in statuses],
    )
    decisions = await repository.decisions_of(
        session, scope=scope, approval_ids=[row.id for row in rows]
    )
    return [_read(row, decisions.get(row.id, [])) for row in rows]


async def get_approval(
    session: AsyncSession, *, scope: TenantScope, approval_id: uuid.UUID
) -> ApprovalRead:
    row = await repository.get_approval(session, scope=scope, approval_id=approval_id)
    if row is None:
        raise ApprovalNotFound(f"no approval request {approval_id}")
    decisions = await repository.decisions_of(session, scope=scope, approval_ids=[row.id])
    return _read(row, decisions.get(row.id, []))


def _read(row: ApprovalRequest, decisions: list[ApprovalDecision]) -> ApprovalRead:
    read = ApprovalRead.model_validate(row)
    read.decisions = [DecisionRead.model_validate(decision) for decision in decisions]
    return read


# -- deciding (the API, through the workflow's Update) ----------------------------------------


async def decide(
    *,
    client: Client | None,
    approval: ApprovalRead,
    principal: Principal,
    verdict: Verdict,
    comment: str = "",
) -> ApprovalOutcome:
    """Send `principal`'s decision on `approval` (read in the caller's tenant scope) to the
    request's workflow and wait until it is recorded. The workflow refuses (and nothing
    changes) a second decision by the same person, one on a closed request, and one by someone
    the request is not assigned to. Call it with no transaction open: the workflow's activity
    writes the row meanwhile (SQLite has one writer)."""
    if client is None:
        raise WorkflowsUnavailable("this process has no connection to Temporal")
    decision = DecisionInput(
        user_id=principal.subject,
        roles=sorted(principal.roles),
        verdict=verdict,
        comment=comment,
    )
    handle = client.get_workflow_handle(approval.workflow_id)
    try:
        outcome: ApprovalOutcome = await handle.execute_update(
            DECIDE_UPDATE, decision, result_type=ApprovalOutcome
        )
        return outcome
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type in DECISION_REFUSALS:
            raise DECISION_REFUSALS[cause.type](cause.message) from None
        raise
    except RPCError as error:  # the workflow has ended: the request is closed
        raise ApprovalClosed(f"approval request {approval.id} is closed") from error


# -- the projection, written by the approval workflow's activities ----------------------------


async def open_request(session: AsyncSession, request: OpenRequest) -> None:
    """Insert the request's row (once: a retried activity finds it there)."""
    scope = trusted_scope(request.tenant_id)
    if await repository.get_approval(session, scope=scope, approval_id=request.approval_id):
        return
    spec = request.spec
    row = ApprovalRequest(
        id=request.approval_id,
        workflow_id=request.workflow_id,
        subject_kind=spec.subject.kind,
        subject_id=spec.subject.id,
        title=spec.subject.title,
        preview=spec.preview,
        requested_by_kind=spec.requested_by.kind,
        requested_by_id=spec.requested_by.id,
        assignee_role=spec.assignee_role,
        assignee_user_id=spec.assignee_user_id,
        min_approvers=spec.min_approvers,
        deadline=request.deadline,
        on_expiry=spec.on_expiry.value,
        escalate_to_role=spec.escalate_to_role,
        status=ApprovalStatus.pending.value,
    )
    await repository.add(session, scope=scope, row=row)
    _announce(session, APPROVAL_REQUESTED, row)


async def record_decision(session: AsyncSession, request: RecordDecision) -> None:
    """Insert the decision, move the request to its new status and write the audit entry, all
    in one transaction (once: a retried activity finds the decision there)."""
    scope = trusted_scope(request.tenant_id)
    row = await _row(session, scope, request.approval_id)
    found = await repository.find_decision(
        session, scope=scope, approval_id=row.id, user_id=request.user_id
    )
    if found is not None:
        return
    decision = ApprovalDecision(
        approval_id=row.id,
        user_id=request.user_id,
        verdict=request.verdict.value,
        comment=request.comment,
        decided_at=request.decided_at,
    )
    await repository.add(session, scope=scope, row=decision)
    row.status = request.status.value
    if request.status is not ApprovalStatus.pending:
        row.closed_at = request.decided_at
    action = (
        AuditAction.approval_approved
        if request.verdict is Verdict.approve
        else AuditAction.approval_rejected
    )
    await _audit(session, row, action, actor_id=request.user_id, comment=request.comment)
    _announce(session, APPROVAL_DECIDED, row, decided_by=request.user_id)


async def record_escalation(session: AsyncSession, request: RecordEscalation) -> None:
    row = await _row(session, trusted_scope(request.tenant_id), request.approval_id)
    if row.escalated:
        return
    row.escalated = True
    row.assignee_role, row.assignee_user_id = request.assignee_role, None
    row.deadline = request.deadline
    await _audit(session, row, AuditAction.approval_escalated)
    _announce(session, APPROVAL_ESCALATED, row)


async def close_request(session: AsyncSession, request: CloseRequest) -> None:
    row = await _row(session, trusted_scope(request.tenant_id), request.approval_id)
    if row.status != ApprovalStatus.pending.value:
        return
    row.status, row.closed_at = request.status.value, request.closed_at
    await _audit(session, row, _AUDIT_OF_STATUS[request.status])
    _announce(session, APPROVAL_CLOSED, row)


async def _row(
    session: AsyncSession, scope: TenantScope, approval_id: uuid.UUID
) -> ApprovalRequest:
    row = await repository.get_approval(session, scope=scope, approval_id=approval_id)
    if row is None:  # the workflow opens its row first: this is a bug, retried until fixed
        raise LookupError(f"approval request {approval_id} has no row")
    return row


async def _audit(
    session: AsyncSession,
    row: ApprovalRequest,
    action: AuditAction,
    *,
    actor_id: uuid.UUID | None = None,
    comment: str | None = None,
) -> None:
    details: dict[str, object] = {
        "subject": f"{row.subject_kind}:{row.subject_id}",
        "title": row.title,
        "status": row.status,
    }
    if comment:
        details["comment"] = comment
    await identity.record_audit(
        session,
        tenant_id=row.tenant_id,
        action=action,
        actor_id=actor_id,
        target=f"approval:{row.id}",
        details=details,
    )


def _announce(
    session: AsyncSession,
    event: EventType[ApprovalChanged],
    row: ApprovalRequest,
    *,
    decided_by: uuid.UUID | None = None,
) -> None:
    record_event(
        session,
        event,
        ApprovalChanged(
            approval_id=row.id,
            status=row.status,
            title=row.title,
            assignee_role=row.assignee_role,
            assignee_user_id=row.assignee_user_id,
            decided_by=decided_by,
        ),
        tenant_id=row.tenant_id,
    )
