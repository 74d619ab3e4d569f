"""Health checks and outlier detection behave like Envoy's: an instance leaves the pool only
after several failed probes in a row and not while it answers real requests; outlier
ejections grow longer each time; outlier detection never ejects a service's last instance.

Probes are driven by hand (`HealthChecker.probe`) against real upstream servers; the
checker's own loop only runs the first probe (its interval is far beyond the test)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from bizosaas.gateway.assembly import Gateway
from bizosaas.gateway.circuit import CircuitBreaker, CircuitState
from bizosaas.gateway.registry import Instance
from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import SwitchableUpstream, services_json, switchable_upstream
from tests.support.clock import ManualClock
from tests.support.waiting import wait_until

PATH = "/api/brain/busy/work"
QUIET_LOOP = {"gateway_health_interval": 300, "gateway_health_timeout": 1.0}
"""The checker's loop probes once at start-up and then not within the test."""


def runtime(app: FastAPI) -> Gateway:
    gateway: Gateway = app.state.gateway
    return gateway


def instances(app: FastAPI, service: str = "busy") -> list[Instance]:
    return list(runtime(app).registry.services[service].instances.values())


async def probe(app: FastAPI, instance: Instance) -> None:
    health = runtime(app).health
    assert health is not None
    await health.probe(instance)


def unavailable_answers(service: str) -> float:
    labels = {"service": service, "outcome": "unavailable"}
    return REGISTRY.get_sample_value("bizosaas_gateway_upstream_requests_total", labels) or 0.0


@contextlib.asynccontextmanager
async def busy_gateway(
    gateway: GatewayFactory, upstream: SwitchableUpstream, **settings: object
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Instance]]:
    services = services_json(busy={"urls": [upstream.url], "health_path": "/health"})
    async with gateway(gateway_services=services, **QUIET_LOOP, **settings) as (app, client):
        instance = instances(app)[0]
        await wait_until(lambda: instance.healthy is True, what="the start-up probe passing")
        yield app, client, instance


async def test_one_or_two_failed_probes_keep_the_instance_three_take_it_out(
    gateway: GatewayFactory,
) -> None:
    async with switchable_upstream() as sick, switchable_upstream() as well:
        services = services_json(busy={"urls": [sick.url, well.url], "health_path": "/health"})
        async with gateway(gateway_services=services, **QUIET_LOOP) as (app, client):
            first, second = instances(app)
            await wait_until(
                lambda: first.healthy is True and second.healthy is True,
                what="the start-up probes passing",
            )
            sick.health = "fail"
            await probe(app, first)
            await probe(app, first)
            after_two = (first.healthy, first.failed_probes, first.available())
            # No live request in between (one would reset the count): the third failed probe
            # in a row takes it out.
            await probe(app, first)
            after_three = first.healthy
            live_before = sick.live
            out = [await client.get(PATH) for _ in range(4)]
            sent_while_out = sick.live - live_before

            sick.health = "ok"
            await probe(app, first)
            after_one_pass = first.healthy
            await probe(app, first)
            back = [await client.get(PATH) for _ in range(4)]
    assert after_two == (True, 2, True)
    assert after_three is False
    assert [answer.status_code for answer in out] == [200] * 4, "the other instance serves"
    assert sent_while_out == 0
    assert after_one_pass is False, "two passing probes in a row bring it back"
    assert first.healthy is True
    assert [answer.status_code for answer in back] == [200] * 4
    assert sick.live == live_before + 2, "round robin includes it again"


async def test_with_no_instance_healthy_traffic_still_flows_panic_routing(
    gateway: GatewayFactory,
) -> None:
    """Health checks that fail everywhere are more likely wrong than every instance dead:
    the instances keep getting requests (Envoy's panic routing), so an alive upstream whose
    probes fail never turns into the gateway's 503s."""
    async with (
        switchable_upstream() as upstream,
        busy_gateway(gateway, upstream) as (app, client, instance),
    ):
        upstream.health = "fail"
        for _ in range(3):
            await probe(app, instance)
        out = instance.healthy
        unavailable_before = unavailable_answers("busy")
        answers = [await client.get(PATH) for _ in range(4)]
    assert out is False
    assert [answer.status_code for answer in answers] == [200] * 4
    assert unavailable_answers("busy") == unavailable_before
    assert upstream.live == 4


async def test_an_instance_answering_real_requests_is_not_taken_out_for_slow_probes(
    gateway: GatewayFactory,
) -> None:
    """The saturated module: its probes time out, its real requests are answered."""
    async with (
        switchable_upstream() as upstream,
        busy_gateway(gateway, upstream) as (app, client, instance),
    ):
        upstream.health = "slow"
        unavailable_before = unavailable_answers("busy")
        answers = []
        for _ in range(4):
            await probe(app, instance)
            await probe(app, instance)
            answers.append(await client.get(PATH))
        counts = (instance.failed_probes, instance.healthy)
        # Once the live traffic stops, the third slow probe in a row does take it out.
        await probe(app, instance)
        await probe(app, instance)
        await probe(app, instance)
        quiet = instance.healthy
    assert [answer.status_code for answer in answers] == [200] * 4
    assert counts == (0, True), "every live answer reset the failed-probe count"
    assert unavailable_answers("busy") == unavailable_before
    assert upstream.probes >= 11 and upstream.live == 4
    assert quiet is False


