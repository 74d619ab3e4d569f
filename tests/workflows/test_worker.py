"""The Temporal worker: every enabled module's workflows and activities, run by `bizosaas worker`
as its own process and by `up` inside the gateway process, with each tenant's data kept apart."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.kit.module import DomainModule, Services
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.settings import Settings
from bizosaas.workflows.devserver import TemporalDevServer
from bizosaas.workflows.runtime import connect
from bizosaas.workflows.worker import WorkerError, collect
from tests.support import processes
from tests.support.backends import DatabaseTarget
from tests.support.lifespan import app_lifespan
from tests.support.notes.models import Note
from tests.support.notes.workflows import CountNotes, NoteCount, NotesOfTenant

NOTES = "tests.support.notes:module"


async def _write_notes(database: Database, tenant: uuid.UUID, *bodies: str) -> None:
    async with database.unit_of_work(trusted_scope(tenant)) as session:
        session.add_all(Note(body=body) for body in bodies)


def _await_line(log: Path, text: str, process: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"exited ({process.returncode}): {log.read_text()}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} within {within:.0f}s: {log.read_text()}")


@pytest.mark.slow
async def test_worker_process_runs_a_workflow_over_its_tenants_notes_only(
    fresh_target: DatabaseTarget,
    temporal: TemporalDevServer,
    tmp_path: Path,
    subprocess_env: dict[str, str],
) -> None:
    shop, other = uuid.uuid4(), uuid.uuid4()
    database = Database.from_url(fresh_target.app_url)
    try:
        await _write_notes(database, shop, "first", "second")
        await _write_notes(database, other, "elsewhere")
    finally:
        await database.dispose()
    prefix = f"notes-{uuid.uuid4().hex[:8]}-"
    queue = prefix + "default"
    env = {
        **subprocess_env,
        "BIZOSAAS_DATA_DIR": str(tmp_path / "data"),
        "BIZOSAAS_DATABASE_URL": fresh_target.app_url,
        "BIZOSAAS_EXTRA_MODULES": NOTES,
        "BIZOSAAS_TEMPORAL_ADDRESS": temporal.address,
        "BIZOSAAS_LOG_FORMAT": "console",
        "BIZOSAAS_TEMPORAL_QUEUE_PREFIX": prefix,
    }
    worker = processes.start(
        ["worker", "--queue", "default", "--concurrency", "4"],
        env=env,
        cwd=tmp_path,
        log_name="w.log",
    )
    try:
        await asyncio.to_thread(_await_line, tmp_path / "w.log", "worker polling", worker, 60)
        client = await connect(temporal.address, "default")

        async def count(tenant: uuid.UUID) -> NoteCount:
            return await client.execute_workflow(
                CountNotes.run,
                NotesOfTenant(tenant_id=tenant),
                id=f"count-notes-{uuid.uuid4()}",
                task_queue=queue,
                execution_timeout=timedelta(seconds=60),
            )

        mine, theirs = await asyncio.gather(count(shop), count(other))
    finally:
        processes.stop(worker, timeout=30)
    assert mine == NoteCount(tenant_id=shop, count=2, bodies=["first", "second"])
    assert theirs == NoteCount(tenant_id=other, count=1, bodies=["elsewhere"])
    assert worker.returncode == 0, "SIGTERM stops the worker cleanly"
    log = (tmp_path / "w.log").read_text()
    assert "worker stopped" in log
    assert f"polling task queues {queue} " in log, "--queue default polls that workload only"


@pytest.mark.slow
async def test_up_runs_the_worker_inside_the_gateway_process(
    settings: Settings, database: Database, temporal: TemporalDevServer
) -> None:
    """What `bizosaas up` does: the gateway process also runs the modules' worker, sharing its
    database; it stops with the gateway."""
    shop, other = uuid.uuid4(), uuid.uuid4()
    prefix = f"embedded-{uuid.uuid4().hex[:8]}-"
    queue = prefix + "default"
    embedded = settings.model_copy(
        update={
            "temporal_address": temporal.address,
            "temporal_worker": True,
            "temporal_queue_prefix": prefix,
        }
    )
    await _write_notes(database, shop, "one")
    await _write_notes(database, other, "two", "three")
    app = create_app(embedded, database=database)
    async with app_lifespan(app):
        worker = app.state.temporal_worker
        assert worker.running
        assert worker.task_queues == [prefix + "default", prefix + "agents", prefix + "io"]
        result = await app.state.temporal.execute_workflow(
            CountNotes.run,
            NotesOfTenant(tenant_id=shop),
            id=f"count-notes-{uuid.uuid4()}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=60),
        )
    assert result == NoteCount(tenant_id=shop, count=1, bodies=["one"])
    assert not worker.running, "stopped with the gateway"


def test_worker_without_a_temporal_address_is_a_clear_error(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    env = {**subprocess_env, "BIZOSAAS_DATA_DIR": str(tmp_path), "BIZOSAAS_EXTRA_MODULES": NOTES}
    result = subprocess.run(
        [processes.BIZOSAAS, "worker"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "BIZOSAAS_TEMPORAL_ADDRESS is not set" in result.stderr


def test_worker_refuses_a_queue_that_is_no_workload(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    env = {
        **subprocess_env,
        "BIZOSAAS_DATA_DIR": str(tmp_path),
        "BIZOSAAS_EXTRA_MODULES": NOTES,
        "BIZOSAAS_TEMPORAL_ADDRESS": "127.0.0.1:1",
    }
    result = subprocess.run(
        [processes.BIZOSAAS, "worker", "--queue", "heavy"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        "BIZOSAAS_TEMPORAL_TASK_QUEUE: Input should be 'default', 'agents' or 'io'" in result.stderr
    )


def test_activities_are_built_around_the_process_services() -> None:
    seen: list[Services] = []

    async def fine() -> None:
        return None

    def blocking() -> None:
        return None

    def factory(
        *activities: Callable[..., Any],
    ) -> Callable[[Services], Sequence[Callable[..., Any]]]:
        def build(services: Services) -> Sequence[Callable[..., Any]]:
            seen.append(services)
            return activities

        return build

    services = Services(
        settings=Settings(),
        database=None,
        cache=None,
        bus=None,
        redis=None,  # type: ignore[arg-type]
    )
    workflows, activities = collect([DomainModule(name="a", activities=factory(fine))], services)
    assert (workflows, activities, seen) == ([], [fine], [services])
    with pytest.raises(WorkerError, match="'blocking' must be async"):
        collect([DomainModule(name="b", activities=factory(blocking))], services)
