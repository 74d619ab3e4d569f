"""The admin console's Services page: what the gateway routes to, with health and circuit
state, read from the gateway's registry at runtime (the web module does not import the
gateway: it serves inside it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.apps import page
from bizosaas.web.session import SuperAdmin
from bizosaas.web.shell import WebRoute

router = APIRouter(prefix="/admin", route_class=WebRoute)
NAV_LINKS = (
    NavLink(
        WebApp.admin, "platform", "Services", "/admin/services", super_admin=True, icon="server"
    ),
)


@dataclass(frozen=True, slots=True)
class InstanceRow:
    url: str
    circuit: str
    healthy: bool | None
    draining: bool
    latency_ms: float | None
    failures: int


@dataclass(frozen=True, slots=True)
class ServiceRow:
    name: str
    kind: str
    instances: tuple[InstanceRow, ...]

    @property
    def state(self) -> str:
        """ok, degraded (some instances unavailable) or down (none available)."""
        if self.kind == "local":
            return "ok"
        usable = [
            i
            for i in self.instances
            if i.circuit != "open" and i.healthy is not False and not i.draining
        ]
        if not usable:
            return "down"
        return "ok" if len(usable) == len(self.instances) else "degraded"


def _registry_entries(request: Request) -> list[dict[str, Any]]:
    gateway = getattr(request.app.state, "gateway", None)
    registry = getattr(gateway, "registry", None)
    describe = getattr(registry, "describe", None)
    if describe is None:
        return []
    entries = describe()
    return [entry for entry in entries if isinstance(entry, dict)]


def service_rows(request: Request) -> list[ServiceRow]:
    rows = []
    for entry in _registry_entries(request):
        instances = tuple(
            InstanceRow(
                url=str(i.get("url", "")),
                circuit=str(i.get("circuit", "closed")),
                healthy=i.get("healthy"),
                draining=bool(i.get("draining", False)),
                latency_ms=i.get("latency_ms"),
                failures=int(i.get("consecutive_failures", 0)),
            )
            for i in entry.get("instances", [])
        )
        rows.append(
            ServiceRow(name=str(entry["name"]), kind=str(entry.get("kind")), instances=instances)
        )
    return rows


@router.get("/services")
async def services(request: Request, viewer: SuperAdmin) -> Response:
    context = {
        "title": "Services",
        "lead": "What the gateway routes to, with health checks and circuit breakers.",
        "services": service_rows(request),
    }
    return page(request, WebApp.admin, viewer, "admin/services.html", context)
