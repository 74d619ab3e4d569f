"""The approvals inbox: the tenant's requests (assigned to me, to a role I hold, or all), each
with its preview in full and its decisions; approve or reject with a comment. A decision goes
to the request's workflow as an Update, exactly as through the API."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response
from temporalio.client import Client

from bizosaas.kit.errors import Problem
from bizosaas.kit.module import WebApp
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.forms import Form, local_path
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import WebRoute, flash, read_form, redirect
from bizosaas.workflows import service
from bizosaas.workflows.api import RUN_READ
from bizosaas.workflows.router import DECIDE, READ, temporal_client
from bizosaas.workflows.schemas import ApprovalFilter, ApprovalStatus, Verdict

router = APIRouter(prefix="/app", route_class=WebRoute)
ApprovalReader = Annotated[Viewer, Depends(require_permission(READ))]
ApprovalDecider = Annotated[Viewer, Depends(require_permission(DECIDE))]
TemporalClient = Annotated[Client | None, Depends(temporal_client)]

FILTERS = (
    (ApprovalFilter.mine, "Assigned to me"),
    (ApprovalFilter.my_role, "For my role"),
    (ApprovalFilter.all, "All"),
)
SHOWN = (("open", "Waiting"), ("closed", "Decided and closed"))


@router.get("/approvals")
async def inbox(
    request: Request,
    viewer: ApprovalReader,
    session: WorkspaceSession,
    which: Annotated[ApprovalFilter, Query(alias="filter")] = ApprovalFilter.all,
    shown: Annotated[str, Query(alias="show", pattern="^(open|closed)$")] = "open",
) -> Response:
    statuses = (
        [ApprovalStatus.pending]
        if shown == "open"
        else [status for status in ApprovalStatus if status is not ApprovalStatus.pending]
    )
    rows = await service.list_approvals(
        session,
        scope=workspace_scope(viewer),
        principal=viewer.principal,
        which=which,
        statuses=statuses,
    )
    context = {
        "title": "Approvals",
        "lead": "Requests from workflows and agents that wait for a person's decision.",
        "approvals": rows,
        "filters": FILTERS,
        "which": which,
        "shown_options": SHOWN,
        "shown": shown,
        "can_decide": viewer.can(DECIDE),
        "can_see_runs": viewer.can(RUN_READ),
        "live": "workflows.approval_*",
    }
    return page(request, WebApp.workspace, viewer, "workflows/approvals.html", context)


@router.post("/approvals/{approval_id}/decision")
async def decide(
    request: Request,
    approval_id: uuid.UUID,
    viewer: ApprovalDecider,
    session: WorkspaceSession,
    client: TemporalClient,
) -> Response:
    form = Form(await read_form(request))
    verdict = form.choice("verdict", {v.value: v.value for v in Verdict}, "Approve or reject.")
    form.max_length("comment", 2000)
    comment = form.get("comment")
    back = local_path(form.get("back"), "/app/approvals")
    if not form.ok:
        flash(request, " ".join(form.errors.values()), "error")
        return redirect(request, back)
    try:
        approval = await service.get_approval(
            session, scope=workspace_scope(viewer), approval_id=approval_id
        )
        await session.rollback()  # no transaction open while the workflow writes the row
        outcome = await service.decide(
            client=client,
            approval=approval,
            principal=viewer.principal,
            verdict=Verdict(verdict),
            comment=comment,
        )
    except Problem as problem:
        flash(request, problem.detail, "error")
    else:
        done = "approved" if verdict == Verdict.approve else "rejected"
        state = "" if outcome.status is ApprovalStatus.pending else f" It is now {outcome.status}."
        flash(request, f"You {done} “{approval.title}”.{state}")
    return redirect(request, back)
