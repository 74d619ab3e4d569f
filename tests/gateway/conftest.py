"""Gateway fixtures: an in-process gateway built from settings overrides, with a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.conftest import own_database
from tests.support.backends import DatabaseTarget
from tests.support.lifespan import app_lifespan

ISOLATED_POSTGRES_ONLY = pytest.mark.parametrize("isolated_target", ["postgres"], indirect=True)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def isolated_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseTarget]:
    """`own_database` for a whole module: servers that commit write nowhere other tests read."""
    async with own_database(request.param, tmp_path_factory.mktemp("isolated-db")) as target:
        yield target


GatewayFactory = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]


@pytest.fixture
def gateway(settings: Settings, database: Database) -> GatewayFactory:
    """`async with gateway(**settings_overrides) as (app, client)`: an in-process gateway with
    the real identity module (its authenticator checks every credential)."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        cheap_hashing = {"argon2_memory_cost": 7168, "argon2_time_cost": 1}
        values = {**settings.model_dump(), **cheap_hashing, **overrides}
        app = create_app(Settings.model_validate(values), database=database)
        async with app_lifespan(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield app, c

    return build
