"""Who may read `/metrics`: the scraper with the token, or (embedded, no token) this machine."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from bizosaas.settings import Settings
from tests.gateway.conftest import GatewayFactory


async def scrape(app: FastAPI, client: tuple[str, int], **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get("/metrics", headers=headers)


async def test_with_a_token_only_its_bearer_reads_metrics(gateway: GatewayFactory) -> None:
    async with gateway(metrics_token="scrape-me-0123456789") as (app, _client):
        local = ("127.0.0.1", 5000)
        missing = await scrape(app, local)
        wrong = await scrape(app, local, authorization="Bearer scrape-me-012345678X")
        right = await scrape(
            app, ("203.0.113.5", 5000), authorization="Bearer scrape-me-0123456789"
        )
    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "metrics.unauthenticated"
        assert "bizosaas_http_requests_total" not in refused.text
    assert right.status_code == 200
    assert "bizosaas_http_requests_total" in right.text


async def test_without_a_token_metrics_stay_on_this_machine(
    gateway: GatewayFactory, settings: Settings
) -> None:
    async with gateway() as (app, _client):
        local = await scrape(app, ("127.0.0.1", 5000))
        relayed = await scrape(app, ("127.0.0.1", 5000), **{"x-forwarded-for": "127.0.0.1"})
        remote = await scrape(app, ("203.0.113.5", 5000))
    assert relayed.status_code == 404, "a local proxy does not pass the outside world through"
    assert remote.status_code == 404
    assert remote.headers["content-type"] == "application/problem+json"
    if settings.uses_postgres:
        assert local.status_code == 404, "scaled mode serves metrics only with a token"
    else:
        assert local.status_code == 200
        assert "bizosaas_http_requests_total" in local.text
