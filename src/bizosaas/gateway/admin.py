"""Gateway administration and self-registration endpoints.

Platform administrators (super admin):
  GET    /api/brain/services                                  services, instances, health,
                                                              circuit state and latency
  POST   /api/brain/services/reload                           re-read configuration and Redis
  POST   /api/brain/services/{service}/instances/{id}/drain   stop sending new requests
  DELETE /api/brain/services/{service}/instances/{id}/drain   take traffic again
Services (bearer `BIZOSAAS_SERVICE_TOKEN`):
  POST   /api/brain/registry/services                         register an instance (with a TTL)
  PUT    /api/brain/registry/services/{service}/instances/{id}/heartbeat
  DELETE /api/brain/registry/services/{service}/instances/{id}
  POST   /api/brain/realtime/notifications                    push a notification to clients
"""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator
from starlette.responses import Response

from bizosaas.gateway.registry import Registry
from bizosaas.kit.auth import Principal, require_super_admin
from bizosaas.kit.errors import NotFound, Unauthenticated
from bizosaas.kit.events import Event
from bizosaas.kit.ids import uuid7
from bizosaas.kit.text import SingleLine
from bizosaas.settings import Settings


class GatewayRuntime(Protocol):
    """What these endpoints need of the gateway's runtime (`assembly.Gateway`)."""

    registry: Registry
    settings: Settings

    async def reload(self) -> None: ...


SuperAdmin = Annotated[Principal, Depends(require_super_admin())]


class InstanceNotFound(NotFound):
    code = "gateway.instance_not_found"
    title = "No such service instance"


class InstanceStatus(BaseModel):
    id: str
    url: str
    source: str
    circuit: str
    healthy: bool | None
    draining: bool
    outstanding: int
    latency_ms: float | None
    consecutive_failures: int
    """Consecutive failures on live traffic (outlier detection)."""
    failed_probes: int
    """Consecutive failed health probes."""
    ejections: int
    """Outlier ejections, less one per ejection period spent back in service."""
    expires_in: float | None


class ServiceStatus(BaseModel):
    name: str
    kind: str
    balancer: str | None = None
    timeout: float | None = None
    health_path: str | None = None
    instances: list[InstanceStatus]


class RegistrationIn(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    url: SingleLine = Field(max_length=500)
    health_path: SingleLine | None = Field(default=None, pattern=r"^/")
    timeout: float | None = Field(default=None, gt=0, le=3600)
    ttl: float | None = Field(default=None, gt=0, le=3600)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value


class RegistrationOut(BaseModel):
    id: str
    service: str
    url: str
    ttl: float
    heartbeat_path: str


class NotificationIn(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,100}$")
    """Delivered to clients as the event name `notification.<name>`."""
    tenant_id: uuid.UUID | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


def gateway_of(request: Request) -> GatewayRuntime:
    gateway: GatewayRuntime = request.app.state.gateway
    return gateway


async def require_service(request: Request) -> None:
    """The caller holds the service credential (compared in constant time, never logged)."""
    expected = request.app.state.settings.service_token
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if (
        expected is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    ):
        raise Unauthenticated(
            "Send the service credential as a bearer token.",
            headers={"WWW-Authenticate": "Bearer"},
        )


ServiceCaller = Annotated[None, Depends(require_service)]

admin_router = APIRouter(tags=["gateway"])
registry_router = APIRouter(tags=["gateway"])


@admin_router.get(
    "/services",
    summary="Services, instances, health, circuit state and latency",
    responses={401: {"description": "No credential"}, 403: {"description": "Not an admin"}},
)
async def list_services(request: Request, _admin: SuperAdmin) -> list[ServiceStatus]:
    return [ServiceStatus.model_validate(s) for s in gateway_of(request).registry.describe()]


@admin_router.post("/services/reload", summary="Reload the registry without a restart")
async def reload_registry(request: Request, _admin: SuperAdmin) -> list[ServiceStatus]:
    gateway = gateway_of(request)
    await gateway.reload()
    return [ServiceStatus.model_validate(s) for s in gateway.registry.describe()]


async def _set_drain(
    request: Request, service: str, instance: str, draining: bool
) -> InstanceStatus:
    found = await gateway_of(request).registry.set_draining(service, instance, draining)
    if found is None:
        raise InstanceNotFound(f"{service} has no instance {instance}.")
    return InstanceStatus.model_validate(found.describe())


@admin_router.post(
    "/services/{service}/instances/{instance}/drain",
    summary="Drain an instance: no new requests are sent to it",
    responses={404: {"description": "No such instance"}},
)
async def drain_instance(
    request: Request, service: str, instance: str, _admin: SuperAdmin
) -> InstanceStatus:
    return await _set_drain(request, service, instance, True)


@admin_router.delete(
    "/services/{service}/instances/{instance}/drain",
    summary="Undrain an instance",
    responses={404: {"description": "No such instance"}},
)
async def undrain_instance(
    request: Request, service: str, instance: str, _admin: SuperAdmin
) -> InstanceStatus:
    return await _set_drain(request, service, instance, False)


@registry_router.post(
    "/registry/services",
    status_code=201,
    summary="Register a service instance (service credential)",
    responses={401: {"description": "No or wrong service credential"}},
)
async def register_instance(
    request: Request, payload: RegistrationIn, _service: ServiceCaller
) -> RegistrationOut:
    gateway = gateway_of(request)
    ttl = payload.ttl or gateway.settings.gateway_registry_ttl
    instance = await gateway.registry.register(
        payload.name,
        payload.url,
        ttl=ttl,
        health_path=payload.health_path,
        timeout=payload.timeout,
    )
    return RegistrationOut(
        id=instance.id,
        service=payload.name,
        url=instance.url,
        ttl=ttl,
        heartbeat_path=f"/api/brain/registry/services/{payload.name}/instances/{instance.id}/heartbeat",
    )


@registry_router.put(
    "/registry/services/{service}/instances/{instance}/heartbeat",
    status_code=204,
    summary="Extend a registration by its TTL",
    responses={404: {"description": "Expired or unknown: register again"}},
)
async def heartbeat(
    request: Request,
    service: str,
    instance: str,
    _service: ServiceCaller,
    ttl: Annotated[float | None, Query(gt=0, le=3600)] = None,
) -> Response:
    gateway = gateway_of(request)
    if not await gateway.registry.heartbeat(
        service, instance, ttl=ttl or gateway.settings.gateway_registry_ttl
    ):
        raise InstanceNotFound(f"{service} has no registered instance {instance}; register again.")
    return Response(status_code=204)


@registry_router.delete(
    "/registry/services/{service}/instances/{instance}",
    status_code=204,
    summary="Deregister an instance",
    responses={404: {"description": "No such instance"}},
)
async def deregister(
    request: Request, service: str, instance: str, _service: ServiceCaller
) -> Response:
    if not await gateway_of(request).registry.deregister(service, instance):
        raise InstanceNotFound(f"{service} has no registered instance {instance}.")
    return Response(status_code=204)


@registry_router.post(
    "/realtime/notifications",
    status_code=202,
    summary="Push a notification to the realtime clients of a tenant (service credential)",
)
async def notify(request: Request, payload: NotificationIn, _service: ServiceCaller) -> Response:
    event = Event(
        id=uuid7(),
        name=f"notification.{payload.name}",
        occurred_at=datetime.now(UTC),
        payload=payload.payload,
        tenant_id=payload.tenant_id,
    )
    await request.app.state.bus.publish(event)
    return Response(status_code=202)
