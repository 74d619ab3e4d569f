"""A small domain module that exists only in the tests, to prove the DomainModule contract
end to end: it is loaded as an extra module (`BIZOSAAS_EXTRA_MODULES=tests.support.notes:module`).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from sqlalchemy import func, select

from bizosaas.kit.events import Event
from bizosaas.kit.module import DomainModule, SeedContext, Services
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.support.notes import web
from tests.support.notes.events import NOTE_CREATED
from tests.support.notes.models import Note
from tests.support.notes.router import router
from tests.support.notes.settings import NotesSettings
from tests.support.notes.tools import toolset
from tests.support.notes.workflows import CountNotes, activities

DEMO_TENANT = uuid.UUID("00000000-0000-7000-8000-00000000d3e0")
DELIVERY_LOG_ENV = "BIZOSAAS_TEST_DELIVERY_LOG"


async def seed(context: SeedContext) -> None:
    await bind_tenant(context.session, trusted_scope(DEMO_TENANT))
    existing = await context.session.scalar(select(func.count()).select_from(Note))
    if not existing:
        context.session.add(Note(body="Welcome note"))
        context.say("created the welcome note")
    context.credentials.append(("Notes demo", "notes@example.com", "not-a-real-login"))


async def log_delivery(event: Event, services: Services) -> None:
    """Append the event id and its note to the delivery log (consumers are idempotent: readers
    dedupe)."""
    path = os.environ.get(DELIVERY_LOG_ENV)
    if path:
        created = NOTE_CREATED.parse(event)
        line = f"{event.id} {created.note_id}\n"
        await asyncio.to_thread(_append, path, line)


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)


async def delivery_log_writable(_services: Services) -> None:
    """Health: where deliveries are logged, the log's folder takes writes."""
    path = os.environ.get(DELIVERY_LOG_ENV)
    if path and not os.access(Path(path).parent, os.W_OK):
        raise PermissionError(f"cannot write the delivery log {path}")


PERMISSIONS = {"notes.note:read": "Read notes", "notes.note:write": "Write notes"}

module = DomainModule(
    name="notes",
    title="Notes (test module)",
    router=router,
    web=web.router,
    navigation=web.NAV_LINKS,
    templates=Path(__file__).parent / "templates",
    migrations=Path(__file__).parent / "migrations",
    permissions=PERMISSIONS,
    # Staff read notes; the platform's matrix alone would not let them.
    role_grants={Role.staff: ["notes.note:read"]},
    events=[NOTE_CREATED],
    event_handlers={NOTE_CREATED.name: log_delivery},
    workflows=[CountNotes],
    activities=activities,
    toolsets=[toolset],
    seed=seed,
    health_checks={"notes-delivery-log": delivery_log_writable},
    settings=NotesSettings,
)
