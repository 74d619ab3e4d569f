"""What the platform offers, as its modules declare it.

GET /api/brain/platform/toolsets   the agent toolsets of every enabled module (any signed-in
                                   caller): id, title, module, and each tool's description and
                                   parameters as JSON schema
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from bizosaas.kit.auth import CurrentPrincipal
from bizosaas.kit.catalog import ToolsetDescription

router = APIRouter(tags=["platform"])


@router.get(
    "/platform/toolsets",
    summary="The agent toolsets of every enabled module",
    description="Each toolset names the module that provides it and describes its tools the "
    "way an agent sees them: name, what it does, and its parameters as JSON schema. The tools "
    "act within the caller's tenant when an agent runs them.",
    responses={401: {"description": "No or invalid credential"}},
)
async def list_toolsets(request: Request, _caller: CurrentPrincipal) -> list[ToolsetDescription]:
    toolsets: list[ToolsetDescription] = request.app.state.toolsets
    return toolsets
