"""Admin console: the health of Temporal and the platform's task queues with the workers that
poll them (platform administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response
from temporalio.client import Client

from bizosaas.kit.errors import Problem
from bizosaas.kit.module import WebApp
from bizosaas.web.apps import page
from bizosaas.web.session import SuperAdmin
from bizosaas.web.shell import WebRoute, settings_of
from bizosaas.workflows.pollers import describe_queues, temporal_serving
from bizosaas.workflows.router import temporal_client

router = APIRouter(prefix="/admin", route_class=WebRoute)


@router.get("/workflows")
async def workflows(
    request: Request,
    viewer: SuperAdmin,
    client: Annotated[Client | None, Depends(temporal_client)],
) -> Response:
    settings = settings_of(request)
    serving = await temporal_serving(client)
    queues, problem = [], None
    if serving:
        try:
            queues = await describe_queues(client, settings)
        except Problem as error:
            problem = error.detail
    context = {
        "title": "Workflows",
        "lead": "Temporal and the workers that poll the platform's task queues.",
        "connected": client is not None,
        "serving": serving,
        "address": settings.temporal_address,
        "namespace": settings.temporal_namespace,
        "ui_url": settings.temporal_ui_url,
        "queues": queues,
        "problem": problem,
    }
    return page(request, WebApp.admin, viewer, "workflows/admin.html", context)