async def test_outlier_detection_ejects_one_of_two_failing_instances_never_both(
    gateway: GatewayFactory,
) -> None:
    async with switchable_upstream() as first, switchable_upstream() as second:
        first.live_status = second.live_status = 503
        services = services_json(busy={"urls": [first.url, second.url], "retries": 0})
        async with gateway(
            gateway_services=services,
            gateway_failure_threshold=2,
            gateway_open_seconds=3600,
            gateway_max_ejection_percent=50,
        ) as (app, client):
            unavailable_before = unavailable_answers("busy")
            answers = [await client.get(PATH) for _ in range(12)]
            states = sorted(i.circuit.state.value for i in instances(app))
            listing_ejections = sorted(i.circuit.ejections for i in instances(app))
    # Every answer is the instances' own 503 (no problem code): none came from the gateway
    # for want of an instance.
    assert [answer.status_code for answer in answers] == [503] * 12
    assert all("code" not in answer.json() for answer in answers)
    assert unavailable_answers("busy") == unavailable_before
    assert states == ["closed", "open"]
    assert listing_ejections == [0, 1]
    assert first.live + second.live == 12


async def test_outlier_detection_never_ejects_a_services_last_instance(
    gateway: GatewayFactory,
) -> None:
    async with switchable_upstream() as upstream:
        upstream.live_status = 502
        services = services_json(busy={"urls": [upstream.url], "retries": 0})
        async with gateway(
            gateway_services=services, gateway_failure_threshold=2, gateway_open_seconds=3600
        ) as (app, client):
            answers = [await client.get(PATH) for _ in range(6)]
            instance = instances(app)[0]
            upstream.live_status = 200
            recovered = await client.get(PATH)
    assert [answer.status_code for answer in answers] == [502] * 6
    assert upstream.live == 7, "every request reached the instance"
    assert instance.circuit.state is CircuitState.closed and instance.circuit.ejections == 0
    assert recovered.status_code == 200 and instance.circuit.failures == 0


async def test_max_ejection_percent_of_100_lets_the_last_instance_go(
    gateway: GatewayFactory,
) -> None:
    async with switchable_upstream() as upstream:
        upstream.live_status = 503
        services = services_json(busy={"urls": [upstream.url], "retries": 0})
        async with gateway(
            gateway_services=services,
            gateway_failure_threshold=2,
            gateway_open_seconds=3600,
            gateway_max_ejection_percent=100,
        ) as (_app, client):
            answers = [await client.get(PATH) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [503] * 4
    assert [answer.headers["content-type"] for answer in answers[2:]] == [
        "application/problem+json"
    ] * 2
    assert answers[-1].json()["code"] == "gateway.service_unavailable"
    assert upstream.live == 2


def test_each_ejection_lasts_longer_up_to_the_maximum() -> None:
    clock = ManualClock()
    circuit = CircuitBreaker(failure_threshold=2, open_seconds=10, max_open_seconds=35, clock=clock)
    periods: list[float] = []
    for _ in range(5):
        circuit.record_failure()
        circuit.record_failure()
        assert circuit.state is CircuitState.open
        opened = 0.0
        while circuit.state is CircuitState.open:
            clock.advance(1)
            opened += 1
        periods.append(opened)
        assert circuit.allows(), "half-open: one trial"
        circuit.acquire()
        circuit.record_success()
    assert periods == [10, 20, 30, 35, 35]
    assert circuit.ejections == 5


def test_a_failed_trial_ejects_again_for_longer() -> None:
    clock = ManualClock()
    circuit = CircuitBreaker(failure_threshold=1, open_seconds=10, clock=clock)
    circuit.record_failure()
    clock.advance(10)
    assert circuit.state is CircuitState.half_open
    circuit.acquire()
    circuit.record_failure()
    assert circuit.state is CircuitState.open and circuit.ejections == 2
    clock.advance(19)
    assert not circuit.allows()
    clock.advance(1)
    assert circuit.allows()


def test_time_back_in_service_steps_the_ejection_time_down() -> None:
    clock = ManualClock()
    circuit = CircuitBreaker(failure_threshold=1, open_seconds=10, clock=clock)
    for _ in range(3):
        circuit.record_failure()
        clock.advance(circuit.ejection_seconds)
        circuit.acquire()
        circuit.record_success()
    assert circuit.ejections == 3
    clock.advance(30)  # in service for as long as its last ejection
    circuit.record_failure()
    assert circuit.ejections == 3 and circuit.ejection_seconds == 30
    clock.advance(30)
    circuit.acquire()
    circuit.record_success()
    clock.advance(5)  # failing again soon after coming back: longer still
    circuit.record_failure()
    assert circuit.ejections == 4 and circuit.ejection_seconds == 40


def test_the_ejection_budget_is_asked_before_opening() -> None:
    allowed = [False]
    circuit = CircuitBreaker(failure_threshold=2, may_open=lambda: allowed[0])
    for _ in range(5):
        circuit.record_failure()
    assert circuit.state is CircuitState.closed and circuit.failures == 5
    allowed[0] = True
    circuit.record_failure()
    assert circuit.state is CircuitState.open and circuit.ejections == 1
