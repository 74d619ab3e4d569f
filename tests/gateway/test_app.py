"""The gateway app: the module contract end to end, problem+json errors, health, metrics."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.gateway.conftest import GatewayFactory

TENANT_A = uuid.UUID("0195f3a0-0000-7000-8000-0000000000a1")
TENANT_B = uuid.UUID("0195f3a0-0000-7000-8000-0000000000b1")
PROBLEM = "application/problem+json"


def notes_url(tenant: uuid.UUID, suffix: str = "") -> str:
    return f"/api/brain/notes/tenants/{tenant}/notes{suffix}"


async def test_module_router_is_mounted_under_the_brain(client: httpx.AsyncClient) -> None:
    created = await client.post(notes_url(TENANT_A), json={"body": "hello"})
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["tenant_id"] == str(TENANT_A)

    listed = await client.get(notes_url(TENANT_A))
    assert [n["body"] for n in listed.json()] == ["hello"]
    assert (await client.get(notes_url(TENANT_A, f"/{note['id']}"))).status_code == 200


async def test_cross_tenant_read_answers_404(client: httpx.AsyncClient) -> None:
    created = (await client.post(notes_url(TENANT_A), json={"body": "mine"})).json()
    response = await client.get(notes_url(TENANT_B, f"/{created['id']}"))
    assert response.status_code == 404
    assert response.json()["code"] == "notes.not_found"
    assert (await client.get(notes_url(TENANT_B))).json() == []


async def test_openapi_docs_list_module_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/brain/openapi.json")).json()
    assert "/api/brain/notes/tenants/{tenant_id}/notes" in spec["paths"]
    assert "/api/brain/health" in spec["paths"]
    docs = await client.get("/api/brain/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/brain/nowhere", 404, "http.not_found"),
        ("DELETE", "/api/brain/health", 405, "http.method_not_allowed"),
    ],
)
async def test_framework_errors_are_problems(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"].endswith(code) and body["title"]


async def test_validation_errors_name_the_field_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(notes_url(TENANT_A), json={"body": ""})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "request.validation_failed"
    assert ["body", "body"] in [e["loc"] for e in body["errors"]]
    assert (await client.get(notes_url(TENANT_A))).json() == []


async def test_unexpected_error_is_500_without_internals(client: httpx.AsyncClient) -> None:
    with capture_logs() as logs:
        response = await client.get(
            "/api/brain/notes/boom", headers={"x-request-id": "req-12345678"}
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "internal_error" and body["request_id"] == "req-12345678"
    assert "secret internals" not in response.text and "Traceback" not in response.text
    errors = [entry for entry in logs if entry["event"] == "unhandled_error"]
    assert errors and errors[0]["exc_info"] is True
    access = [entry for entry in logs if entry["event"] == "request"]
    assert access[0]["status"] == 500 and access[0]["route"] == "/api/brain/notes/boom"


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/api/brain/health", headers={"x-request-id": "trace-abcdef12"})
    assert given.headers["x-request-id"] == "trace-abcdef12"
    made = await client.get("/api/brain/health", headers={"x-request-id": "bad id\n"})
    assert made.headers["x-request-id"] != "bad id\n" and len(made.headers["x-request-id"]) == 32


async def test_health_reports_components(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/brain/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["components"]["database"]["status"] == "ok"


async def test_health_is_503_naming_the_failed_component(settings: Settings) -> None:
    broken = Database.from_url("sqlite+aiosqlite:////nonexistent-dir/forbidden/db.sqlite")
    app: FastAPI = create_app(settings, database=broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/api/brain/health")
    await broken.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "health.component_down" and "database" in body["detail"]
    assert body["components"]["database"]["status"] == "down"


async def test_metrics_count_requests_per_route_template(gateway: GatewayFactory) -> None:
    labels = {
        "method": "GET",
        "route": "/api/brain/notes/tenants/{tenant_id}/notes",
        "status": "200",
    }
    before = REGISTRY.get_sample_value("bizosaas_http_requests_total", labels) or 0
    async with gateway(metrics_token="scrape-me") as (_app, client):
        await client.get(notes_url(TENANT_A))
        await client.get(notes_url(TENANT_B))
        after = REGISTRY.get_sample_value("bizosaas_http_requests_total", labels)
        scraped = await client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
    assert after == before + 2
    exposition = scraped.text
    assert "bizosaas_http_request_duration_seconds_bucket" in exposition
