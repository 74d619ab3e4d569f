"""The runtime of one process: settings, database, cache, event bus, relay, modules and the
background parts they start (such as the Temporal worker). The gateway serves HTTP around it;
`bizosaas worker` runs it without HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis

from bizosaas.kit.cache import Cache, MemoryCache, RedisCache
from bizosaas.kit.contract import ModuleContractError, ModuleDeclarations, load_declarations
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event, EventBus, Handler, InProcessEventBus, RedisEventBus
from bizosaas.kit.module import (
    DomainModule,
    EventHandler,
    HealthCheck,
    ModuleHealthCheck,
    Services,
)
from bizosaas.kit.outbox import OutboxRelay
from bizosaas.modules import ModuleLoadError, disabled_modules, enabled_modules
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)

PLATFORM_CHECKS = frozenset({"database", "redis"})
"""Components /api/brain/health checks for every process (see gateway/health.py)."""


def _bound(check: ModuleHealthCheck, services: Services) -> HealthCheck:
    async def run() -> None:
        await check(services)

    return run


def _handler(handler: EventHandler, services: Services) -> Handler:
    async def handle(event: Event) -> None:
        await handler(event, services)

    return handle


@dataclass
class Platform:
    settings: Settings
    database: Database
    cache: Cache
    bus: EventBus
    modules: list[DomainModule]
    """The modules this process serves (one of them in split mode)."""
    enabled: Sequence[DomainModule]
    """Every enabled module (their declarations: permissions, settings)."""
    declarations: ModuleDeclarations
    redis: Redis | None = None
    relay: OutboxRelay | None = None
    owns_database: bool = True
    services: Services = field(init=False)

    def __post_init__(self) -> None:
        self.services = Services(
            settings=self.settings,
            database=self.database,
            cache=self.cache,
            bus=self.bus,
            redis=self.redis,
            modules=tuple(self.enabled),
            permissions=self.declarations.permissions,
            loaded_settings=self.declarations.settings,
        )
        for module in self.modules:
            for name, check in module.health_checks.items():
                if name in PLATFORM_CHECKS or name in self.services.health_checks:
                    raise ModuleContractError(
                        f"module {module.name!r} declares the health check {name!r}, "
                        "a name the platform or another module already uses"
                    )
                self.services.add_health_check(name, _bound(check, self.services))
            for pattern, handler in module.event_handlers.items():
                self.bus.subscribe(pattern, _handler(handler, self.services))

    @classmethod
    def build(cls, settings: Settings, *, database: Database | None = None) -> Platform:
        """Raises `ModuleLoadError`, `ModuleContractError` or `ConfigurationError` (naming the
        module and what to fix) before anything is opened."""
        enabled = enabled_modules(settings)
        declarations = load_declarations(enabled, disabled=disabled_modules(settings))
        modules = enabled
        if settings.serve_only:
            # Split mode: this process serves one module; the gateway routes to it.
            modules = [module for module in enabled if module.name == settings.serve_only]
            if not modules:
                raise ModuleLoadError(f"no enabled module is named {settings.serve_only!r}")
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        bus: EventBus = RedisEventBus(redis) if redis else InProcessEventBus()
        cache: Cache = RedisCache(redis) if redis else MemoryCache()
        owns_database = database is None
        if database is None:
            database = Database.from_url(
                settings.effective_database_url,
                pool_size=settings.database_pool_size,
                sqlite_writers=settings.sqlite_write_connections,
            )
        relay = (
            OutboxRelay(database, bus, poll_interval=settings.outbox_poll_interval)
            if settings.outbox_relay_enabled
            else None
        )
        return cls(
            settings=settings,
            database=database,
            cache=cache,
            bus=bus,
            modules=modules,
            enabled=enabled,
            declarations=declarations,
            redis=redis,
            relay=relay,
            owns_database=owns_database,
        )

    async def start(self) -> None:
        await self.bus.start()
        try:
            for module in self.modules:
                if module.startup is not None:
                    await module.startup(self.services)
            if self.relay is not None:
                self.relay.start()
            for part in self.services.background.values():
                part.start()
        except BaseException:
            await self.stop()
            raise
        log.info("platform_started", modules=[m.name for m in self.modules])

    async def stop(self) -> None:
        for part in reversed(list(self.services.background.values())):
            await part.stop()
        self.services.background.clear()
        if self.relay is not None:
            await self.relay.stop()
        for module in reversed(self.modules):
            if module.shutdown is not None:
                await module.shutdown(self.services)
        await self.bus.close()
        if self.redis is not None:
            await self.redis.aclose()
        if self.owns_database:
            await self.database.dispose()
