"""The runtime of one process: settings, database, cache, event bus, relay, modules and the
background parts they start (such as the Temporal worker). The gateway serves HTTP around it;
`bizosaas worker` runs it without HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis

from bizosaas.kit.cache import Cache, MemoryCache, RedisCache
from bizosaas.kit.db import Database
from bizosaas.kit.events import EventBus, InProcessEventBus, RedisEventBus
from bizosaas.kit.module import DomainModule, Services
from bizosaas.kit.outbox import OutboxRelay
from bizosaas.modules import ModuleLoadError, enabled_modules
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class Platform:
    settings: Settings
    database: Database
    cache: Cache
    bus: EventBus
    modules: list[DomainModule]
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
            modules=tuple(self.modules),
        )

    @classmethod
    def build(cls, settings: Settings, *, database: Database | None = None) -> Platform:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        bus: EventBus = RedisEventBus(redis) if redis else InProcessEventBus()
        cache: Cache = RedisCache(redis) if redis else MemoryCache()
        owns_database = database is None
        if database is None:
            database = Database.from_url(
                settings.effective_database_url, pool_size=settings.database_pool_size
            )
        modules = enabled_modules(settings)
        if settings.serve_only:
            # Split mode: this process serves one module; the gateway routes to it.
            modules = [module for module in modules if module.name == settings.serve_only]
            if not modules:
                raise ModuleLoadError(f"no enabled module is named {settings.serve_only!r}")
        for module in modules:
            for pattern, handler in module.event_handlers.items():
                bus.subscribe(pattern, handler)
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
