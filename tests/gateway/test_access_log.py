"""The access log names the request, the caller's tenant and user, the route and the latency."""

from __future__ import annotations

import httpx
from structlog.testing import capture_logs

from bizosaas.kit.observability import add_request_id, request_id_var
from tests.support.handlers import signed_up


async def test_access_log_carries_tenant_user_and_latency(
    client: httpx.AsyncClient, unique: str
) -> None:
    email = f"log-{unique}@example.com"
    registered = await client.post(
        "/api/brain/auth/register",
        json={
            "email": email,
            "password": "correct horse battery staple",
            "full_name": "Log Owner",
            "tenant_name": f"Logged {unique}",
        },
    )
    assert registered.status_code == 202, registered.text
    await signed_up(client)
    signed_in = await client.post(
        "/api/brain/auth/login",
        json={"email": email, "password": "correct horse battery staple"},
    )
    token = signed_in.json()["access_token"]
    body = (
        await client.get("/api/brain/auth/me", headers={"authorization": f"Bearer {token}"})
    ).json()
    with capture_logs() as logs:
        me = await client.get(
            "/api/brain/auth/me",
            headers={"authorization": f"Bearer {token}", "x-request-id": f"trace-{unique}"},
        )
    assert me.status_code == 200
    (entry,) = [e for e in logs if e["event"] == "request"]
    assert entry["route"] == "/api/brain/auth/me" and entry["status"] == 200
    assert entry["tenant_id"] == body["tenant"]["id"]
    assert entry["user_id"] == body["user"]["id"]
    assert entry["latency_ms"] >= 0
    assert entry["request_id"] == f"trace-{unique}"
    assert me.headers["x-request-id"] == f"trace-{unique}"


def test_lines_logged_while_a_request_is_handled_name_it() -> None:
    token = request_id_var.set("req-abcdef12")
    try:
        assert add_request_id(None, "info", {"event": "x"})["request_id"] == "req-abcdef12"
    finally:
        request_id_var.reset(token)
    assert "request_id" not in add_request_id(None, "info", {"event": "x"})
