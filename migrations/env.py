"""Alembic environment: one migration tree for every module, run as the table owner."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import bizosaas.kit.meta
import bizosaas.kit.outbox
import bizosaas.modules  # imports every built-in module, so their models join the metadata
from bizosaas.kit.db import Base, create_engine

assert bizosaas.kit.meta and bizosaas.kit.outbox and bizosaas.modules

target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is set by bizosaas.kit.migrate"
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
