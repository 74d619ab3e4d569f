"""ASGI entry point for servers that import an app factory (`uvicorn --factory`, workers)."""

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
