"""One error hierarchy, answered as RFC 9457 problem details with a stable machine `code`.

Domain packages subclass `Problem` (or raise one of the generic kinds below) in their
`exceptions.py`; the gateway turns every error, including the framework's own, into
`application/problem+json`. No stack trace reaches a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
from starlette.responses import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://bizosaas.dev/problems/"


class Problem(Exception):
    """An error with a stable code that a client can act on."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, *, instance: str | None = None) -> dict[str, Any]:
        return problem_body(
            status=self.status,
            code=self.code,
            title=self.title,
            detail=self.detail,
            instance=instance,
            **self.extensions,
        )


class InvalidInput(Problem):
    status = 422
    code = "request.invalid"
    title = "The request is not valid"


class Unauthenticated(Problem):
    status = 401
    code = "auth.unauthenticated"
    title = "Authentication required"


class PermissionDenied(Problem):
    status = 403
    code = "auth.forbidden"
    title = "Not allowed"


class NotFound(Problem):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(Problem):
    status = 409
    code = "conflict"
    title = "Conflict"


class RateLimited(Problem):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


class ServiceUnavailable(Problem):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"


def problem_body(
    *,
    status: int,
    code: str,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or title or HTTPStatus(status).phrase,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return body


def problem_response(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(body),
        status_code=int(body["status"]),
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


HTTP_STATUS_CODES: dict[int, str] = {
    400: "http.bad_request",
    401: "auth.unauthenticated",
    403: "auth.forbidden",
    404: "http.not_found",
    405: "http.method_not_allowed",
    406: "http.not_acceptable",
    409: "conflict",
    413: "http.payload_too_large",
    415: "http.unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream.bad_gateway",
    503: "service_unavailable",
    504: "upstream.timeout",
}


def code_for_status(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, f"http.{status}")
