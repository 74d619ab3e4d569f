"""CRM: people, companies, leads and deals of every tenant.

This part holds the records (with validated e-mails and phones, owners, tags and custom
fields), pipelines with ordered stages and the forecast, deals with their stage history,
activities with reminders, notes, one timeline per record, record-level access per tenant and
full-text search. Layout: models.py, schemas.py, repository.py and search.py (queries),
access.py (record-level rule), service/ (use cases), api/ + router.py (HTTP), auth.py
(permissions), events.py, exceptions.py, reminders.py (the sweeper), migrations/ (the `crm`
branch of the one Alembic history).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bizosaas.crm.auth import CRM_PERMISSIONS, CRM_ROLE_GRANTS
from bizosaas.crm.events import CRM_EVENTS
from bizosaas.crm.reminders import ReminderSweeper
from bizosaas.crm.router import router
from bizosaas.crm.service.consumers import record_order
from bizosaas.kit.events import Event
from bizosaas.kit.module import DomainModule, ModuleSettings, Services


class CrmSettings(ModuleSettings):
    reminder_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "How often a process that relays the outbox looks for due activity reminders "
            "(seconds); a reminder is mailed at most this long after its time."
        ),
    )


async def on_order_event(event: Event, services: Services) -> None:
    await record_order(services.database, event)


async def startup(services: Services) -> None:
    if not services.settings.outbox_relay_enabled:
        return
    settings = services.module_settings("crm", CrmSettings)
    services.run_in_background(
        "crm-reminders",
        ReminderSweeper(services.database, interval=settings.reminder_sweep_seconds),
    )


module = DomainModule(
    name="crm",
    title="CRM",
    router=router,
    migrations=Path(__file__).parent / "migrations",
    permissions=CRM_PERMISSIONS,
    role_grants=CRM_ROLE_GRANTS,
    events=CRM_EVENTS,
    # A pattern, not the exact name: the CRM works whether or not commerce declares orders.
    event_handlers={"commerce.order_*": on_order_event},
    settings=CrmSettings,
    startup=startup,
)

__all__ = ["module"]
