"""Active health checks: every interval, each instance with a health path is probed.

A failing probe opens the instance's circuit (no traffic, callers get a fast 503); a passing
probe closes it, so an instance that comes back is used again on its own.
"""

from __future__ import annotations

import asyncio

import aiohttp
import structlog

from bizosaas.gateway.registry import Instance, Registry
from bizosaas.kit.tasks import cancel_and_wait

log = structlog.get_logger(__name__)


class HealthChecker:
    def __init__(
        self,
        registry: Registry,
        session: aiohttp.ClientSession,
        *,
        interval: float,
        timeout: float = 2.0,
    ) -> None:
        self._registry = registry
        self._session = session
        self._interval = interval
        self._timeout = aiohttp.ClientTimeout(total=min(timeout, interval))
        self._task: asyncio.Task[None] | None = None

    async def probe(self, instance: Instance) -> bool:
        if instance.health_path is None:
            return True
        try:
            async with self._session.get(
                instance.origin + instance.health_path,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                await response.read()
                healthy = response.status < 400
        except (aiohttp.ClientError, TimeoutError, OSError):
            healthy = False
        if healthy:
            instance.circuit.record_success()
        else:
            instance.circuit.trip()
        if instance.healthy != healthy:
            log.info(
                "gateway_instance_health",
                service=instance.service,
                url=instance.url,
                healthy=healthy,
            )
        instance.healthy = healthy
        return healthy

    async def check_all(self) -> None:
        instances = [
            instance
            for service in list(self._registry.services.values())
            for instance in list(service.instances.values())
            if instance.health_path is not None
        ]
        await asyncio.gather(*(self.probe(instance) for instance in instances))

    async def _run(self) -> None:
        while True:
            try:
                await self.check_all()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("gateway_health_check_failed")
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="gateway-health-checks")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
