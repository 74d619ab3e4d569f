"""What the workflow tests share: a committed database of their own (workers and requests run
in separate units of work, as in production, so the per-test rolled-back transaction would not
do), and an app that runs the modules' worker against the test run's Temporal dev server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from bizosaas.workflows.devserver import TemporalDevServer
from tests.support.lifespan import app_lifespan


def queue_prefix() -> str:
    """A queue prefix of its own, so one test's worker never takes another's tasks."""
    return f"t{uuid.uuid4().hex[:10]}-"


@asynccontextmanager
async def app_with_worker(
    settings: Settings, database: Database, temporal: TemporalDevServer, prefix: str
) -> AsyncIterator[FastAPI]:
    embedded = settings.model_copy(
        update={
            "temporal_address": temporal.address,
            "temporal_worker": True,
            "temporal_queue_prefix": prefix,
        }
    )
    app = create_app(embedded, database=database)
    # Start-up connects to Temporal and starts a worker per queue: on a busy machine that can
    # take longer than the lifespan manager's default 5 s.
    async with app_lifespan(app):
        yield app
