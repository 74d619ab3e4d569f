"""Run Alembic migrations programmatically (the `bizosaas db` commands and the test harness).

Migrations run as the role that owns the tables (`BIZOSAAS_MIGRATION_DATABASE_URL`). On
PostgreSQL, when the application connects as a different role, `grant_app_role` gives that role
row access (never ownership), so row-level security applies to it.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from bizosaas.kit.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationRefused(RuntimeError):
    """A migration found the data in a state it cannot carry over and stopped, changing
    nothing; its message says why and what to do."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "-1") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(url, null_pool=True)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_revision_of)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def app_role_statements(role: str, *, password: str | None = None) -> list[str]:
    """DDL that creates (if needed) a login role that is neither owner nor superuser and may
    read and write rows of every current and future table of the schema."""
    if not _ROLE_NAME.match(role):
        raise ValueError(f"invalid role name {role!r}")
    create = f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
    if password:
        escaped = password.replace("'", "''")
        create += f" PASSWORD '{escaped}'"
    return [
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '"
        + role
        + "') THEN EXECUTE '"
        + create.replace("'", "''")
        + "'; END IF; END $$",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def grant_app_role(owner_url: str, role: str, *, password: str | None = None) -> None:
    async def run() -> None:
        engine = create_engine(owner_url, null_pool=True)
        try:
            async with engine.begin() as connection:
                for statement in app_role_statements(role, password=password):
                    await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


def role_of(url: str) -> str | None:
    return make_url(url).username
