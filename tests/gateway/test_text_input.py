"""Control characters in text input are refused with 422 everywhere, on every backend (on
PostgreSQL a NUL that reached the database would be a 500)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.gateway.support import PASSWORD, bearer, super_admin
from tests.support.handlers import signed_up

PROBLEM = "application/problem+json"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_up(**changes: str) -> dict[str, str]:
    return {
        "email": f"text-{uuid.uuid4().hex[:10]}@example.com",
        "password": PASSWORD,
        "full_name": "Text Tester",
        "tenant_name": f"Text {uuid.uuid4().hex[:8]}",
        **changes,
    }


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "request.validation_failed"
    assert ["body", field] in [error["loc"] for error in body["errors"]]
    assert "text.control_character" in [error["type"] for error in body["errors"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenant_name", "Acme\x00 Coffee"),
        ("full_name", "Ada\x1b[31m Lovelace"),
        ("full_name", "Ada\nLovelace"),
        ("tenant_name", "Acme\u2028Coffee"),
        ("password", "correct horse\x00battery staple"),
    ],
)
async def test_sign_up_refuses_control_characters(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    response = await client.post("/api/brain/auth/register", json=sign_up(**{field: value}))
    assert_refused(response, field)


async def test_a_refused_sign_up_creates_nothing(client: httpx.AsyncClient) -> None:
    details = sign_up(tenant_name="Nul\x00Tenant")
    assert (await client.post("/api/brain/auth/register", json=details)).status_code == 422
    login = await client.post(
        "/api/brain/auth/login", json={"email": details["email"], "password": PASSWORD}
    )
    assert login.status_code == 401


async def test_creating_a_tenant_refuses_a_nul(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await super_admin(app)
    response = await client.post(
        "/api/brain/auth/admin/tenants", json={"name": "Nul\x00Tenant"}, headers=admin.headers
    )
    assert_refused(response, "name")
    fine = await client.post(
        "/api/brain/auth/admin/tenants",
        json={"name": f"Fine tenant {uuid.uuid4().hex[:6]}"},
        headers=admin.headers,
    )
    assert fine.status_code == 201, fine.text


async def test_api_key_permissions_refuse_control_characters(
    client: httpx.AsyncClient,
) -> None:
    details = sign_up()
    assert (await client.post("/api/brain/auth/register", json=details)).status_code == 202
    await signed_up(client)
    signed_in = await client.post(
        "/api/brain/auth/login", json={"email": details["email"], "password": PASSWORD}
    )
    token = signed_in.json()["access_token"]
    response = await client.post(
        "/api/brain/auth/api-keys",
        json={"name": "ci", "permissions": ["identity.member:read\x00"]},
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert ["body", "permissions", "0"] in [e["loc"] for e in response.json()["errors"]]


async def test_the_schema_documents_the_rule(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/brain/openapi.json")).json()
    register = spec["components"]["schemas"]["RegisterRequest"]["properties"]
    assert "\\x00" in register["tenant_name"]["pattern"]


async def test_web_forms_refuse_control_characters(client: httpx.AsyncClient) -> None:
    page = await client.get("/login", headers={"accept": "text/html"})
    found = CSRF.search(page.text)
    assert found, "the sign-in page has a CSRF token"
    response = await client.post(
        "/login",
        data={"csrf_token": found.group(1), "email": "a\x00@example.com", "password": "x"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 422
    assert "control characters" in response.text
