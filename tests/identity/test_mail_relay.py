"""Embedded mode end to end, on a SQLite engine (one writer at a time): the outbox relay hands
mail to the mailer, which stores it in the sink."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bizosaas.identity.events import MAIL_REQUESTED
from bizosaas.identity.membership import platform_admin
from bizosaas.identity.records import mail
from bizosaas.kit import migrate
from bizosaas.kit.db import Database
from bizosaas.kit.events import InProcessEventBus
from bizosaas.kit.outbox import OutboxRelay
from bizosaas.settings import Settings


async def test_relay_delivers_mail_to_the_sink(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    database = Database.from_url(url)
    try:
        bus = InProcessEventBus()
        bus.subscribe(
            MAIL_REQUESTED.name, mail.Mailer(settings=settings, database=database).deliver
        )
        async with database.unit_of_work() as session:
            mail.request_mail(session, to="someone@example.com", subject="Hello", body="Hi there")
        assert await OutboxRelay(database, bus).drain() == 1
        async with database.unit_of_work() as session:
            messages = await platform_admin.list_mail(session, to="someone@example.com")
        assert [(m.subject, m.transport, m.status) for m in messages] == [
            ("Hello", "sink", "stored")
        ]
    finally:
        await database.dispose()
