"""Start and stop an ASGI app in-process for a test.

asgi_lifespan gives start-up and shutdown 5 s each by default; the whole suite shares two cores
with PostgreSQL, Redis and the Temporal dev server, and a platform that connects all of them
can take longer than that under load without anything being wrong. A real hang still fails.

While the app runs, its services are named for its database (tests/support/handlers.py), so a
test that relays the outbox has identity's handlers act for this app, as its worker would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asgi_lifespan import LifespanManager

from tests.support import handlers

PATIENCE_SECONDS = 60.0


@asynccontextmanager
async def app_lifespan(app: Any) -> AsyncIterator[Any]:
    manager = LifespanManager(
        app, startup_timeout=PATIENCE_SECONDS, shutdown_timeout=PATIENCE_SECONDS
    )
    async with manager as running:
        state = getattr(app, "state", None)
        database = getattr(state, "database", None)
        services = getattr(state, "services", None)
        previous = handlers.running_services(database) if database is not None else None
        if database is not None and services is not None:
            handlers.app_started(database, services)
        try:
            yield running
        finally:
            if database is not None:
                handlers.app_stopped(database, previous)
