"""The gateway application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from bizosaas import __version__
from bizosaas.gateway import catalog, health
from bizosaas.gateway.assembly import BrainApp, install_gateway
from bizosaas.gateway.forwarded import TrustedProxyMiddleware
from bizosaas.gateway.load_shedding import LoadSheddingMiddleware
from bizosaas.gateway.metrics import metrics_router
from bizosaas.gateway.middleware import RequestContextMiddleware
from bizosaas.gateway.platform import Platform
from bizosaas.gateway.problems import install_problem_handlers
from bizosaas.kit.catalog import describe_toolsets
from bizosaas.kit.db import Database
from bizosaas.settings import Settings

API_PREFIX = "/api/brain"
NO_OPENTELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """Build the gateway: every enabled module's API under /api/brain/<name>/, its web pages at
    the root, health, metrics and OpenAPI docs at /api/brain/docs."""
    platform = Platform.build(settings, database=database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await platform.start()
        for name, value in platform.services.provided.items():
            setattr(_app.state, name, value)
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()
            await platform.stop()

    app = BrainApp(
        title="BizOSaaS Brain API",
        version=__version__,
        summary="One gateway in front of every BizOSaaS service.",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
        # Metrics are Prometheus's and logs structlog's (kit/observability.py); FastAPI's own
        # OpenTelemetry hooks would only cost a provider lookup on every request.
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.platform = platform
    app.state.settings = settings
    app.state.database = platform.database
    app.state.bus = platform.bus
    app.state.cache = platform.cache
    # Described once: a tool whose signature cannot be described stops start-up here.
    app.state.toolsets = describe_toolsets(platform.modules)
    app.state.services = platform.services
    app.state.permissions = platform.services.permissions

    install_problem_handlers(app)
    gateway = install_gateway(app, platform)
    app.add_middleware(LoadSheddingMiddleware, max_in_flight=settings.gateway_max_in_flight)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies)

    app.include_router(health.router, prefix=API_PREFIX)
    app.include_router(catalog.router, prefix=API_PREFIX)
    for module in platform.modules:
        if module.router is not None:
            app.include_router(module.router, prefix=f"{API_PREFIX}/{module.name}")
        if module.web is not None:
            app.include_router(module.web)
    app.include_router(metrics_router(settings))
    return app
