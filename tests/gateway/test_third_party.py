"""A third-party upstream: a real Wagtail site (installed from its package, created in the
test's temporary directory and served by Django) behind the same routing as our services."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import bearer, super_admin
from tests.support.processes import free_port
from tests.support.waiting import eventually

SETTINGS = """
SECRET_KEY = "wagtail-test-site"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "cmsite.urls"
INSTALLED_APPS = [
    "wagtail.api.v2", "rest_framework", "wagtail.admin", "wagtail", "wagtail.sites",
    "wagtail.users", "wagtail.images", "wagtail.documents", "taggit", "modelcluster",
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_PATH}}
WAGTAIL_SITE_NAME = "BizOSaaS test site"
WAGTAILADMIN_BASE_URL = "http://localhost"
STATIC_URL = "/static/"
USE_TZ = True
MIDDLEWARE = []
"""

URLS = """
from django.urls import path
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet

api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", PagesAPIViewSet)
urlpatterns = [path("api/v2/", api_router.urls)]
"""


@dataclass
class WagtailSite:
    """The Wagtail site's Django server, which a test may stop and start again on its port."""

    root: Path
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None, "already running"
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            [*DJANGO, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError((self.root / "server.log").read_text(errors="replace")[-4000:])
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/api/v2/pages/", timeout=1).status_code == 200
        return False


DJANGO = [sys.executable, "-m", "django"]
STARTUP = 120.0
"""Seconds Django may take to start on a busy machine before the test counts it as stuck."""


@pytest.fixture(scope="session")
def wagtail_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WagtailSite]:
    root = tmp_path_factory.mktemp("wagtail")
    package = root / "cmsite"
    package.mkdir()
    (package / "__init__.py").write_text("")
    db_path = root / "db.sqlite3"
    (package / "settings.py").write_text(f"DB_PATH = {str(db_path)!r}\n" + SETTINGS)
    (package / "urls.py").write_text(textwrap.dedent(URLS))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cmsite.settings", "PYTHONPATH": str(root)}
    subprocess.run([*DJANGO, "migrate", "-v0"], env=env, cwd=root, check=True, timeout=300)
    site = WagtailSite(root=root, env=env, port=free_port())
    site.start()
    try:
        deadline = time.monotonic() + STARTUP
        while not site.answers():
            assert time.monotonic() < deadline, "the Wagtail site did not start"
            time.sleep(0.1)
        yield site
    finally:
        site.stop()


@contextlib.asynccontextmanager
async def cms_gateway(
    gateway: GatewayFactory, url: str, **settings: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    services = {
        "cms": {
            "urls": [f"{url}/api/v2"],
            "health_path": "/api/v2/pages/",
            "forward_credentials": False,
        }
    }
    async with gateway(gateway_services=json.dumps(services), **settings) as (app, client):
        yield app, client


async def test_wagtail_api_through_the_brain(gateway: GatewayFactory, wagtail_site: str) -> None:
    async with cms_gateway(gateway, wagtail_site.url) as (_app, client):
        listing = await client.get("/api/brain/cms/pages/?fields=title,slug")
        detail_id = listing.json()["items"][0]["id"]
        detail = await client.get(f"/api/brain/cms/pages/{detail_id}/")
        missing = await client.get("/api/brain/cms/pages/999999/")
        filtered = await client.get("/api/brain/cms/pages/?slug=no-such-page")
        with_token = await client.get("/api/brain/cms/pages/", headers=bearer("opaque-token"))
    assert listing.status_code == 200, listing.text
    assert listing.headers["content-type"] == "application/json"
    body = listing.json()
    assert body["meta"]["total_count"] >= 1
    assert body["items"][0]["title"] == "Welcome to your new Wagtail site!"
    assert body["items"][0]["meta"]["slug"] == "home"
    assert detail.status_code == 200 and detail.json()["id"] == detail_id
    assert missing.status_code == 404, "the third party's own answers pass through"
    assert filtered.json()["items"] == []
    assert with_token.status_code == 200
    assert listing.headers["x-content-type-options"] == "nosniff"


async def cms_instance(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    listing = (await client.get("/api/brain/services", headers=admin)).json()
    cms = next(service for service in listing if service["name"] == "cms")
    return dict(cms["instances"][0])


async def test_wagtail_stopped_then_back(
    gateway: GatewayFactory, wagtail_site: WagtailSite
) -> None:
    """Routing to the third party is as resilient as routing to our own services: Wagtail's
    process is stopped (callers get the gateway's 503 naming the service, health checks take
    it out)
    and started again on the same address (the gateway serves it again on its own)."""
    fast_checks = {"gateway_health_interval": 0.2, "gateway_unhealthy_threshold": 2}
    try:
        async with cms_gateway(gateway, wagtail_site.url, **fast_checks) as (app, client):
            admin = (await super_admin(app)).headers
            assert (await client.get("/api/brain/cms/pages/")).status_code == 200

            wagtail_site.stop()
            answers = [await client.get("/api/brain/cms/pages/") for _ in range(4)]
            down = await eventually(
                lambda: cms_instance(client, admin),
                until=lambda found: found["healthy"] is False,
                what="health checks taking the stopped site out",
            )

            wagtail_site.start()
            await eventually(
                lambda: asyncio.to_thread(wagtail_site.answers),
                until=bool,
                within=STARTUP,
                every=0.1,
                what="Wagtail answering again",
            )
            back = await eventually(
                lambda: client.get("/api/brain/cms/pages/"),
                until=lambda response: response.status_code == 200,
                what="the gateway serving Wagtail again",
            )
            up = await eventually(
                lambda: cms_instance(client, admin),
                until=lambda found: found["healthy"] is True,
                what="passing health checks bringing the site back",
            )
    finally:
        if wagtail_site.process is None:  # leave the session's site running for other tests
            wagtail_site.start()
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["code"] == "gateway.service_unavailable" and problem["service"] == "cms"
        assert answer.headers["retry-after"]
    assert down["url"] == f"{wagtail_site.url}/api/v2"
    assert back.json()["items"][0]["title"] == "Welcome to your new Wagtail site!"
    assert up["circuit"] == "closed" and up["healthy"] is True
