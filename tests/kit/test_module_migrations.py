"""A module's migrations join the platform's one history: its branch is upgraded with the
platform's, can be taken out on its own, and a folder that does not join is refused clearly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bizosaas.kit import migrate
from bizosaas.kit.db import create_engine
from bizosaas.kit.module import DomainModule
from tests.support import broken_modules, notes
from tests.support.backends import DatabaseTarget

(PLATFORM_HEAD,) = migrate.head_revisions()
NOTES_HEAD = "notes_0001"


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _forces_row_level_security(url: str, table: str) -> bool:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class "
                        "WHERE relname = :table"
                    ),
                    {"table": table},
                )
            ).scalar_one()
            return bool(row)
    finally:
        await engine.dispose()


async def _upgrade(url: str, modules: list[DomainModule]) -> None:
    await asyncio.to_thread(migrate.upgrade, url, modules=modules)


async def _downgrade(url: str, revision: str, modules: list[DomainModule]) -> None:
    await asyncio.to_thread(migrate.downgrade, url, revision, modules=modules)


async def _current(url: str) -> tuple[str, ...]:
    return await asyncio.to_thread(migrate.current_revisions, url)


async def test_an_enabled_modules_migration_runs_with_the_platforms(
    empty_target: DatabaseTarget,
) -> None:
    url = empty_target.owner_url
    await _upgrade(url, [notes.module])
    assert "test_notes" in await _tables(url)
    assert await _current(url) == (PLATFORM_HEAD, NOTES_HEAD)
    assert migrate.head_revisions([notes.module]) == (PLATFORM_HEAD, NOTES_HEAD)
    if empty_target.backend == "postgres":
        assert await _forces_row_level_security(url, "test_notes")

    await _downgrade(url, "notes@base", [notes.module])
    tables = await _tables(url)
    assert "test_notes" not in tables and "tenants" in tables
    assert await _current(url) == (PLATFORM_HEAD,)

    await _upgrade(url, [notes.module])
    assert await _current(url) == (PLATFORM_HEAD, NOTES_HEAD)
    await _downgrade(url, "base", [notes.module])
    assert await _current(url) == ()
    assert await _tables(url) <= {"alembic_version"}


async def test_without_the_module_its_table_is_not_created(
    empty_target: DatabaseTarget,
) -> None:
    url = empty_target.owner_url
    await _upgrade(url, [])
    assert "test_notes" not in await _tables(url)
    assert await _current(url) == (PLATFORM_HEAD,)
    # Enabling the module later adds its branch to the same database.
    await _upgrade(url, [notes.module])
    assert "test_notes" in await _tables(url)


async def test_a_step_back_from_several_heads_asks_which(empty_target: DatabaseTarget) -> None:
    url = empty_target.owner_url
    await _upgrade(url, [notes.module])
    with pytest.raises(migrate.MigrationRefused, match="several heads") as refused:
        await _downgrade(url, "-1", [notes.module])
    assert "notes@-1" not in str(refused.value) and "<module>@-1" in str(refused.value)
    assert await _current(url) == (PLATFORM_HEAD, NOTES_HEAD)
    await _downgrade(url, "notes@-1", [notes.module])
    assert await _current(url) == (PLATFORM_HEAD,)


async def test_a_migrated_module_that_is_turned_off_is_named(
    empty_target: DatabaseTarget,
) -> None:
    url = empty_target.owner_url
    await _upgrade(url, [notes.module])
    with pytest.raises(migrate.MigrationHistoryError, match="notes_0001, which no enabled module"):
        await _upgrade(url, [])
    assert await _current(url) == (PLATFORM_HEAD, NOTES_HEAD)


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (broken_modules.migrations_missing, "no-such-folder, which is not a folder"),
        (broken_modules.migrations_unjoined, "must name the platform revision it needs"),
        (broken_modules.migrations_unlabelled, "must carry the branch label 'broken'"),
        (broken_modules.migrations_dangling, "do not join the platform's history"),
    ],
    ids=["missing", "unjoined", "unlabelled", "dangling"],
)
def test_migrations_that_do_not_join_the_history_are_refused_naming_the_module(
    broken: DomainModule, expected: str
) -> None:
    with pytest.raises(migrate.MigrationHistoryError) as error:
        migrate.check_history([notes.module, broken])
    message = str(error.value)
    assert message.startswith("module 'broken'") and expected in message


async def test_new_revisions_open_and_follow_the_modules_branch(
    empty_target: DatabaseTarget, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    drafts = DomainModule(name="drafts", migrations=folder)
    url = empty_target.owner_url
    first = migrate.new_revision(url, drafts, "Drafts", modules=[drafts])
    second = migrate.new_revision(url, drafts, "More drafts", modules=[drafts])
    assert (first.name, second.name) == ("drafts_0001_drafts.py", "drafts_0002_more_drafts.py")
    opening = first.read_text()
    assert "branch_labels: str | Sequence[str] | None = ('drafts',)" in opening
    assert f"depends_on: str | Sequence[str] | None = '{PLATFORM_HEAD}'" in opening
    assert "down_revision: str | None = 'drafts_0001'" in second.read_text()

    await _upgrade(url, [drafts])
    # The version table keeps drafts_0002 alone (it stands for the platform head it depends
    # on); the applied revisions name both branches, as the heads do.
    assert await _current(url) == ("drafts_0002",)
    applied = await asyncio.to_thread(migrate.applied_revisions, url, [drafts])
    assert applied == migrate.head_revisions([drafts]) == (PLATFORM_HEAD, "drafts_0002")
    await _downgrade(url, "drafts@-1", [drafts])
    applied = await asyncio.to_thread(migrate.applied_revisions, url, [drafts])
    assert applied == (PLATFORM_HEAD, "drafts_0001")
