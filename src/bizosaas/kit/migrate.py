"""Run Alembic migrations programmatically (the `bizosaas db` commands and the test harness).

Migrations run as the role that owns the tables (`BIZOSAAS_MIGRATION_DATABASE_URL`). On
PostgreSQL, when the application connects as a different role, `grant_app_role` gives that role
row access (never ownership), so row-level security applies to it.

One history: the platform's tree (`migrations/versions`) and the `migrations` folder of every
enabled module are Alembic version locations of the same script directory. A module's first
revision carries the module's name as its branch label and `depends_on` the platform revision
it needs, so `upgrade("heads")` brings the platform and every module up to date, and
`downgrade("notes@base")` takes one module out. `check_history` refuses, with one message
naming the module, a migrations folder that is missing or revisions that do not join.
"""

from __future__ import annotations

import asyncio
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError, to_tuple
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from bizosaas.kit.db import create_engine
from bizosaas.kit.module import DomainModule

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class MigrationRefused(RuntimeError):
    """A migration found the data in a state it cannot carry over and stopped, changing
    nothing; its message says why and what to do."""


class MigrationHistoryError(RuntimeError):
    """A module's migrations cannot join the platform's history; the message names it."""


def version_locations(modules: Sequence[DomainModule] = ()) -> list[Path]:
    return [MIGRATIONS_DIR / "versions"] + [m.migrations for m in modules if m.migrations]


