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

import httpx
import pytest

from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import bearer
from tests.support.processes import free_port

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


@pytest.fixture(scope="session")
def wagtail_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("wagtail")
    package = root / "cmsite"
    package.mkdir()
    (package / "__init__.py").write_text("")
    db_path = root / "db.sqlite3"
    (package / "settings.py").write_text(f"DB_PATH = {str(db_path)!r}\n" + SETTINGS)
    (package / "urls.py").write_text(textwrap.dedent(URLS))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cmsite.settings", "PYTHONPATH": str(root)}
    django = [sys.executable, "-m", "django"]
    subprocess.run([*django, "migrate", "-v0"], env=env, cwd=root, check=True, timeout=300)
    port = free_port()
    log = (root / "server.log").open("ab")
    server = subprocess.Popen(
        [*django, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v2/pages/", timeout=1).status_code == 200:
                    break
            if server.poll() is not None:
                raise RuntimeError((root / "server.log").read_text())
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)


@contextlib.asynccontextmanager
async def cms_gateway(gateway: GatewayFactory, url: str) -> AsyncIterator[httpx.AsyncClient]:
    services = {
        "cms": {
            "urls": [f"{url}/api/v2"],
            "health_path": "/api/v2/pages/",
            "forward_credentials": False,
        }
    }
    async with gateway(gateway_services=json.dumps(services)) as (_app, client):
        yield client


async def test_wagtail_api_through_the_brain(gateway: GatewayFactory, wagtail_site: str) -> None:
    async with cms_gateway(gateway, wagtail_site) as client:
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


async def test_wagtail_stopped_then_back(gateway: GatewayFactory, wagtail_site: str) -> None:
    """Routing to the third party is as resilient as routing to our own services."""
    async with cms_gateway(gateway, wagtail_site) as client:
        assert (await client.get("/api/brain/cms/pages/")).status_code == 200
        dead = f"http://127.0.0.1:{free_port()}"
        async with cms_gateway(gateway, dead) as broken:
            answers = [await broken.get("/api/brain/cms/pages/") for _ in range(3)]
        await asyncio.sleep(0)
    assert {r.status_code for r in answers} == {503}
    assert answers[-1].json()["service"] == "cms"
