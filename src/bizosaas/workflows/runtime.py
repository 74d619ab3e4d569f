"""The Temporal client of a process: connected at start-up when an address is configured, and
reported as the `temporal` component of `/api/brain/health`.

Workflow and activity inputs and results are Pydantic models (the client's data converter
serialises them), so both ends of a workflow share one typed contract."""

from __future__ import annotations

import asyncio

import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bizosaas.kit.module import Services

log = structlog.get_logger(__name__)
CONNECT_TIMEOUT = 15.0
RETRY_DELAY_MAX = 1.0


async def connect(address: str, namespace: str, *, within: float = CONNECT_TIMEOUT) -> Client:
    """Connect to Temporal, trying again for `within` seconds: a server that is still starting
    (the dev server beside `bizosaas up`, or a cluster being restarted) refuses connections
    or answers "not healthy yet" for a few seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    delay = 0.1
    while True:
        remaining = deadline - loop.time()
        try:
            return await asyncio.wait_for(
                Client.connect(
                    address, namespace=namespace, data_converter=pydantic_data_converter
                ),
                timeout=max(remaining, 0.1),
            )
        except RuntimeError as error:  # the SDK's core reports connect failures this way
            if loop.time() + delay >= deadline:
                raise
            log.info("temporal_not_ready", address=address, error=str(error), retry_in=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_DELAY_MAX)


async def startup(services: Services) -> None:
    settings = services.settings
    if not settings.temporal_address:
        return
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    services.provide("temporal", client)

    async def check() -> None:
        if not await client.service_client.check_health():
            raise ConnectionError("Temporal reports not serving")

    services.add_health_check("temporal", check)
    log.info("temporal_connected", address=settings.temporal_address)
