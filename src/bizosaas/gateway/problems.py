"""Exception handlers that answer every error, the framework's included, as problem+json.

Browser page requests (outside /api/, accepting text/html) are the exception: when a module
provides an `html_error_renderer` (the web shell does), their errors are rendered as pages in
the site's look instead. API paths always answer problem+json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bizosaas.kit.errors import Problem, code_for_status, problem_body, problem_response

HtmlErrorRenderer = Callable[[Request, int, Exception], Awaitable[Response | None]]
"""`(request, status, exc) -> page`, or None to fall back to problem+json."""


def _instance(request: Request) -> str:
    return request.url.path


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not an API client)."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def _html_page(request: Request, status: int, exc: Exception) -> Response | None:
    renderer: HtmlErrorRenderer | None = getattr(request.app.state, "html_error_renderer", None)
    if renderer is None or not wants_html(request):
        return None
    return await renderer(request, status, exc)


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    if (page := await _html_page(request, exc.status, exc)) is not None:
        return page
    return problem_response(exc.body(instance=_instance(request)), exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if (page := await _html_page(request, exc.status_code, exc)) is not None:
        return page
    detail = exc.detail if isinstance(exc.detail, str) else None
    body = problem_body(
        status=exc.status_code,
        code=code_for_status(exc.status_code),
        detail=detail,
        instance=_instance(request),
    )
    return problem_response(body, exc.headers)


def _clean_error(error: dict[str, Any]) -> dict[str, Any]:
    # Only location, message and type: echoing `input` could reflect secrets back.
    return {
        "loc": [str(part) for part in error.get("loc", ())],
        "msg": error.get("msg", ""),
        "type": error.get("type", ""),
    }


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if (page := await _html_page(request, 400, exc)) is not None:
        return page
    errors = [_clean_error(dict(error)) for error in exc.errors()]
    body = problem_body(
        status=422,
        code="request.validation_failed",
        title="The request is not valid",
        detail="; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5]),
        instance=_instance(request),
        errors=errors,
    )
    return problem_response(body)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
