"""Load shedding: past the in-flight bound a request is answered 503 `gateway.overloaded` at
once (problem+json, Retry-After); health and metrics still answer; capacity comes back."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from prometheus_client import REGISTRY

from tests.gateway.conftest import GatewayFactory

HELD = "/api/brain/held-for-test"


def hold_requests(app: FastAPI) -> tuple[asyncio.Event, asyncio.Event]:
    """A route that stays in flight until released: (entered, release)."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def held() -> dict[str, str]:
        entered.set()
        await release.wait()
        return {"status": "done"}

    app.add_api_route(HELD, held, methods=["GET"])
    return entered, release


def shed_count() -> float:
    return REGISTRY.get_sample_value("bizosaas_gateway_shed_total") or 0.0


async def test_requests_beyond_the_bound_are_shed_as_problems(gateway: GatewayFactory) -> None:
    async with gateway(gateway_max_in_flight=1) as (app, client):
        entered, release = hold_requests(app)
        in_flight = asyncio.create_task(client.get(HELD))
        await asyncio.wait_for(entered.wait(), timeout=10)
        shed_before = shed_count()

        shed = await client.get("/api/brain/auth/me")
        health = await client.get("/api/brain/health")
        metrics = await client.get("/metrics")

        release.set()
        finished = await in_flight
        after = await client.get(HELD)

    assert shed.status_code == 503
    assert shed.headers["content-type"] == "application/problem+json"
    assert shed.headers["retry-after"] == "1"
    body = shed.json()
    assert body["code"] == "gateway.overloaded"
    assert body["status"] == 503 and body["instance"] == "/api/brain/auth/me"
    assert shed.headers["x-request-id"], "shed answers still carry the request id"
    assert shed_count() == shed_before + 1
    assert health.status_code == 200, "health is exempt"
    assert metrics.status_code != 503, "metrics is exempt"
    assert finished.status_code == 200 and finished.json() == {"status": "done"}
    assert after.status_code == 200, "capacity is back once the request in flight finished"


async def test_requests_within_the_bound_are_served(gateway: GatewayFactory) -> None:
    async with gateway(gateway_max_in_flight=3) as (app, client):
        entered, release = hold_requests(app)
        first = asyncio.create_task(client.get(HELD))
        await asyncio.wait_for(entered.wait(), timeout=10)
        second = await client.get("/api/brain/auth/me")
        release.set()
        assert (await first).status_code == 200
    assert second.status_code == 401, "below the bound the request reaches its route"
    assert second.json()["code"] == "auth.unauthenticated"


async def test_every_operation_documents_the_overloaded_answer(gateway: GatewayFactory) -> None:
    async with gateway() as (_app, client):
        spec = (await client.get("/api/brain/openapi.json")).json()
    me = spec["paths"]["/api/brain/auth/me"]["get"]["responses"]["503"]
    assert "gateway.overloaded" in me["description"]
    assert "application/problem+json" in me["content"]
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert all("503" in op["responses"] for op in operations)
