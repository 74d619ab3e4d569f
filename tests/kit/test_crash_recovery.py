"""SIGKILL during a burst of writes loses no committed row and no outbox event.

Run 1 serves with the relay off, so a backlog of events is certain; it is killed with SIGKILL
mid-burst. Run 2 starts with the relay on and must deliver the event of every committed note.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from bizosaas.kit.db import create_engine
from bizosaas.kit.outbox import OutboxEvent
from tests.support import processes
from tests.support.backends import DatabaseTarget
from tests.support.notes import DELIVERY_LOG_ENV

TENANT = uuid.UUID("0195f3a0-0000-7000-8000-00000000c0de")
WRITERS = 12


async def _burst(base_url: str, acknowledged: list[str], stop: asyncio.Event) -> None:
    async def writer(http: httpx.AsyncClient, number: int) -> None:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            try:
                response = await http.post(
                    f"/api/brain/notes/tenants/{TENANT}/notes",
                    json={"body": f"writer {number} note {sequence}"},
                )
            except httpx.HTTPError:
                return  # the server died mid-request: this write is unacknowledged
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])

    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        await asyncio.gather(*(writer(http, n) for n in range(WRITERS)))


async def _committed(target: DatabaseTarget) -> tuple[set[str], int, int]:
    """Committed note ids, note events, unpublished events (read as the owner: all tenants)."""
    engine = create_engine(target.owner_url, null_pool=True)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id FROM test_notes"))
            notes = {str(uuid.UUID(str(row[0]))) for row in rows}
            events = await connection.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.name == "notes.created")
            )
            pending = await connection.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
            )
    finally:
        await engine.dispose()
    return notes, int(events or 0), int(pending or 0)


@pytest.mark.slow
async def test_sigkill_loses_no_committed_write_or_event(
    fresh_target: DatabaseTarget, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    port = processes.free_port()
    base_url = f"http://127.0.0.1:{port}"
    delivery_log = tmp_path / "deliveries.log"
    env = {
        **subprocess_env,
        "BIZOSAAS_DATA_DIR": str(tmp_path / "data"),
        "BIZOSAAS_DATABASE_URL": fresh_target.app_url,
        "BIZOSAAS_EXTRA_MODULES": "tests.support.notes:module",
        "BIZOSAAS_LOG_LEVEL": "WARNING",
        "BIZOSAAS_OUTBOX_RELAY_ENABLED": "false",
        DELIVERY_LOG_ENV: str(delivery_log),
    }
    args = ["serve", "--port", str(port)]

    server = processes.start(args, env=env, cwd=tmp_path)
    acknowledged: list[str] = []
    try:
        await asyncio.to_thread(processes.wait_healthy, base_url, server)
        stop = asyncio.Event()
        burst = asyncio.create_task(_burst(base_url, acknowledged, stop))
        while len(acknowledged) < 150 and not burst.done():
            await asyncio.sleep(0.02)
        processes.kill_hard(server)  # mid-burst: requests are in flight
        stop.set()
        await burst
    finally:
        processes.kill_hard(server) if server.poll() is None else None

    notes, events, pending = await _committed(fresh_target)
    assert len(acknowledged) >= 150
    assert set(acknowledged) <= notes, "an acknowledged write was lost"
    assert events == len(notes), "every committed note has its outbox event"
    assert pending == len(notes), "run 1 relayed nothing, so all are pending"

    server = processes.start(
        args, env={**env, "BIZOSAAS_OUTBOX_RELAY_ENABLED": "true"}, cwd=tmp_path
    )
    try:
        await asyncio.to_thread(processes.wait_healthy, base_url, server)
        delivered: set[str] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not notes <= delivered:
            await asyncio.sleep(0.1)
            if delivery_log.exists():
                lines = delivery_log.read_text().split("\n")
                delivered = {line.split()[1] for line in lines if line.strip()}
    finally:
        processes.stop(server)
    assert notes <= delivered, f"{len(notes - delivered)} committed events never delivered"
    _, _, pending_after = await _committed(fresh_target)
    assert pending_after == 0
