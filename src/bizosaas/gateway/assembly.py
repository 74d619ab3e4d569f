"""Assembles the gateway's parts around the FastAPI app.

Request path (outermost first), all pure ASGI:
  RequestContextMiddleware (request id, access log, metrics, 500s; added by app.py)
  LoadSheddingMiddleware   (503 gateway.overloaded past the in-flight bound; added by app.py)
  SecurityMiddleware       (security headers, CORS, body limit)
  RateLimitMiddleware      (limits, per IP / user / tenant)
  ResponseCacheMiddleware  (cacheable GETs, event invalidation)
  AuthenticateFirst        (401 before the body is read, for operations that need a credential)
  ProxyDispatch            (remote services -> Proxy; everything else -> FastAPI's router)
In split mode (`serve --only`) only the module, health and metrics are served: the gateway in
front already applies the rest.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import structlog
from fastapi import FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp

from bizosaas.gateway.admin import admin_router, registry_router
from bizosaas.gateway.config import GatewayConfig, load_gateway_config
from bizosaas.gateway.docs import add_docs_routes
from bizosaas.gateway.healthcheck import HealthChecker
from bizosaas.gateway.operations import AuthenticateFirst, api_operations, document_errors
from bizosaas.gateway.platform import Platform
from bizosaas.gateway.proxy import Proxy, ProxyDispatch
from bizosaas.gateway.ratelimit import RateLimiter, RateLimitMiddleware, make_storage
from bizosaas.gateway.realtime import RealtimeHub
from bizosaas.gateway.realtime import router as realtime_router
from bizosaas.gateway.registry import Registry
from bizosaas.gateway.response_cache import ResponseCache, ResponseCacheMiddleware
from bizosaas.gateway.security_headers import SecurityMiddleware
from bizosaas.gateway.split import Registrar, split_authenticator
from bizosaas.kit.auth import SESSION_LIVENESS, SessionLiveness
from bizosaas.kit.events import Event
from bizosaas.kit.permissions import PermissionCatalogue
from bizosaas.kit.tasks import cancel_and_wait
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)

API_PREFIX = "/api/brain"


class BrainApp(FastAPI):
    """FastAPI with the gateway's middleware *outside* the framework's own layers.

    FastAPI puts user middleware inside its error and telemetry layers. Here the pure ASGI
    middleware (request context, security, rate limit, cache, proxy dispatch) comes first, so
    a proxied request never enters the framework at all; everything else continues into
    FastAPI's usual stack. The request-context middleware, outermost, answers any error that
    escapes with a problem+json 500 (so Starlette's plain-text error layer is left out).
    """

    def setup(self) -> None:
        # FastAPI's docs page loads Swagger UI from a public CDN; ours serves it from here.
        docs_url, self.docs_url = self.docs_url, None
        try:
            super().setup()
        finally:
            self.docs_url = docs_url
        if docs_url and self.openapi_url:
            add_docs_routes(self, docs_url=docs_url, openapi_url=self.openapi_url, title=self.title)

    _documented_schema: dict[str, Any] | None = None

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, with every operation's error responses added once per build
        (`operations.document_errors`)."""
        schema = super().openapi()
        if schema is not self._documented_schema:
            document_errors(schema, api_operations(self))
            self._documented_schema = schema
        return schema

    def build_middleware_stack(self) -> ASGIApp:
        user_middleware, self.user_middleware = self.user_middleware, []
        try:
            app = super().build_middleware_stack()
        finally:
            self.user_middleware = user_middleware
        if isinstance(app, ServerErrorMiddleware):
            # Its job (a 500 for anything unhandled) is the request-context middleware's,
            # which answers problem+json with the request id; inside it, this one would
            # answer first, in plain text.
            app = app.app
        for cls, args, kwargs in reversed(user_middleware):
            app = cls(app, *args, **kwargs)
        return app


class Gateway:
    """The gateway's runtime in one process: registry, proxy, health checks, limits, cache,
    realtime hub. Started and stopped by the app's lifespan."""

    def __init__(self, platform: Platform, config: GatewayConfig) -> None:
        settings = platform.settings
        self.settings = settings
        self.platform = platform
        self.registry = Registry(
            local=frozenset(module.name for module in platform.modules),
            failure_threshold=settings.gateway_failure_threshold,
            open_seconds=settings.gateway_open_seconds,
            max_open_seconds=settings.gateway_max_open_seconds,
            max_ejection_percent=settings.gateway_max_ejection_percent,
            redis=platform.redis,
        )
        self.registry.configure(config.services)
        self.proxy = Proxy(self.registry)
        self.limiter = RateLimiter(config.rate_limits, make_storage(settings.redis_url))
        self.cache = ResponseCache(platform.cache, config.cache)
        self.hub = RealtimeHub(queue_size=settings.gateway_ws_queue_size)
        self.health: HealthChecker | None = None
        self._probe_session: aiohttp.ClientSession | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        platform.bus.subscribe("*", self._on_event)

    async def _on_event(self, event: Event) -> None:
        await self.cache.on_event(event)
        await self.hub.on_event(event)

    async def reload(self) -> None:
        """Re-read the configuration (file) and the shared registry, without a restart."""
        config = load_gateway_config(self.settings)
        self.registry.configure(config.services)
        self.limiter.configure(config.rate_limits)
        self.cache.configure(config.cache)
        await self.registry.sync()
        log.info("gateway_reloaded", services=sorted(self.registry.services))

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.gateway_registry_sync_interval)
            try:
                await self.registry.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("gateway_registry_sync_failed")

    async def _session_sweep_loop(self, liveness: SessionLiveness) -> None:
        while True:
            await asyncio.sleep(self.settings.gateway_ws_session_sweep_interval)
            try:
                await self.hub.sweep(liveness)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("realtime_session_sweep_failed")

    async def start(self) -> None:
        await self.proxy.start()
        await self.registry.sync()
        # Probes get connections of their own: behind the proxy's pool, a probe would wait for
        # a connection behind every queued request and time out on the gateway's own queue.
        self._probe_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.health = HealthChecker(
            self.registry,
            self._probe_session,
            interval=self.settings.gateway_health_interval,
            timeout=self.settings.gateway_health_timeout,
            unhealthy_after=self.settings.gateway_unhealthy_threshold,
            healthy_after=self.settings.gateway_healthy_threshold,
        )
        self.health.start()
        self._sync_task = asyncio.create_task(self._sync_loop(), name="gateway-registry-sync")
        liveness = self.platform.services.provided.get(SESSION_LIVENESS)
        if liveness is not None:
            self._sweep_task = asyncio.create_task(
                self._session_sweep_loop(liveness), name="realtime-session-sweep"
            )

    async def stop(self) -> None:
        if self._sync_task is not None:
            await cancel_and_wait(self._sync_task)
        if self._sweep_task is not None:
            await cancel_and_wait(self._sweep_task)
        if self.health is not None:
            await self.health.stop()
        if self._probe_session is not None:
            await self._probe_session.close()
        await self.proxy.stop()


