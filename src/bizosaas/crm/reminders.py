"""The reminder sweeper: a background part that mails due activity reminders
(`service.activities.send_due_reminders`) every few seconds, in every process that relays the
outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog

from bizosaas.crm.service.activities import send_due_reminders
from bizosaas.kit.db import Database
from bizosaas.kit.tasks import cancel_and_wait

log = structlog.get_logger(__name__)


class ReminderSweeper:
    def __init__(self, database: Database, *, interval: float) -> None:
        self._database = database
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="crm-reminders")

    async def _run(self) -> None:
        while True:
            try:
                await send_due_reminders(self._database, now=datetime.now(UTC))
            except Exception:
                # A failing sweep is retried at the next tick; the queue keeps what is due.
                log.exception("crm_reminder_sweep_failed")
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
