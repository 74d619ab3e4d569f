"""A worker process killed (SIGKILL) in the middle of a review-and-publish run: another worker
picks the run up where it stood, the review is decided, and the publication (a row) happens
exactly once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.workflows import repository
from bizosaas.workflows.devserver import TemporalDevServer
from bizosaas.workflows.models import ApprovalDecision, ApprovalRequest
from bizosaas.workflows.publishing import ReviewAndPublish, ReviewAndPublishInput
from bizosaas.workflows.runtime import connect
from bizosaas.workflows.schemas import (
    DECIDE_UPDATE,
    ApprovalOutcome,
    ApprovalSpec,
    ApprovalStatus,
    DecisionInput,
    Requester,
    Subject,
    Verdict,
)
from tests.support import processes
from tests.support.backends import DatabaseTarget
from tests.support.notes.models import Note
from tests.support.waiting import eventually
from tests.workflows.support import queue_prefix
from tests.workflows.test_worker import NOTES, _await_line


async def _approval_of(database: Database, tenant: uuid.UUID) -> list[ApprovalRequest]:
    async with database.unit_of_work() as session:
        return list(await repository.list_approvals(session, scope=trusted_scope(tenant)))


@pytest.mark.slow
async def test_a_killed_worker_is_replaced_and_the_run_publishes_once(
    fresh_target: DatabaseTarget,
    temporal: TemporalDevServer,
    tmp_path: Path,
    subprocess_env: dict[str, str],
) -> None:
    tenant = uuid.uuid4()
    prefix = queue_prefix()
    env = {
        **subprocess_env,
        "BIZOSAAS_DATA_DIR": str(tmp_path / "data"),
        "BIZOSAAS_DATABASE_URL": fresh_target.app_url,
        "BIZOSAAS_EXTRA_MODULES": NOTES,
        "BIZOSAAS_TEMPORAL_ADDRESS": temporal.address,
        "BIZOSAAS_TEMPORAL_QUEUE_PREFIX": prefix,
        "BIZOSAAS_LOG_FORMAT": "console",
    }
    database = Database.from_url(fresh_target.app_url)
    first = processes.start(["worker"], env=env, cwd=tmp_path, log_name="first.log")
    second = None
    try:
        await asyncio.to_thread(_await_line, tmp_path / "first.log", "worker polling", first, 60)
        client = await connect(temporal.address, "default")
        handle = await client.start_workflow(
            ReviewAndPublish.run,
            ReviewAndPublishInput(
                tenant_id=tenant,
                review=ApprovalSpec(
                    subject=Subject(
                        kind="notes.note", id="launch", title="Publish the launch note"
                    ),
                    preview={"body": "We launch on Monday"},
                    requested_by=Requester(kind="user", id=str(uuid.uuid4())),
                    assignee_role="manager",
                    sla=timedelta(hours=1),
                ),
                publish_activity="notes.publish_note",
                payload={"body": "We launch on Monday"},
            ),
            id=f"{tenant}:review:{uuid.uuid4()}",
            task_queue=prefix + "default",
            execution_timeout=timedelta(minutes=5),
        )
        [pending] = await eventually(
            lambda: _approval_of(database, tenant), bool, what="the review request"
        )
        assert pending.status == ApprovalStatus.pending.value

        processes.kill_hard(first)  # mid-run: the review waits on a person
        second = processes.start(["worker"], env=env, cwd=tmp_path, log_name="second.log")
        await asyncio.to_thread(_await_line, tmp_path / "second.log", "worker polling", second, 60)

        manager = uuid.uuid4()
        decided: ApprovalOutcome = await client.get_workflow_handle(
            pending.workflow_id
        ).execute_update(
            DECIDE_UPDATE,
            DecisionInput(user_id=manager, roles=["manager"], verdict=Verdict.approve),
            result_type=ApprovalOutcome,
        )
        assert decided.status is ApprovalStatus.approved
        result = await handle.result()
    finally:
        if first.poll() is None:
            processes.kill_hard(first)
        if second is not None:
            processes.stop(second, timeout=30)
    try:
        async with database.unit_of_work(trusted_scope(tenant)) as session:
            notes = list(await session.scalars(select(Note)))
            decisions = list(await session.scalars(select(ApprovalDecision)))
            [row] = list(await session.scalars(select(ApprovalRequest)))
    finally:
        await database.dispose()
    assert result.review.status is ApprovalStatus.approved and result.published is not None
    assert [(str(n.id), n.body) for n in notes] == [
        (result.published["note_id"], "We launch on Monday")
    ], "published exactly once"
    assert [(d.user_id, d.verdict) for d in decisions] == [(manager, "approve")]
    assert row.status == "approved"
