"""A real upstream process dies and comes back: 503s naming the service while it is down
(health checks take it out, visible to admins), and traffic again once it is up."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from bizosaas.gateway.app import create_app
from bizosaas.gateway.circuit import CircuitBreaker, CircuitState
from bizosaas.settings import Settings
from tests.conftest import NOTES_MODULE
from tests.gateway.support import (
    app_env,
    base_env,
    bearer,
    serve,
    start_bizosaas,
    stop,
    super_admin,
    wait_healthy,
)
from tests.support.backends import DatabaseTarget
from tests.support.clock import ManualClock
from tests.support.processes import free_port, kill_hard
from tests.support.waiting import eventually


async def services_listing(http: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    """The notes instance as the admin listing shows it."""
    listing = (await http.get("/api/brain/services", headers=admin)).json()
    notes = next(service for service in listing if service["name"] == "notes")
    return dict(notes["instances"][0])


async def serving(http: httpx.AsyncClient, path: str) -> None:
    """Wait until the gateway answers 200 for `path` (the instance is used again)."""
    await eventually(
        lambda: http.get(path),
        until=lambda response: response.status_code == 200,
        every=0.05,
        what=f"a 200 for {path}",
    )


def connect_errors() -> float:
    labels = {"service": "notes", "outcome": "connect_error"}
    return REGISTRY.get_sample_value("bizosaas_gateway_upstream_requests_total", labels) or 0.0


async def test_killed_upstream_answers_503_fast_and_recovers(
    isolated_target: DatabaseTarget, tmp_path: Path, repo_root: Path
) -> None:
    port = free_port()
    upstream = f"http://127.0.0.1:{port}/api/brain/notes"
    services = {"notes": {"urls": [upstream], "health_path": "/api/brain/health", "timeout": 5}}
    settings = Settings(
        argon2_memory_cost=7168,
        argon2_time_cost=1,
        data_dir=tmp_path / "gw",
        database_url=isolated_target.app_url,
        outbox_relay_enabled=False,
        log_format="console",
        log_level="WARNING",
        gateway_services=json.dumps(services),
        gateway_health_interval=0.25,
        gateway_unhealthy_threshold=2,
        gateway_healthy_threshold=2,
        gateway_failure_threshold=2,
        gateway_open_seconds=3600,
        metrics_token="scrape-me",
    )
    env = app_env(
        base_env(repo_root),
        database_url=isolated_target.app_url,
        extra_modules=NOTES_MODULE,
        data_dir=str(tmp_path / "split"),
    )
    notes_path = f"/api/brain/notes/tenants/{uuid.uuid4()}/notes"
    app: FastAPI = create_app(settings)
    process = start_bizosaas(["serve", "--only", "notes"], env=env, cwd=tmp_path, port=port)
    try:
        async with serve(app) as gateway, httpx.AsyncClient(base_url=gateway) as http:
            admin = (await super_admin(app)).headers
            await wait_healthy(process)
            await serving(http, notes_path)

            kill_hard(process.process)
            # The last instance of a service is not ejected by outlier detection, and with no
            # instance healthy traffic still goes to it (panic routing): each call tries it, a
            # refused connection, and answers 503 naming the service.
            answers = [await http.get(notes_path) for _ in range(3)]
            down = await eventually(
                lambda: services_listing(http, admin),
                until=lambda found: found["healthy"] is False,
                what="failed health checks taking the instance out",
            )
            tried_before = connect_errors()
            answers += [await http.get(notes_path) for _ in range(10)]
            tried_while_out = connect_errors() - tried_before
            assert [r.status_code for r in answers] == [503] * 13
            assert all(r.json()["code"] == "gateway.service_unavailable" for r in answers)
            assert all(r.json()["service"] == "notes" for r in answers)
            assert tried_while_out >= 10, "panic routing still tries the only instance"
            assert down["circuit"] == "closed", "outlier detection keeps the last instance"
            metrics = (await http.get("/metrics", headers=bearer("scrape-me"))).text
            assert (
                f'bizosaas_gateway_circuit_state{{instance="{down["id"]}",service="notes"}} 0.0'
                in metrics
            )

            process = start_bizosaas(["serve", "--only", "notes"], env=env, cwd=tmp_path, port=port)
            await wait_healthy(process)
            await serving(http, notes_path)
            up = await eventually(
                lambda: services_listing(http, admin),
                until=lambda found: found["healthy"] is True,
                what="passing health checks bringing the instance back",
            )
            assert up["circuit"] == "closed"
            assert up["latency_ms"] is not None
    finally:
        stop(process)


def test_open_circuit_waits_its_open_period_then_lets_one_trial_through() -> None:
    clock = ManualClock()
    changes: list[CircuitState] = []
    circuit = CircuitBreaker(
        failure_threshold=2, open_seconds=5, clock=clock, listener=changes.append
    )
    circuit.record_failure()
    assert circuit.allows(), "one failure is below the threshold"
    circuit.record_failure()
    assert circuit.state is CircuitState.open and not circuit.allows()

    clock.advance(4.5)
    assert not circuit.allows(), "still inside the open period"
    clock.advance(0.5)
    assert circuit.state is CircuitState.half_open and circuit.allows()
    circuit.acquire()
    assert not circuit.allows(), "a half-open circuit lets one trial through at a time"

    circuit.record_failure()  # the trial failed: a new, second ejection lasts twice as long
    assert circuit.state is CircuitState.open
    clock.advance(9.5)
    assert not circuit.allows()
    clock.advance(0.5)
    assert circuit.allows()
    circuit.acquire()
    circuit.record_success()
    assert circuit.state is CircuitState.closed and circuit.allows() and circuit.failures == 0
    assert changes == [
        CircuitState.open,
        CircuitState.half_open,
        CircuitState.open,
        CircuitState.half_open,
        CircuitState.closed,
    ]
