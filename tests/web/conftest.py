"""Fixtures for the web tests: the app over HTTP, a real server process and a real browser."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import client_address, require
from tests.support import backends, processes
from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    INSTALL_HINT,
    Server,
    Visitor,
    close_visitors,
    new_visitor,
)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client (asks for HTML, keeps cookies) from an address of its own, so
    per-address login limits of one test do not touch another."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client_address())
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
    ) as http:
        yield http


T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on an event loop of its own thread: Playwright's sync API may already
    run a loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[Server]:
    """`bizosaas up` in a fresh directory: migrates, seeds the demo data, serves.

    Every browser test runs twice: on the embedded SQLite file, and on a throw-away PostgreSQL
    database reached as a non-owner role, so the pages also run under row-level security.
    """
    workdir = tmp_path_factory.mktemp(f"web-server-{request.param}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIZOSAAS_")}
    env.update(PYTHONPATH=str(repo_root), BIZOSAAS_LOG_LEVEL="WARNING")
    admin_url = backends.postgres_admin_url() if request.param == "postgres" else None
    if request.param == "postgres":
        require(admin_url is not None, "PostgreSQL (BIZOSAAS_TEST_POSTGRES_URL)")
    # `up` serves the built-in modules only: the database holds their migrations alone.
    target = (
        run_apart(backends.create_postgres_database(admin_url, modules=())) if admin_url else None
    )
    if target is not None:
        env.update(
            BIZOSAAS_DATABASE_URL=target.app_url, BIZOSAAS_MIGRATION_DATABASE_URL=target.owner_url
        )
    port = processes.free_port()
    process = processes.start(["up", "--port", str(port)], env=env, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(url, process, timeout=90)
        data_dir = workdir / ".bizosaas"
        credentials = {}
        path = data_dir / "demo-credentials.txt"
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            who, login, password = line.split("\t")
            credentials[who] = (login, password)
        yield Server(url=url, data_dir=data_dir, credentials=credentials)
    finally:
        processes.stop(process)
        if admin_url and target is not None:
            run_apart(backends.drop_postgres_database(admin_url, target))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API runs an event loop of its own while open, which must
    # be closed before the asyncio tests of other modules run.
    if not CHROMIUM.exists():
        pytest.skip(INSTALL_HINT)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def visitor_factory(browser: Browser, server: Server) -> Iterator[Callable[[], Visitor]]:
    """Open browser profiles (separate cookie jars); the test fails if any page logged an
    error to the console or threw."""
    visitors: list[Visitor] = []

    def make() -> Visitor:
        visitor = new_visitor(browser, server.url)
        visitors.append(visitor)
        return visitor

    yield make
    errors = list(close_visitors(visitors))
    assert not errors, "pages reported errors:\n" + "\n".join(errors)


@pytest.fixture
def visitor(visitor_factory: Callable[[], Visitor]) -> Visitor:
    return visitor_factory()