class SplitService:
    """Split mode's runtime: the JWKS authenticator and the registration with the gateway."""

    def __init__(self, app: FastAPI, settings: Settings, permissions: PermissionCatalogue) -> None:
        self.app = app
        self.settings = settings
        self.permissions = permissions
        self.registrar = Registrar(settings) if settings.register_url else None

    async def start(self) -> None:
        if getattr(self.app.state, "authenticator", None) is None:
            authenticator = split_authenticator(self.settings, self.permissions)
            if authenticator is not None:
                self.app.state.authenticator = authenticator
        if self.registrar is not None:
            await self.registrar.start()

    async def stop(self) -> None:
        if self.registrar is not None:
            await self.registrar.stop()


def install_gateway(app: FastAPI, platform: Platform) -> Gateway | SplitService:
    """Add the gateway's middleware and endpoints to `app`; call before the request-context
    middleware is added (so that one stays outermost)."""
    settings = platform.settings
    if settings.serve_only:
        split = SplitService(app, settings, platform.services.permissions)
        app.state.gateway = split
        app.add_middleware(AuthenticateFirst, fastapi_app=app)
        return split
    gateway = Gateway(platform, load_gateway_config(settings))
    app.state.gateway = gateway
    app.include_router(admin_router, prefix=API_PREFIX)
    app.include_router(registry_router, prefix=API_PREFIX)
    app.include_router(realtime_router, prefix=API_PREFIX)
    # add_middleware wraps: the last one added runs first.
    app.add_middleware(
        ProxyDispatch,
        proxy=gateway.proxy,
        fastapi_app=app,
        modules={m.name: m.router for m in platform.modules if m.router is not None},
    )
    app.add_middleware(AuthenticateFirst, fastapi_app=app)
    app.add_middleware(ResponseCacheMiddleware, cache=gateway.cache)
    app.add_middleware(RateLimitMiddleware, limiter=gateway.limiter)
    app.add_middleware(
        SecurityMiddleware,
        cors_origins=settings.gateway_cors_origins,
        max_body_bytes=settings.gateway_max_body_bytes,
    )
    return gateway
