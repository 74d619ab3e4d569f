"""ASGI entry point for servers that import an app factory (`uvicorn --factory`, workers).

Run it with the server's own forwarding-header handling off (`uvicorn --no-proxy-headers`,
as `bizosaas serve` does): the gateway believes `X-Forwarded-*` only from
`BIZOSAAS_TRUSTED_PROXIES`, and a server that rewrote the client address first (uvicorn
trusts 127.0.0.1 by default) would decide that before the gateway could.
"""

from __future__ import annotations

from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.kit.memory import tune_for_server
from bizosaas.kit.observability import configure_logging
from bizosaas.settings import LogFormat, load_settings


def app_from_environment() -> FastAPI:
    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_format is LogFormat.json)
    app = create_app(settings)
    tune_for_server(settings.gc_young_threshold)
    return app
