"""How many processes `up` and `serve` run: one per core when they share state (PostgreSQL
and Redis), else one; and with several HTTP processes, still one Temporal worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from bizosaas.kit.workers import available_cpus, default_workers
from bizosaas.settings import Settings
from tests.conftest import require
from tests.support import backends, processes
from tests.support.waiting import eventually

NOTES = "tests.support.notes:module"
"""Declares a workflow, so there is a Temporal worker to run."""


def test_default_workers_is_one_per_core_only_with_postgres_and_redis(tmp_path: Path) -> None:
    postgres = "postgresql://app@db:5432/bizosaas"
    redis = "redis://redis:6379/0"

    def settings(database: str | None, cache: str | None) -> Settings:
        return Settings(data_dir=tmp_path, database_url=database, redis_url=cache)

    assert default_workers(settings(None, None)) == 1
    assert default_workers(settings(None, redis)) == 1
    assert default_workers(settings(postgres, None)) == 1
    both = settings(postgres, redis)
    assert default_workers(both) == available_cpus() >= 1


def children(parent: int) -> dict[int, str]:
    """Every descendant process of `parent`: pid -> command line."""
    found: dict[int, str] = {}
    pending = [parent]
    while pending:
        current = pending.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(fields[1]) == current and int(entry.name) not in found:
                found[int(entry.name)] = command
                pending.append(int(entry.name))
    return found


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode().split("=", 1) for item in raw if b"=" in item)
    return {name: value for name, value in pairs}


@pytest.fixture
async def scaled_database() -> AsyncIterator[backends.DatabaseTarget]:
    admin_url = backends.postgres_admin_url()
    require(admin_url is not None, "PostgreSQL (BIZOSAAS_TEST_POSTGRES_URL)")
    require(backends.redis_test_url() is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    assert admin_url is not None
    # Empty: `up` migrates it, the notes module included, and grants the application role.
    empty = await backends.create_empty_postgres_database(admin_url)
    app_url = make_url(empty.owner_url).set(username=backends.APP_ROLE, password=None)
    target = backends.DatabaseTarget(
        backend="postgres",
        app_url=app_url.render_as_string(hide_password=False),
        owner_url=empty.owner_url,
    )
    try:
        yield target
    finally:
        await backends.drop_postgres_database(admin_url, target)


async def workflow_pollers(address: str) -> set[str]:
    client = await Client.connect(address)
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace="default",
            task_queue=TaskQueue(name="default"),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return {poller.identity for poller in answer.pollers}


@pytest.mark.slow
async def test_up_with_several_http_processes_runs_one_temporal_worker(
    scaled_database: backends.DatabaseTarget, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    redis_url = backends.redis_test_url()
    assert redis_url is not None
    temporal_port = processes.free_port()
    env = {
        **subprocess_env,
        "BIZOSAAS_LOG_LEVEL": "WARNING",
        "BIZOSAAS_EXTRA_MODULES": NOTES,
        "BIZOSAAS_DATABASE_URL": scaled_database.app_url,
        "BIZOSAAS_MIGRATION_DATABASE_URL": scaled_database.owner_url,
        "BIZOSAAS_REDIS_URL": redis_url,
        "BIZOSAAS_TEMPORAL_DEV_PORT": str(temporal_port),
    }
    port = processes.free_port()
    up = processes.start(["up", "--port", str(port), "--workers", "2"], env=env, cwd=tmp_path)
    try:
        processes.wait_healthy(f"http://127.0.0.1:{port}", up, timeout=120)
        address = f"127.0.0.1:{temporal_port}"
        pollers = await eventually(
            lambda: workflow_pollers(address), until=bool, what="a workflow poller"
        )
        # uvicorn's supervisor spawns the HTTP processes; `up` also starts the Temporal dev
        # server and one `bizosaas worker`.
        descendants = children(up.pid)
        workers = [pid for pid, command in descendants.items() if command.endswith(" worker ")]
        http = [pid for pid, command in descendants.items() if "spawn_main" in command]
        http_env = [environment_of(pid).get("BIZOSAAS_TEMPORAL_WORKER") for pid in http]
        pollers = await workflow_pollers(address)
    finally:
        processes.stop(up)
    output = (tmp_path / "server.log").read_text(errors="replace")
    assert "2 HTTP worker processes" in output
    assert len(http) == 2, descendants
    assert http_env == ["False", "False"], "the HTTP processes run no Temporal worker"
    assert len(workers) == 1, descendants
    assert {identity.split("@", 1)[0] for identity in pollers} == {str(workers[0])}
