"""Human approvals: the approval workflow, its activities, and `require_approval`, the helper any
workflow awaits to put a person in the loop."""

from bizosaas.workflows.approvals.activities import ApprovalActivities
from bizosaas.workflows.approvals.workflow import ApprovalWorkflow, require_approval

__all__ = ["ApprovalActivities", "ApprovalWorkflow", "require_approval"]
