"""The approval workflow's activities: each writes the request's projection in one unit of work
bound to the tenant named by the workflow's input (which the platform wrote), so the ORM
filter and row-level security hold as in a request. Each is idempotent: Temporal may run an
activity again after a crash."""

from __future__ import annotations

from temporalio import activity

from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows import service
from bizosaas.workflows.schemas import CloseRequest, OpenRequest, RecordDecision, RecordEscalation


class ApprovalActivities:
    def __init__(self, database: Database) -> None:
        self._database = database

    @activity.defn(name="workflows.approval.open")
    async def open_request(self, request: OpenRequest) -> None:
        async with self._database.unit_of_work(trusted_scope(request.tenant_id)) as session:
            await service.open_request(session, request)

    @activity.defn(name="workflows.approval.record_decision")
    async def record_decision(self, request: RecordDecision) -> None:
        async with self._database.unit_of_work(trusted_scope(request.tenant_id)) as session:
            await service.record_decision(session, request)

    @activity.defn(name="workflows.approval.escalate")
    async def record_escalation(self, request: RecordEscalation) -> None:
        async with self._database.unit_of_work(trusted_scope(request.tenant_id)) as session:
            await service.record_escalation(session, request)

    @activity.defn(name="workflows.approval.close")
    async def close_request(self, request: CloseRequest) -> None:
        async with self._database.unit_of_work(trusted_scope(request.tenant_id)) as session:
            await service.close_request(session, request)
