"""`/metrics`: the Prometheus exposition, for the scraper only.

Metrics name routes, services and error rates: a map of the platform nobody outside needs.
With `BIZOSAAS_METRICS_TOKEN` set, the scraper sends `Authorization: Bearer <token>`
(compared in constant time) and anyone else gets 401. Without it, an embedded (SQLite)
process answers only a direct caller on the same machine (a loopback address and no
forwarding headers, so a local reverse proxy does not pass the outside world through); a
scaled (PostgreSQL) process answers 404 until a token is set.
"""

from __future__ import annotations

import hmac
from ipaddress import ip_address

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from bizosaas.gateway.forwarded import FORWARDED_STATE
from bizosaas.kit.errors import NotFound, Unauthenticated
from bizosaas.settings import Settings


class MetricsCredentialRequired(Unauthenticated):
    code = "metrics.unauthenticated"
    title = "The metrics token is required"


def _is_local_direct(request: Request) -> bool:
    if getattr(request.state, FORWARDED_STATE, False) or request.client is None:
        return False
    try:
        return ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def check_metrics_access(request: Request, settings: Settings) -> None:
    """Raise unless this caller may read the metrics."""
    token = settings.metrics_token
    if token is not None and token.get_secret_value():
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            raise MetricsCredentialRequired(
                "Send the metrics token as a bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return
    if settings.uses_postgres or not _is_local_direct(request):
        raise NotFound("Not found.")


def metrics_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        check_metrics_access(request, settings)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
