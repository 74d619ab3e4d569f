"""The service registry: self-registration with a service credential, heartbeats and TTLs,
sharing through Redis, and the admin endpoints (list, reload, drain)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from bizosaas.gateway.registry import DRAINED_KEY, INSTANCES_KEY, Registry, instance_id
from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import (
    bearer,
    echo_upstream,
    register_account,
    services_json,
    super_admin,
)
from tests.support import backends
from tests.support.clock import ManualClock
from tests.support.waiting import eventually, wait_until

SERVICE_TOKEN = "service-credential-for-tests-0123456789"
SERVICE = bearer(SERVICE_TOKEN)


def by_name(listing: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(service for service in listing if service["name"] == name)


async def test_services_list_is_for_super_admins(gateway: GatewayFactory) -> None:
    async with echo_upstream() as echo:
        services = services_json(echo={"urls": [echo.url], "health_path": "/health"})
        async with gateway(gateway_services=services) as (app, client):
            owner = await register_account(client)
            anonymous = await client.get("/api/brain/services")
            tenant_user = await client.get("/api/brain/services", headers=owner.headers)
            admin = await client.get(
                "/api/brain/services", headers=(await super_admin(app)).headers
            )
    assert anonymous.status_code == 401 and tenant_user.status_code == 403
    assert admin.status_code == 200
    listing = admin.json()
    assert by_name(listing, "notes")["kind"] == "local"
    remote = by_name(listing, "echo")
    assert remote["kind"] == "remote" and remote["health_path"] == "/health"
    [instance] = remote["instances"]
    assert instance["url"] == echo.url and instance["circuit"] == "closed"
    assert instance["source"] == "config" and instance["draining"] is False


async def test_self_registration_needs_the_service_credential(gateway: GatewayFactory) -> None:
    async with echo_upstream() as echo, gateway(service_token=SERVICE_TOKEN) as (app, client):
        admin = (await super_admin(app)).headers
        payload = {"name": "reports", "url": echo.url, "ttl": 30}
        missing = await client.post("/api/brain/registry/services", json=payload)
        wrong = await client.post(
            "/api/brain/registry/services", json=payload, headers=bearer("guess")
        )
        admin_token = await client.post("/api/brain/registry/services", json=payload, headers=admin)
        before = await client.get("/api/brain/reports/x")
        created = await client.post("/api/brain/registry/services", json=payload, headers=SERVICE)
        routed = await client.get("/api/brain/reports/x?y=1")
    assert [missing.status_code, wrong.status_code, admin_token.status_code] == [401, 401, 401]
    assert before.status_code == 404, "an unknown service is not routed"
    assert created.status_code == 201
    assert created.json()["service"] == "reports" and created.json()["ttl"] == 30
    assert routed.status_code == 200 and routed.json()["path"] == "/x?y=1"


async def test_registration_lives_its_ttl_and_heartbeats_extend_it() -> None:
    clock = ManualClock()
    registry = Registry(local=frozenset(), clock=clock)
    url = "http://127.0.0.1:9/jobs"
    instance = await registry.register("jobs", url, ttl=10)
    clock.advance(9.5)
    await registry.sync()
    assert registry.find("jobs", instance.id) is not None
    assert registry.describe()[0]["instances"][0]["expires_in"] == 0.5

    for _ in range(5):  # heartbeats keep it alive long past its first TTL
        assert await registry.heartbeat("jobs", instance.id, ttl=10)
        clock.advance(9.5)
        await registry.sync()
        assert registry.find("jobs", instance.id) is not None

    clock.advance(0.5)  # no more heartbeats: dropped the moment its TTL is over
    await registry.sync()

    assert registry.find("jobs", instance.id) is None
    assert await registry.heartbeat("jobs", instance.id, ttl=10) is False
    service = registry.remote("jobs")
    assert service is not None and service.pick() is None, "known, but with no instance"


async def test_registrations_expire_by_the_clock_through_redis(redis_client: Redis) -> None:
    """Registrations shared through Redis expire by the registering clock for every reader."""
    await redis_client.delete(INSTANCES_KEY, DRAINED_KEY)
    clock = ManualClock(start=float(int(time.time())))
    try:
        writer = Registry(local=frozenset(), redis=redis_client, clock=clock)
        reader = Registry(local=frozenset(), redis=redis_client, clock=clock)
        instance = await writer.register("jobs", "http://127.0.0.1:9", ttl=10)
        clock.advance(9.5)
        await reader.sync()
        assert reader.find("jobs", instance.id) is not None
        clock.advance(0.5)
        await reader.sync()
        assert reader.find("jobs", instance.id) is None
        assert await redis_client.hlen(INSTANCES_KEY) == 0, "the expired entry is removed"
    finally:
        await redis_client.delete(INSTANCES_KEY, DRAINED_KEY)


async def test_registration_expires_without_heartbeats(gateway: GatewayFactory) -> None:
    async with (
        echo_upstream() as echo,
        gateway(service_token=SERVICE_TOKEN, gateway_registry_sync_interval=0.05) as (_a, client),
    ):
        registered = await client.post(
            "/api/brain/registry/services",
            json={"name": "jobs", "url": echo.url, "ttl": 3600},
            headers=SERVICE,
        )
        heartbeat = "/api/brain/registry/services/jobs/instances/{}/heartbeat".format(
            registered.json()["id"]
        )
        alive = await client.get("/api/brain/jobs/x")
        # A heartbeat sets the TTL from now: a short one makes the instance expire soon.
        beat = await client.put(heartbeat + "?ttl=0.05", headers=SERVICE)
        expired = await eventually(
            lambda: client.get("/api/brain/jobs/x"),
            until=lambda response: response.status_code != 200,
            what="the registration's expiry",
        )
        late_beat = await client.put(heartbeat, headers=SERVICE)
    assert alive.status_code == 200 and beat.status_code == 204
    assert expired.status_code == 503
    assert expired.json()["code"] == "gateway.service_unavailable"
    assert expired.json()["service"] == "jobs"
    assert late_beat.status_code == 404, "an expired instance must register again"


async def shared_instances(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The instances of the service `shared` one gateway knows, by URL."""
    listing = (await client.get("/api/brain/services", headers=admin)).json()
    found = [service for service in listing if service["name"] == "shared"]
    return {i["url"]: i for i in found[0]["instances"]} if found else {}


