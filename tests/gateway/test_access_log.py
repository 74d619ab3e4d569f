"""The access log names the request, the caller's tenant and user, the route and the latency."""

from __future__ import annotations

import httpx
from structlog.testing import capture_logs

from bizosaas.kit.observability import add_request_id, request_id_var


async def test_access_log_carries_tenant_user_and_latency(
    client: httpx.AsyncClient, unique: str
) -> None:
    registered = await client.post(
        "/api/brain/auth/register",
        json={
            "email": f"log-{unique}@example.com",
            "password": "correct horse battery staple",
            "full_name": "Log Owner",
            "tenant_name": f"Logged {unique}",
        },
    )
    assert registered.status_code == 201, registered.text
    body = registered.json()
    token = body["tokens"]["access_token"]
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
