"""Alembic environment: one history for the platform and every enabled module, run as the
table owner.

`bizosaas.kit.migrate` passes the enabled modules (and puts each module's `migrations` folder
among the version locations); run some other way, the modules come from the settings
(`BIZOSAAS_EXTRA_MODULES` included). A module is a Python package: loading it imports its
models, so the metadata below holds every enabled module's tables.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import bizosaas.kit.meta
import bizosaas.kit.outbox
from bizosaas.kit.db import Base, create_engine
from bizosaas.modules import enabled_modules
from bizosaas.settings import load_settings

assert bizosaas.kit.meta and bizosaas.kit.outbox

modules = context.config.attributes.get("modules")
if modules is None:
    modules = enabled_modules(load_settings())
context.config.attributes["modules"] = modules

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
