"""Workflow starts per second through the event path, and the time from an approval decision to
the workflow's next activity, on the embedded Temporal dev server with SQLite.

* starts/s: relayed events handed to the workflows module's starter (deterministic ids,
  USE_EXISTING / REJECT_DUPLICATE), against bare `client.start_workflow` calls with random ids
  in the same run (the baseline); median of the rounds. Target: at least 100/s.
* decision-to-resume: from sending the decision (the approval workflow's Update, which records
  it through an activity) to the first activity of the workflow that waited on it, against a
  bare Update round trip on a workflow that does nothing (the baseline); p50 and p99.
  Target: p50 under 50 ms.

The worker runs in this process with the approval workflow and two workflows of the bench's own
(unsandboxed: this script is `__main__`, which the sandbox cannot re-import), and with the
platform's run announcements (a local activity writing `workflows.run_changed` to the outbox as
each run starts and ends), as every worker of the platform has them.

Usage: .venv/bin/python bench/workflows_bench.py [--events 300] [--rounds 3] [--decisions 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bizosaas import workflows as workflows_package
from bizosaas.kit import migrate
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event
from bizosaas.kit.module import WorkflowTrigger
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.settings import Settings
from bizosaas.workflows import repository
from bizosaas.workflows.announce import AnnouncementActivities, RunAnnouncements
from bizosaas.workflows.approvals import ApprovalActivities, ApprovalWorkflow, require_approval
from bizosaas.workflows.devserver import TemporalDevServer
from bizosaas.workflows.runtime import connect
from bizosaas.workflows.schemas import (
    DECIDE_UPDATE,
    ApprovalOutcome,
    ApprovalSpec,
    DecisionInput,
    Requester,
    Subject,
    Verdict,
)
from bizosaas.workflows.starter import start_for

QUEUE = "default"
IN_FLIGHT = 20
RESUMED: dict[str, float] = {}


class Work(BaseModel):
    tenant_id: uuid.UUID
    approval_id: uuid.UUID | None = None
    linger: bool = False
    """Wait for the last poke before ending (the Update baseline)."""


@activity.defn(name="bench.mark")
async def mark(key: str) -> None:
    RESUMED[key] = time.perf_counter()


@workflow.defn(name="bench.Nothing")
class Nothing:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self, work: Work) -> None:
        if work.linger:
            await workflow.wait_condition(lambda: self._done)

    @workflow.update(name="bench.poke")
    async def poke(self, finish: bool) -> None:
        self._done = finish


@workflow.defn(name="bench.WaitsOnApproval")
class WaitsOnApproval:
    @workflow.run
    async def run(self, work: Work) -> None:
        assert work.approval_id is not None
        await require_approval(
            tenant_id=work.tenant_id,
            approval_id=work.approval_id,
            spec=ApprovalSpec(
                subject=Subject(kind="bench.item", id="1", title="Bench"),
                requested_by=Requester(kind="system", id="bench"),
                assignee_role="manager",
                sla=timedelta(hours=1),
            ),
        )
        await workflow.execute_activity(
            mark, str(work.approval_id), start_to_close_timeout=timedelta(seconds=30)
        )


def _event(tenant: uuid.UUID) -> Event:
    return Event(
        id=uuid.uuid4(), name="bench.happened", occurred_at=datetime.now(UTC), tenant_id=tenant
    )


TRIGGER = WorkflowTrigger(
    event="bench.happened",
    workflow="bench.Nothing",
    kind="bench",
    key=lambda event: str(event.id),
    input=lambda event: Work(tenant_id=event.tenant_id or uuid.uuid4()),
)


async def starts_per_second(client: Client, settings: Settings, count: int) -> tuple[float, float]:
    tenant = uuid.uuid4()
    events = [_event(tenant) for _ in range(count)]
    # As many starts in flight as a relay's handlers would have (one batch, a few processes).
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def through_starter(event: Event) -> None:
        async with gate:
            await start_for(client, settings, TRIGGER, event)

    async def bare_start() -> None:
        async with gate:
            await client.start_workflow(
                Nothing.run, Work(tenant_id=tenant), id=str(uuid.uuid4()), task_queue=QUEUE
            )

    began = time.perf_counter()
    await asyncio.gather(*(through_starter(event) for event in events))
    through_events = count / (time.perf_counter() - began)
    began = time.perf_counter()
    await asyncio.gather(*(bare_start() for _ in range(count)))
    bare = count / (time.perf_counter() - began)
    return through_events, bare


async def decision_to_resume(client: Client, database: Database, count: int) -> list[float]:
    tenant = uuid.uuid4()
    latencies = []
    for _ in range(count):
        approval_id = uuid.uuid4()
        handle = await client.start_workflow(
            WaitsOnApproval.run,
            Work(tenant_id=tenant, approval_id=approval_id),
            id=str(uuid.uuid4()),
            task_queue=QUEUE,
        )
        while True:
            async with database.unit_of_work() as session:
                row = await repository.get_approval(
                    session, scope=trusted_scope(tenant), approval_id=approval_id
                )
            if row is not None:
                break
            await asyncio.sleep(0.01)
        began = time.perf_counter()
        await client.get_workflow_handle(row.workflow_id).execute_update(
            DECIDE_UPDATE,
            DecisionInput(user_id=uuid.uuid4(), roles=["manager"], verdict=Verdict.approve),
            result_type=ApprovalOutcome,
        )
        await handle.result()
        latencies.append((RESUMED[str(approval_id)] - began) * 1000)
    return latencies


async def bare_updates(client: Client, count: int) -> list[float]:
    handle = await client.start_workflow(
        Nothing.run,
        Work(tenant_id=uuid.uuid4(), linger=True),
        id=str(uuid.uuid4()),
        task_queue=QUEUE,
    )
    latencies: list[float] = []
    for index in range(count):
        began = time.perf_counter()
        await handle.execute_update(Nothing.poke, index == count - 1)
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


async def _namespace_ready(client: Client) -> None:
    """A fresh dev server answers before its namespace exists: wait for it."""
    for _ in range(300):
        try:
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace="default")
            )
            return
        except RPCError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the dev server's namespace never appeared")


def _p(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


async def main(events: int, rounds: int, decisions: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await asyncio.to_thread(migrate.upgrade, url, modules=[workflows_package.module])
        server = TemporalDevServer(data_dir=Path(folder) / "temporal", port=0)
        server.start()
        database = Database.from_url(url)
        try:
            client = await connect(server.address, "default")
            await _namespace_ready(client)
            approvals = ApprovalActivities(database)
            announcements = AnnouncementActivities(database)
            worker = Worker(
                client,
                task_queue=QUEUE,
                workflows=[ApprovalWorkflow, Nothing, WaitsOnApproval],
                activities=[
                    approvals.open_request,
                    approvals.record_decision,
                    approvals.record_escalation,
                    approvals.close_request,
                    announcements.announce,
                    mark,
                ],
                # As in production: every run announces its start and end to its tenant.
                interceptors=[RunAnnouncements()],
                workflow_runner=UnsandboxedWorkflowRunner(),
                max_concurrent_activities=20,
                max_concurrent_workflow_tasks=20,
            )
            async with worker:
                settings = Settings()
                measured = [
                    await starts_per_second(client, settings, events) for _ in range(rounds)
                ]
                resume = await decision_to_resume(client, database, decisions)
                bare = await bare_updates(client, decisions)
        finally:
            await database.dispose()
            server.stop()
    through_events = statistics.median(m[0] for m in measured)
    baseline = statistics.median(m[1] for m in measured)
    print(f"workflow starts through the event path: {through_events:.0f}/s (median of {rounds})")
    print(f"bare client.start_workflow (baseline):   {baseline:.0f}/s")
    print(f"ratio event path / bare:                 {through_events / baseline:.2f}")
    print(
        f"decision -> next activity: p50 {_p(resume, 0.5):.1f} ms, p99 {_p(resume, 0.99):.1f} ms"
        f" ({decisions} decisions)"
    )
    print(
        f"bare Update round trip (baseline): p50 {_p(bare, 0.5):.1f} ms, p99 {_p(bare, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--decisions", type=int, default=40)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.rounds, arguments.decisions))