def alembic_config(url: str, modules: Sequence[DomainModule] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    locations = os.pathsep.join(str(path) for path in version_locations(modules))
    config.set_main_option("version_locations", locations.replace("%", "%%"))
    # migrations/env.py reads the modules from here (the models of each are then imported).
    config.attributes["modules"] = list(modules)
    return config


_HISTORY_ERRORS = (RevisionError, CommandError, UserWarning, KeyError)
"""What loading an inconsistent history raises (Alembic only warns about a revision that
follows a missing one: it is an error here)."""


def _script(modules: Sequence[DomainModule]) -> ScriptDirectory:
    script = ScriptDirectory.from_config(alembic_config("sqlite://", modules))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for _revision in script.walk_revisions():  # loads and links every revision now
            pass
    return script


def check_history(modules: Sequence[DomainModule]) -> ScriptDirectory:
    """The script directory of the platform and `modules`, once every module's migrations are
    found to join the one history; `MigrationHistoryError` otherwise."""
    for module in modules:
        if module.migrations is not None and not module.migrations.is_dir():
            raise MigrationHistoryError(
                f"module {module.name!r} declares migrations in {module.migrations}, "
                "which is not a folder"
            )
    try:
        script = _script(modules)
    except _HISTORY_ERRORS as error:
        raise MigrationHistoryError(_culprit(modules, error)) from None
    for module in modules:
        _check_branch(script, module)
    return script


def _culprit(modules: Sequence[DomainModule], error: Exception) -> str:
    for module in modules:
        if module.migrations is None:
            continue
        try:
            _script([module])
        except _HISTORY_ERRORS as own_error:
            return (
                f"module {module.name!r}: the migrations in {module.migrations} do not join "
                f"the platform's history: {own_error}"
            )
    return f"the enabled modules' migrations do not join into one history: {error}"


def module_revisions(script: ScriptDirectory, module: DomainModule) -> list[Script]:
    """The revisions found in `module`'s migrations folder, newest first."""
    if module.migrations is None:
        return []
    folder = module.migrations.resolve()
    return [
        revision
        for revision in script.walk_revisions()
        if revision.path and Path(revision.path).resolve().parent == folder
    ]


def _check_branch(script: ScriptDirectory, module: DomainModule) -> None:
    if module.migrations is None:
        return
    for revision in module_revisions(script, module):
        if revision.down_revision is not None:
            continue
        if module.name not in revision.branch_labels:
            raise MigrationHistoryError(
                f"module {module.name!r}: its first revision {revision.revision} "
                f"({revision.path}) must carry the branch label {module.name!r}"
            )
        if not revision.dependencies:
            raise MigrationHistoryError(
                f"module {module.name!r}: its first revision {revision.revision} "
                f"({revision.path}) must name the platform revision it needs in `depends_on`"
            )


def _refuse_unknown_revisions(url: str, script: ScriptDirectory) -> None:
    unknown = [revision for revision in current_revisions(url) if not _known(script, revision)]
    if unknown:
        raise MigrationHistoryError(
            f"the database is at revision(s) {', '.join(unknown)}, which no enabled module "
            "provides: enable the module that owns them again (BIZOSAAS_EXTRA_MODULES), and "
            "downgrade it (`bizosaas db downgrade <module>@base`) before turning it off"
        )


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except (RevisionError, CommandError):
        return False


def upgrade(url: str, revision: str = "heads", *, modules: Sequence[DomainModule] = ()) -> None:
    """Upgrade to `revision` ("heads": the platform and every module in `modules`)."""
    _refuse_unknown_revisions(url, check_history(modules))
    command.upgrade(alembic_config(url, modules), revision)


def downgrade(url: str, revision: str = "-1", *, modules: Sequence[DomainModule] = ()) -> None:
    """Downgrade to `revision`. A relative step ("-1") needs one head to step from: with
    several (the platform's and modules'), name the branch (`notes@-1`) or a revision."""
    _refuse_unknown_revisions(url, check_history(modules))
    if revision.startswith("-") and len(heads := current_revisions(url)) > 1:
        raise MigrationRefused(
            f"the database is at several heads ({', '.join(heads)}): a step back needs one; "
            f"name a branch (for a module, `<module>@{revision}`) or a revision"
        )
    command.downgrade(alembic_config(url, modules), revision)


def new_revision(
    url: str,
    module: DomainModule,
    message: str,
    *,
    modules: Sequence[DomainModule],
    autogenerate: bool = False,
) -> Path:
    """Write a new revision file in `module`'s migrations folder: the module's first one opens
    its branch (labelled with its name, depending on the platform's head), later ones follow
    the branch's head. `autogenerate` compares the models with the database at `url`."""
    if module.migrations is None:
        raise MigrationHistoryError(f"module {module.name!r} declares no migrations folder")
    script = check_history(modules)
    existing = module_revisions(script, module)
    head, branch_label, depends_on = f"{module.name}@head", None, None
    if not existing:
        head, branch_label = "base", module.name
        depends_on = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    created = command.revision(
        alembic_config(url, modules),
        message,
        autogenerate=autogenerate,
        head=head,
        branch_label=branch_label,
        depends_on=depends_on,
        version_path=str(module.migrations),
        rev_id=f"{module.name.replace('-', '_')}_{len(existing) + 1:04d}",
    )
    assert isinstance(created, Script) and created.path
    return Path(created.path)


def current_revisions(url: str) -> tuple[str, ...]:
    """The revisions the database is at (one per head of the history it has applied)."""

    async def read() -> tuple[str, ...]:
        engine = create_engine(url, null_pool=True)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_revisions_of)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _revisions_of(connection: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def applied_revisions(url: str, modules: Sequence[DomainModule] = ()) -> tuple[str, ...]:
    """The newest applied revision of each branch (the platform's and each module's).

    Alembic's version table leaves out a revision that another applied one `depends_on` (a
    module depending on the platform's head stands for both); this puts it back, so the
    answer equals `head_revisions` when the database is up to date."""
    script = check_history(modules)
    current = current_revisions(url)
    known = tuple(revision for revision in current if _known(script, revision))
    applied: dict[str, Script] = {}
    pending = [r for r in script.revision_map.get_revisions(known) if isinstance(r, Script)]
    while pending:
        revision = pending.pop()
        if revision.revision in applied:
            continue
        applied[revision.revision] = revision
        below = to_tuple(revision.down_revision, default=()) + to_tuple(
            revision.dependencies, default=()
        )
        pending += [r for r in script.revision_map.get_revisions(below) if isinstance(r, Script)]
    followed = {
        parent
        for revision in applied.values()
        for parent in to_tuple(revision.down_revision, default=())
    }
    tips = set(applied) - followed
    return tuple(sorted(tips | (set(current) - set(known))))


def head_revisions(modules: Sequence[DomainModule] = ()) -> tuple[str, ...]:
    """The heads of the history made of the platform's tree and `modules`' folders."""
    return tuple(sorted(check_history(modules).get_heads()))


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
