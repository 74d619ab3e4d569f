"""Pure ASGI middleware on the hot path (no BaseHTTPMiddleware)."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bizosaas.kit.errors import problem_body, problem_response
from bizosaas.kit.observability import HTTP_LATENCY, HTTP_REQUESTS, request_id_var

log = structlog.get_logger("bizosaas.access")

_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
REQUEST_ID_HEADER = b"x-request-id"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            return candidate if _REQUEST_ID_PATTERN.match(candidate) else None
    return None


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/brain/x/items/{id}`), for low-cardinality labels."""
    # FastAPI keeps included routers unflattened and records the effective (prefixed) route
    # in its own scope entry; plain Starlette routes carry their full path themselves.
    effective = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(effective, "path_format", None)
    if not isinstance(path, str):
        route = scope.get("route")
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class RequestContextMiddleware:
    """Request id, access log, metrics, and the last line of defence for unexpected errors.

    A trusted incoming `X-Request-ID` is kept (so a trace spans services), otherwise one is
    made; it is echoed on the response, bound to every log line, and put in 500 bodies.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._access = logging.getLogger("bizosaas.access")
        # Built after `configure_logging` in a server: the access log (which costs more than
        # the rest of this middleware) is skipped when its level drops it. With structlog not
        # routed through the standard library (tests capturing logs), it always logs.
        self._level_gated = structlog.is_configured() and isinstance(
            structlog.get_config()["logger_factory"], structlog.stdlib.LoggerFactory
        )
        self._metrics: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def _observe(self, method: str, route: str, status: str, elapsed: float) -> None:
        key = (method, route, status)
        children = self._metrics.get(key)
        if children is None:
            children = (HTTP_REQUESTS.labels(*key), HTTP_LATENCY.labels(*key))
            self._metrics[key] = children
        children[0].inc()
        children[1].observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or os.urandom(16).hex()
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_context(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        except Exception:
            log.exception(
                "unhandled_error", method=scope["method"], path=scope["path"], request_id=request_id
            )
            if response_started:
                raise
            status = 500
            body = problem_body(
                status=500,
                code="internal_error",
                title="Internal server error",
                detail="The server failed to handle this request. Quote the request id if you "
                "report it.",
                request_id=request_id,
            )
            response = problem_response(body, {"x-request-id": request_id})
            await response(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            self._observe(scope["method"], route, str(status), elapsed)
            if not self._level_gated or self._access.isEnabledFor(logging.INFO):
                state: dict[str, Any] = scope.get("state", {})
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status,
                    client=client[0] if (client := scope.get("client")) else None,
                    request_id=request_id,
                    latency_ms=round(elapsed * 1000, 2),
                    tenant_id=_as_text(state.get("tenant_id")),
                    user_id=_as_text(state.get("user_id")),
                )
            request_id_var.reset(token)


def _as_text(value: object) -> str | None:
    return None if value is None else str(value)
