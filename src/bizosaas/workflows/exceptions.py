"""Workflows' errors, with stable codes. The approval workflow refuses a decision with an
`ApplicationError` whose `type` is one of these codes; the API turns it back into the problem."""

from __future__ import annotations

from bizosaas.kit.errors import Conflict, NotFound, PermissionDenied, Problem, ServiceUnavailable


class ApprovalNotFound(NotFound):
    code = "approvals.not_found"
    title = "No such approval request in your tenant"


class AlreadyDecided(Conflict):
    code = "approvals.already_decided"
    title = "You have already decided on this request"


class ApprovalClosed(Conflict):
    code = "approvals.closed"
    title = "This request is closed: it takes no more decisions"


class NotAnApprover(PermissionDenied):
    code = "approvals.not_assignee"
    title = "This request is assigned to someone else"


class WorkflowsUnavailable(ServiceUnavailable):
    code = "workflows.unavailable"
    title = "Workflows are not running in this deployment"


DECISION_REFUSALS: dict[str, type[Problem]] = {
    problem.code: problem for problem in (AlreadyDecided, ApprovalClosed, NotAnApprover)
}
"""Refusal code (the workflow's ApplicationError type) -> the problem the API answers."""


class RunNotFound(NotFound):
    code = "workflows.run_not_found"
    title = "No such workflow run in your tenant"


class RunClosed(Conflict):
    code = "workflows.run_closed"
    title = "This run has ended: it cannot be cancelled"


class RunNotRetryable(Conflict):
    code = "workflows.run_not_retryable"
    title = "This run cannot be started again"


class ScheduleNotFound(NotFound):
    code = "workflows.schedule_not_found"
    title = "No such schedule in your tenant"


class ScheduleExists(Conflict):
    code = "workflows.schedule_exists"
    title = "A schedule of that name exists already"
