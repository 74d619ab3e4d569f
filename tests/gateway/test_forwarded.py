"""Forwarding headers count only from the configured trusted proxies."""

from __future__ import annotations

import json

import httpx
from structlog.testing import capture_logs

from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import register_account

NOTES = "/api/brain/notes/tenants/0195f3a0-0000-7000-8000-0000000000f2/notes"


def per_ip_limit(name: str, limit: str = "2/minute") -> str:
    return json.dumps({"rate_limits": [{"service": "notes", "limit": limit, "name": name}]})


async def session_ip(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    """The address identity recorded for a new sign-up's session."""
    account = await register_account_with(client, headers)
    sessions = await client.get("/api/brain/auth/sessions", headers=account)
    assert sessions.status_code == 200, sessions.text
    return str(sessions.json()[0]["ip"])


async def register_account_with(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> dict[str, str]:
    original = client.headers.copy()
    client.headers.update(headers)
    try:
        account = await register_account(client)
    finally:
        client.headers = original
    return account.headers


async def test_a_local_caller_cannot_choose_its_address(
    gateway: GatewayFactory, unique: str
) -> None:
    async with gateway(gateway_policies=per_ip_limit(unique)) as (_app, client):
        with capture_logs() as logs:
            answers = [
                (await client.get(NOTES, headers={"x-forwarded-for": f"1.2.3.{n}"})).status_code
                for n in range(2)
            ]
            answers.append(
                (await client.get(NOTES, headers={"forwarded": "for=1.2.3.9"})).status_code
            )
        recorded = await session_ip(client, {"x-forwarded-for": "1.2.3.4"})
        https = await client.get("/api/brain/health", headers={"x-forwarded-proto": "https"})
    assert answers == [200, 200, 429], "one budget: the forged addresses are not believed"
    access = [entry for entry in logs if entry["event"] == "request"]
    assert {entry["client"] for entry in access} == {"127.0.0.1"}
    assert recorded == "127.0.0.1"
    assert "strict-transport-security" not in https.headers, "the scheme is not believed either"


async def test_a_trusted_proxy_names_the_client(gateway: GatewayFactory, unique: str) -> None:
    trusted = ["127.0.0.1", "10.0.0.0/8"]
    async with gateway(gateway_policies=per_ip_limit(unique), trusted_proxies=trusted) as (
        _app,
        client,
    ):
        with capture_logs() as logs:
            answers = [
                (await client.get(NOTES, headers={"x-forwarded-for": f"1.2.3.{n}"})).status_code
                for n in range(3)
            ]
        chained = await session_ip(client, {"x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.1.2.3"})
        rfc7239 = await session_ip(
            client, {"forwarded": 'for="[2001:db8::1]:4711";proto=https, for=10.9.9.9'}
        )
        https = await client.get("/api/brain/health", headers={"x-forwarded-proto": "https"})
    assert answers == [200, 200, 200], "each client has its own budget"
    access = [entry for entry in logs if entry["event"] == "request"]
    assert [entry["client"] for entry in access] == ["1.2.3.0", "1.2.3.1", "1.2.3.2"]
    assert chained == "198.51.100.7", "the address left of the first untrusted hop is not believed"
    assert rfc7239 == "2001:db8::1"
    assert https.headers["strict-transport-security"].startswith("max-age=")
