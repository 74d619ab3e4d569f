"""The CRM as a module: its permissions and grants, and its migration branch (`crm_0001`
creates the tables under row-level security and the search structures; `crm@base` takes them
out again and leaves the platform's)."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect, text

from bizosaas import crm
from bizosaas.kit import migrate
from bizosaas.kit.db import create_engine
from bizosaas.kit.permissions import PermissionCatalogue, Role
from tests.support.backends import DatabaseTarget

CRM_TABLES = {
    "crm_people",
    "crm_companies",
    "crm_employments",
    "crm_leads",
    "crm_pipelines",
    "crm_stages",
    "crm_deals",
    "crm_stage_changes",
    "crm_activities",
    "crm_notes",
    "crm_custom_fields",
    "crm_access_policies",
    "crm_saved_views",
    "crm_reminders",
}


def test_permissions_and_role_grants() -> None:
    resources = {name.split(".")[1].split(":")[0] for name in crm.module.permissions}
    assert resources == {"contact", "deal", "pipeline", "activity", "field", "access"}
    catalogue = PermissionCatalogue.from_modules([crm.module])
    assert catalogue.role_covers(Role.staff, "crm.deal:write")
    assert catalogue.role_covers(Role.staff, "crm.contact:write")
    assert not catalogue.role_covers(Role.staff, "crm.pipeline:write")
    assert not catalogue.role_covers(Role.staff, "crm.access:write")
    assert catalogue.role_covers(Role.manager, "crm.access:write")
    assert not catalogue.role_covers(Role.client, "crm.contact:read")


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _forced_rls(url: str) -> set[str]:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity")
            )
            return set(rows.scalars())
    finally:
        await engine.dispose()


async def test_the_branch_upgrades_and_downgrades(empty_target: DatabaseTarget) -> None:
    url = empty_target.owner_url
    await asyncio.to_thread(migrate.upgrade, url, modules=[crm.module])
    tables = await _tables(url)
    assert tables >= CRM_TABLES
    if empty_target.backend == "postgres":
        assert await _forced_rls(url) >= CRM_TABLES - {"crm_reminders"}
    else:
        assert {"crm_people_search", "crm_deals_search"} <= tables

    await asyncio.to_thread(migrate.downgrade, url, "crm@base", modules=[crm.module])
    left = await _tables(url)
    assert not {table for table in left if table.startswith("crm_")}
    assert "tenants" in left
