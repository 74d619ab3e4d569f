"""The Temporal client of a process: connected at start-up when an address is configured, and
reported as the `temporal` component of `/api/brain/health`."""

from __future__ import annotations

import asyncio

import structlog
from temporalio.client import Client

from bizosaas.kit.module import Services

log = structlog.get_logger(__name__)
CONNECT_TIMEOUT = 15.0


async def startup(services: Services) -> None:
    settings = services.settings
    if not settings.temporal_address:
        return
    client = await asyncio.wait_for(
        Client.connect(settings.temporal_address, namespace=settings.temporal_namespace),
        timeout=CONNECT_TIMEOUT,
    )
    services.provide("temporal", client)

    async def check() -> None:
        if not await client.service_client.check_health():
            raise ConnectionError("Temporal reports not serving")

    services.add_health_check("temporal", check)
    log.info("temporal_connected", address=settings.temporal_address)
