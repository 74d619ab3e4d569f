"""The OpenAPI document lists what each operation really answers, and a protected operation
authenticates before it reads the body."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }


async def test_every_operation_documents_its_errors_as_problems(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/api/brain/openapi.json")).json()
    found = operations(spec)
    assert len(found) > 40
    for (method, path), operation in found.items():
        responses = operation["responses"]
        assert "429" in responses, (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                content = response["content"]
                assert list(content) == [PROBLEM], (method, path, status)
                ref = content[PROBLEM]["schema"]["$ref"]
                assert ref.startswith("#/components/schemas/"), (method, path, status)
        if "{" in path:
            assert "404" in responses, (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in responses, (method, path)
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Problem"]["required"]) >= {"type", "title", "status", "detail", "code"}


async def test_credentials_and_permissions_are_read_from_the_dependencies(
    client: httpx.AsyncClient,
) -> None:
    found = operations((await client.get("/api/brain/openapi.json")).json())
    members = found[("GET", "/api/brain/auth/members")]
    assert {"401", "403"} <= set(members["responses"]) and members["security"] == [{"bearer": []}]
    register = found[("POST", "/api/brain/auth/register")]
    assert "401" not in register["responses"] and "security" not in register
    assert "409" not in register["responses"]  # sign-up does not tell who has an account
    invite = found[("POST", "/api/brain/auth/invitations")]
    assert invite["responses"]["409"]["content"][PROBLEM]["schema"]["$ref"] == PROBLEM_REF
    me = found[("GET", "/api/brain/auth/me")]
    assert "401" in me["responses"]
    health = found[("GET", "/api/brain/health")]
    assert "401" not in health["responses"] and "422" not in health["responses"]
    heartbeat = found[
        ("PUT", "/api/brain/registry/services/{service}/instances/{instance}/heartbeat")
    ]
    assert "401" in heartbeat["responses"] and "403" not in heartbeat["responses"]
    validation = register["responses"]["422"]["content"][PROBLEM]["schema"]["$ref"]
    assert validation == "#/components/schemas/ValidationProblem"


async def test_a_protected_operation_answers_401_before_reading_the_body(
    client: httpx.AsyncClient,
) -> None:
    for body, content_type in (
        (b"\xff\xfe\x00not utf-8", "application/json"),
        (b"{not json", "application/json"),
        (b"plain words", "text/plain"),
    ):
        for method, path in (
            ("POST", "/api/brain/auth/invitations"),
            ("POST", "/api/brain/auth/password/change"),
            ("POST", "/api/brain/registry/services"),
        ):
            response = await client.request(
                method, path, content=body, headers={"content-type": content_type}
            )
            assert response.status_code == 401, (path, body, response.text)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["code"] == "auth.unauthenticated"
    invalid = await client.post(
        "/api/brain/auth/invitations",
        content=b"\xff",
        headers={"content-type": "application/json", "authorization": "Bearer not-a-token"},
    )
    assert invalid.status_code == 401


async def test_a_public_operation_still_reads_its_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/brain/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
