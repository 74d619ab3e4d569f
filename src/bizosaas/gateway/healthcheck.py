"""Active health checks: every interval, each instance with a health path is probed.

As in Envoy, one failed probe proves little (a saturated instance answers its probe late):
an instance leaves the pool after `unhealthy_after` failed probes in a row and comes back
after `healthy_after` passing ones in a row, and a successful live response in between
resets the count (`Instance.record_live_success`), so an instance answering real requests is
never taken out for slow probes. An instance out of the pool gets no traffic while another
is in it; with none healthy, traffic goes to them all (panic routing, `Service.pick`).
Probes use connections of their own, not the proxy's pool, so they never queue behind live
requests.
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
        unhealthy_after: int = 3,
        healthy_after: int = 2,
    ) -> None:
        self._registry = registry
        self._unhealthy_after = unhealthy_after
        self._healthy_after = healthy_after
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
        changed = instance.record_probe(
            healthy, unhealthy_after=self._unhealthy_after, healthy_after=self._healthy_after
        )
        if changed:
            log.info(
                "gateway_instance_health",
                service=instance.service,
                url=instance.url,
                healthy=instance.healthy,
            )
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
