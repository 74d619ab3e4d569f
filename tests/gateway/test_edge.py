"""Security headers, CORS allow-list and the body-size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import echo_upstream, serve, services_json

ORIGIN = "https://app.example.com"


async def test_security_headers_on_api_and_pages(gateway: GatewayFactory) -> None:
    async with gateway() as (_app, client):
        api = await client.get("/api/brain/health")
        https = await client.get("https://testserver/api/brain/health")
        docs = await client.get("/api/brain/docs")
        await_page = await client.get("/login")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in api.headers["content-security-policy"]
    assert "default-src 'none'" in api.headers["content-security-policy"]
    assert "strict-transport-security" not in api.headers, "HSTS only over https"
    assert https.headers["strict-transport-security"].startswith("max-age=")
    assert docs.status_code == 200
    policy = api.headers["permissions-policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy, feature
    for response in (https, docs, await_page):
        assert response.headers["permissions-policy"] == policy


async def test_cors_allows_only_listed_origins(gateway: GatewayFactory) -> None:
    async with gateway(gateway_cors_origins=[ORIGIN]) as (_app, client):
        preflight = await client.options(
            "/api/brain/health",
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        refused = await client.options(
            "/api/brain/health",
            headers={"origin": "https://evil.example", "access-control-request-method": "GET"},
        )
        simple = await client.get("/api/brain/health", headers={"origin": ORIGIN})
        other = await client.get("/api/brain/health", headers={"origin": "https://evil.example"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "authorization, content-type"
    assert refused.status_code == 403
    assert refused.json()["code"] == "cors.origin_not_allowed"
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in simple.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in other.headers


async def test_body_limit_refuses_large_bodies(gateway: GatewayFactory) -> None:
    limit = 64 * 1024
    async with echo_upstream() as echo:
        services = services_json(echo={"urls": [echo.url]})
        async with gateway(gateway_services=services, gateway_max_body_bytes=limit) as (_, c):
            declared = await c.post("/api/brain/echo/x", content=b"a" * (limit + 1))

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(20):
                    yield b"b" * 8192

            streamed = await c.post("/api/brain/echo/x", content=chunks())
            local = await c.post(
                "/api/brain/notes/tenants/0195f3a0-0000-7000-8000-0000000000a1/notes",
                content=b'{"body": "' + b"c" * limit + b'"}',
                headers={"content-type": "application/json"},
            )
            fine = await c.post("/api/brain/echo/x", content=b"a" * limit)
    for response in (declared, streamed, local):
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "http.payload_too_large"
    assert fine.status_code == 200
    assert all(seen["body_length"] <= limit for seen in echo.seen)


async def test_a_chunked_body_over_the_limit_is_413_and_changes_nothing(
    settings: Settings, database: Database
) -> None:
    """Over a real socket, a body with no Content-Length (Transfer-Encoding: chunked)."""
    limit = 16 * 1024
    notes = "/api/brain/notes/tenants/0195f3a0-0000-7000-8000-0000000000a9/notes"
    app = create_app(
        settings.model_copy(update={"gateway_max_body_bytes": limit}), database=database
    )

    def oversized_note() -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"body": "'
            for _ in range(8):
                yield b"n" * 4096
            yield b'"}'

        return chunks()

    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        json_api = await http.post(
            notes, content=oversized_note(), headers={"content-type": "application/json"}
        )
        page_form = await http.post(
            "/login",
            content=oversized_note(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        listed = await http.get(notes)
    for response in (json_api, page_form):
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.request.headers
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "http.payload_too_large"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert listed.json() == [], "nothing was processed"
