"""A real upstream process dies and comes back: fast 503s naming the service while it is
down (circuit open, visible to admins), and traffic again once health checks see it up."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
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
from tests.support.processes import free_port, kill_hard


def listing_instance(app_listing: list[dict[str, object]]) -> dict[str, object]:
    notes = next(s for s in app_listing if s["name"] == "notes")
    instances = notes["instances"]
    assert isinstance(instances, list)
    return dict(instances[0])


async def recovery_time(http: httpx.AsyncClient, path: str) -> float:
    """Seconds until the gateway answers 200 for `path` (the instance is used again)."""
    started = time.perf_counter()
    while time.perf_counter() - started < 5:
        if (await http.get(path)).status_code == 200:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway did not use the instance again")


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
        gateway_failure_threshold=2,
        gateway_open_seconds=30,
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
            assert await recovery_time(http, notes_path) < 1.0

            kill_hard(process.process)
            timings: list[float] = []
            answers: list[httpx.Response] = []
            for _ in range(10):
                started = time.perf_counter()
                answers.append(await http.get(notes_path))
                timings.append(time.perf_counter() - started)
            assert [r.status_code for r in answers] == [503] * 10
            assert all(r.json()["code"] == "gateway.service_unavailable" for r in answers)
            assert all(r.json()["service"] == "notes" for r in answers)
            assert max(timings) < 0.1, timings
            await asyncio.sleep(0.6)  # a health check round
            down = listing_instance((await http.get("/api/brain/services", headers=admin)).json())
            assert down["circuit"] == "open" and down["healthy"] is False
            metrics = (await http.get("/metrics", headers=bearer("scrape-me"))).text
            assert (
                f'bizosaas_gateway_circuit_state{{instance="{down["id"]}",service="notes"}} 2.0'
                in metrics
            )

            process = start_bizosaas(["serve", "--only", "notes"], env=env, cwd=tmp_path, port=port)
            await wait_healthy(process)
            recovered_in = await recovery_time(http, notes_path)
            assert recovered_in < 1.0, "health checks close the circuit within an interval"
            up = listing_instance((await http.get("/api/brain/services", headers=admin)).json())
            assert up["circuit"] == "closed" and up["healthy"] is True
            assert up["latency_ms"] is not None
    finally:
        stop(process)
