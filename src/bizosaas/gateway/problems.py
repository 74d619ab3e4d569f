"""Exception handlers that answer every error, the framework's included, as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bizosaas.kit.errors import Problem, code_for_status, problem_body, problem_response


def _instance(request: Request) -> str:
    return request.url.path


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc.body(instance=_instance(request)), exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
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