async def test_registrations_and_drains_are_shared_through_redis(
    gateway: GatewayFactory, redis_client: Redis
) -> None:
    await redis_client.delete(INSTANCES_KEY, DRAINED_KEY)
    shared = {
        "service_token": SERVICE_TOKEN,
        "redis_url": backends.redis_test_url(),
        "gateway_registry_sync_interval": 0.05,
    }
    try:
        async with (
            echo_upstream() as first,
            echo_upstream() as second,
            gateway(**shared) as (_a, one),
            gateway(**shared) as (b, two),
        ):
            admin = (await super_admin(b)).headers
            for url in (first.url, second.url):
                answer = await one.post(
                    "/api/brain/registry/services",
                    json={"name": "shared", "url": url, "ttl": 3600},
                    headers=SERVICE,
                )
                assert answer.status_code == 201
            await eventually(
                lambda: shared_instances(two, admin),
                until=lambda instances: len(instances) == 2,
                what="the second gateway's sync",
            )
            seen_by_two = [await two.get("/api/brain/shared/x") for _ in range(4)]
            listing = (await two.get("/api/brain/services", headers=admin)).json()
            instance = next(
                i for i in by_name(listing, "shared")["instances"] if i["url"] == first.url
            )
            drained = await two.post(
                f"/api/brain/services/shared/instances/{instance['id']}/drain", headers=admin
            )
            await eventually(
                lambda: shared_instances(one, admin),
                until=lambda instances: instances[first.url]["draining"] is True,
                what="the first gateway's sync",
            )
            first.seen.clear()
            second.seen.clear()
            after_drain = [await one.get("/api/brain/shared/x") for _ in range(4)]
    finally:
        await redis_client.delete(INSTANCES_KEY, DRAINED_KEY)
    assert [r.status_code for r in seen_by_two] == [200] * 4
    assert drained.status_code == 200 and drained.json()["draining"] is True
    assert [r.status_code for r in after_drain] == [200] * 4
    assert first.seen == [] and len(second.seen) == 4, "the drained instance gets no traffic"


