"""Start and stop an ASGI app in-process for a test.

asgi_lifespan gives start-up and shutdown 5 s each by default; the whole suite shares two cores
with PostgreSQL, Redis and the Temporal dev server, and a platform that connects all of them
can take longer than that under load without anything being wrong. A real hang still fails.
"""

from __future__ import annotations

from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp

PATIENCE_SECONDS = 60.0


def app_lifespan(app: ASGIApp) -> LifespanManager:
    return LifespanManager(app, startup_timeout=PATIENCE_SECONDS, shutdown_timeout=PATIENCE_SECONDS)
