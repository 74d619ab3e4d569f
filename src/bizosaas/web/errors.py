"""Error pages for browsers: the gateway's problem handlers call `render_html_error` (provided
as `html_error_renderer`) for page requests outside /api/."""

from __future__ import annotations

import contextlib
from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from bizosaas.web.session import LoginRequired, viewer_outside_request
from bizosaas.web.shell import redirect, render_error


async def render_html_error(request: Request, status: int, exc: Exception) -> Response | None:
    if isinstance(exc, LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(request, f"/login?next={quote(target, safe='/')}", status=303)
    if status < 400:
        return None
    if status != 401:
        # Show a signed-in person's top bar; the error page must render even if this fails.
        with contextlib.suppress(Exception):
            await viewer_outside_request(request)
    return render_error(request, 403 if status == 401 else status, exc)
