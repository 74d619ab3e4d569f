"""What each API operation needs and may answer, read once from its dependencies.

The routes say who may call them through the shared auth dependencies (`kit.auth`:
`current_principal`, and every check built on it such as `require(...)`; the gateway's
service credential). From those, and from the parameters and body an operation takes, this
module derives, for every operation at once:

* the error responses the OpenAPI document lists (`document_errors`): 401 for operations that
  need a credential, 403 where a check on the caller follows, 404 where a path names a
  resource, 400/413 where a body is read, 422 where there is input, 429 everywhere (rate
  limits apply to any route), all as `application/problem+json` with the `Problem` schema
  the gateway really sends (FastAPI's own 422 schema is replaced);
* `AuthenticateFirst`: an operation that needs a credential answers 401 before its body is
  read, so a caller without one learns nothing from how its body is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from bizosaas.gateway.admin import require_service
from bizosaas.gateway.principal import resolve_principal
from bizosaas.kit.auth import current_principal
from bizosaas.kit.errors import PROBLEM_CONTENT_TYPE, Problem, Unauthenticated, problem_response


class Credential(StrEnum):
    principal = "principal"
    """A user's or API key's credential, verified by the identity authenticator."""
    service = "service"
    """The service credential (`BIZOSAAS_SERVICE_TOKEN`)."""


CREDENTIAL_DEPENDENCIES: dict[Callable[..., Any], Credential] = {
    current_principal: Credential.principal,
    require_service: Credential.service,
}


@dataclass(frozen=True)
class Operation:
    path: str
    methods: frozenset[str]
    path_regex: re.Pattern[str]
    credential: Credential | None
    checks_caller: bool
    """A dependency inspects the verified caller (a permission, a tenant, a kind): 403."""
    has_path_parameters: bool
    takes_input: bool
    takes_body: bool


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _walk(child)


def describe(path: str, methods: frozenset[str], dependant: Dependant) -> Operation:
    credential: Credential | None = None
    checks_caller = False
    for node in _walk(dependant):
        found = CREDENTIAL_DEPENDENCIES.get(node.call) if node.call else None
        if found is not None and credential is None:
            credential = found
        if node.call is not current_principal and any(
            child.call is current_principal for child in node.dependencies
        ):
            checks_caller = True
    nodes = list(_walk(dependant))
    takes_body = any(node.body_params for node in nodes)
    takes_input = takes_body or any(
        node.path_params or node.query_params or node.header_params or node.cookie_params
        for node in nodes
    )
    return Operation(
        path=path,
        methods=methods,
        path_regex=compile_path(path)[0],
        credential=credential,
        checks_caller=checks_caller,
        has_path_parameters=any(node.path_params for node in nodes),
        takes_input=takes_input,
        takes_body=takes_body,
    )


def api_operations(app: FastAPI) -> list[Operation]:
    """Every documented API operation of `app`, in routing order."""
    operations = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        path, methods = context.path_format, context.methods
        if path is None or not methods:
            continue
        operations.append(describe(path, frozenset(methods), context.dependant))
    return operations


# -- the OpenAPI document -------------------------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, with a stable machine `code`.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable code, e.g. `auth.unauthenticated`."},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "description": "A problem about the request's input; `errors` names each field at fault.",
    "allOf": [{"$ref": "#/components/schemas/Problem"}],
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        }
    },
}
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An access token (from login), an API key, or for the registry endpoints "
    "the service credential.",
}
ERROR_DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8, or not what its content type says)",
    401: "No credential, or one that is not valid",
    403: "The credential does not allow this",
    404: "Not found (or not visible to this caller)",
    413: "The body is larger than the gateway accepts",
    422: "The input is not valid; `errors` names each field at fault",
    429: "Too many requests; retry after `Retry-After` seconds",
    503: "The server is overloaded (`gateway.overloaded`); retry after `Retry-After` seconds",
}


def _problem_content(status: int) -> dict[str, Any]:
    name = "ValidationProblem" if status == 422 else "Problem"
    return {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def error_statuses(operation: Operation) -> set[int]:
    statuses = {429, 503}  # every operation may be rate limited or shed under load
    if operation.credential is not None:
        statuses.add(401)
    if operation.checks_caller:
        statuses.add(403)
    if operation.has_path_parameters:
        statuses.add(404)
    if operation.takes_input:
        statuses.add(422)
    if operation.takes_body:
        statuses |= {400, 413}
    return statuses


def document_errors(schema: dict[str, Any], operations: list[Operation]) -> None:
    """Add every operation's error responses to `schema` (in place), as problem+json."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    secured = False
    for operation in operations:
        for method in operation.methods:
            entry = paths.get(operation.path, {}).get(method.lower())
            if entry is None:
                continue
            responses: dict[str, Any] = entry.setdefault("responses", {})
            for status in error_statuses(operation):
                responses.setdefault(str(status), {})
            for status_text, response in responses.items():
                if not status_text.isdigit() or int(status_text) < 400:
                    continue
                status = int(status_text)
                if status == 422 or "content" not in response:
                    response["content"] = _problem_content(status)
                if response.get("description") in (None, "", "Validation Error"):
                    response["description"] = ERROR_DESCRIPTIONS.get(status, "Error")
            if operation.credential is not None:
                entry["security"] = [{"bearer": []}]
                secured = True
    if secured:
        components.setdefault("securitySchemes", {})["bearer"] = BEARER_SCHEME


# -- authentication before anything else -------------------------------------------------


class AuthenticateFirst:
    """Pure ASGI: a request for an operation that needs a credential is authenticated before
    the framework reads its body. With no credential (or an invalid one) the answer is 401,
    whatever the body holds. The verified principal is kept in the request state, where the
    endpoint's own dependencies find it (one verification per request)."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        # Built when the middleware stack is (first request): every route is registered then.
        self.protected = [op for op in api_operations(fastapi_app) if op.credential is not None]

    def _credential_for(self, method: str, path: str) -> Credential | None:
        for operation in self.protected:
            if method in operation.methods and operation.path_regex.match(path):
                return operation.credential
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        needed = self._credential_for(scope["method"], scope["path"])
        if needed is None:
            await self.app(scope, receive, send)
            return
        try:
            if needed is Credential.service:
                authenticated = any(name == b"authorization" for name, _ in scope["headers"])
            else:
                authenticated = await resolve_principal(scope) is not None
        except Problem as invalid:
            await self._refuse(invalid, scope, receive, send)
            return
        if not authenticated:
            missing = Unauthenticated(
                "Send a bearer access token or API key.", headers={"WWW-Authenticate": "Bearer"}
            )
            await self._refuse(missing, scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(problem.body(instance=scope["path"]), problem.headers)
        await response(scope, receive, send)
