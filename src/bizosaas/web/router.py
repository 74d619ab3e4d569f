"""The shell's own routes: static files, the start page and the admin console's Services page.
Every other page belongs to the module that owns it (`DomainModule.web`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from bizosaas.web.admin import services
from bizosaas.web.runtime import STATIC_DIR
from bizosaas.web.session import MaybeViewer
from bizosaas.web.shell import WebRoute, redirect

STATIC_MAX_AGE = 3600
_static = StaticFiles(directory=STATIC_DIR)

router = APIRouter(include_in_schema=False, route_class=WebRoute)


@router.get("/static/{path:path}")
async def static(path: str, request: Request) -> Response:
    response = await _static.get_response(path, request.scope)
    if response.status_code == 200:
        response.headers["cache-control"] = f"public, max-age={STATIC_MAX_AGE}"
        response.headers["x-content-type-options"] = "nosniff"
    return response


@router.get("/")
async def start(request: Request, viewer: MaybeViewer) -> Response:
    """Where a bare visit lands: the workspace, the admin console, or the sign-in page."""
    if viewer is None:
        return redirect(request, "/login", status=302)
    if viewer.tenant_id is None and viewer.is_super_admin:
        return redirect(request, "/admin", status=302)
    return redirect(request, "/app", status=302)


router.include_router(services.router)