async def test_round_robin_spreads_and_drain_stops_traffic(gateway: GatewayFactory) -> None:
    async with echo_upstream() as a, echo_upstream() as b:
        services = services_json(rr={"urls": [a.url, b.url]})
        async with gateway(gateway_services=services) as (app, client):
            admin = (await super_admin(app)).headers
            for _ in range(6):
                assert (await client.get("/api/brain/rr/x")).status_code == 200
            assert len(a.seen) == 3 and len(b.seen) == 3
            listing = (await client.get("/api/brain/services", headers=admin)).json()
            ids = {i["url"]: i["id"] for i in by_name(listing, "rr")["instances"]}
            drain = f"/api/brain/services/rr/instances/{ids[a.url]}/drain"
            assert (await client.post(drain, headers=admin)).status_code == 200
            for _ in range(4):
                assert (await client.get("/api/brain/rr/x")).status_code == 200
            assert len(a.seen) == 3 and len(b.seen) == 7
            assert (await client.delete(drain, headers=admin)).json()["draining"] is False
            missing = await client.post(
                "/api/brain/services/rr/instances/nope/drain", headers=admin
            )
    assert missing.status_code == 404 and missing.json()["code"] == "gateway.instance_not_found"


async def test_least_outstanding_prefers_the_idle_instance(gateway: GatewayFactory) -> None:
    async with echo_upstream() as fast, echo_upstream() as slow:
        services = services_json(lo={"urls": [slow.url, fast.url], "balancer": "least_outstanding"})
        async with gateway(gateway_services=services) as (_app, client):
            stuck = asyncio.create_task(client.get("/api/brain/lo/hold"))
            await wait_until(lambda: bool(slow.seen or fast.seen), what="the held request")
            for _ in range(5):
                assert (await client.get("/api/brain/lo/x")).status_code == 200
            slow.release.set()
            fast.release.set()
            assert (await stuck).status_code == 200
    busy_one, idle_one = (slow, fast) if slow.seen[0]["path"].startswith("/hold") else (fast, slow)
    assert len(busy_one.seen) == 1, "nothing more goes to the instance with a request in flight"
    assert len(idle_one.seen) == 5


async def test_reload_reads_the_configuration_file_again(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    config = tmp_path / "gateway.json"
    async with echo_upstream() as echo:
        config.write_text(json.dumps({"services": {}}))
        async with gateway(gateway_config_file=config) as (app, client):
            owner = await register_account(client)
            before = await client.get("/api/brain/later/x")
            config.write_text(json.dumps({"services": {"later": {"urls": [echo.url]}}}))
            refused = await client.post("/api/brain/services/reload", headers=owner.headers)
            reloaded = await client.post(
                "/api/brain/services/reload", headers=(await super_admin(app)).headers
            )
            after = await client.get("/api/brain/later/x")
    assert before.status_code == 404
    assert refused.status_code == 403
    assert reloaded.status_code == 200 and by_name(reloaded.json(), "later")["kind"] == "remote"
    assert after.status_code == 200


async def test_circuit_state_is_exported_as_a_metric(gateway: GatewayFactory) -> None:
    async with echo_upstream() as echo:
        services = services_json(circ={"urls": [echo.url]})
        async with gateway(gateway_services=services, metrics_token="scrape-me") as (_app, client):
            metrics = (await client.get("/metrics", headers=bearer("scrape-me"))).text
    assert 'bizosaas_gateway_circuit_state{instance="' in metrics
    assert (
        REGISTRY.get_sample_value(
            "bizosaas_gateway_circuit_state",
            {"service": "circ", "instance": instance_id(echo.url)},
        )
        == 0
    )
