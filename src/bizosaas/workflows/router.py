"""Approvals API under `/api/brain/approvals/`: the tenant's requests (filtered: assigned to me,
to a role I hold, or all), one request with its decisions, and deciding. Reads come from the
request rows; a decision goes to the request's workflow as an Update, never to the row."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from temporalio.client import Client

from bizosaas.kit.auth import Principal, TenantSession, require, scope_of
from bizosaas.kit.module import Services, get_services
from bizosaas.workflows import service
from bizosaas.workflows.schemas import (
    ApprovalFilter,
    ApprovalRead,
    ApprovalStatus,
    DecisionBody,
)

READ = "workflows.approval:read"
DECIDE = "workflows.approval:decide"

Reader = Annotated[Principal, Depends(require(READ))]
Decider = Annotated[Principal, Depends(require(DECIDE))]
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "No such request in your tenant"}}
REFUSED: Responses = {
    403: {"description": "The request is assigned to someone else (approvals.not_assignee)"},
    409: {
        "description": "Already decided by you (approvals.already_decided), or closed "
        "(approvals.closed)"
    },
    503: {"description": "Workflows are not running here (workflows.unavailable)"},
}

router = APIRouter(tags=["approvals"])


def temporal_client(services: Annotated[Services, Depends(get_services)]) -> Client | None:
    client = services.provided.get("temporal")
    return client if isinstance(client, Client) else None


@router.get("", summary="Approval requests of my tenant")
async def list_approvals(
    reader: Reader,
    session: TenantSession,
    which: Annotated[
        ApprovalFilter,
        Query(alias="filter", description="mine, my_role (a role I hold) or all"),
    ] = ApprovalFilter.all,
    status: Annotated[list[ApprovalStatus] | None, Query()] = None,
) -> list[ApprovalRead]:
    return await service.list_approvals(
        session, scope=scope_of(reader), principal=reader, which=which, statuses=status or ()
    )


@router.get("/{approval_id}", summary="One approval request and its decisions", responses=NOT_FOUND)
async def get_approval(
    approval_id: uuid.UUID, reader: Reader, session: TenantSession
) -> ApprovalRead:
    return await service.get_approval(session, scope=scope_of(reader), approval_id=approval_id)


@router.post(
    "/{approval_id}/decision",
    summary="Approve or reject a request assigned to me or my role",
    responses={**NOT_FOUND, **REFUSED},
)
async def decide(
    approval_id: uuid.UUID,
    body: DecisionBody,
    decider: Decider,
    session: TenantSession,
    client: Annotated[Client | None, Depends(temporal_client)],
) -> ApprovalRead:
    scope = scope_of(decider)
    approval = await service.get_approval(session, scope=scope, approval_id=approval_id)
    # Hold no transaction while the workflow records the decision: its activity writes the
    # row meanwhile, and SQLite's write lock (or a pooled connection) would wait on this one.
    await session.rollback()
    await service.decide(
        client=client,
        approval=approval,
        principal=decider,
        verdict=body.verdict,
        comment=body.comment,
    )
    return await service.get_approval(session, scope=scope, approval_id=approval_id)
