"""Identity's event handlers, run when a test relays the outbox.

Test apps run with their outbox relay off, so a test decides when committed events are
handled (`tests.identity.conftest.deliver_mail`). Identity's handlers need the `Services` of
the app that wrote the events (its identity context: keys, throttle); the `app` fixture names
them here for its database while it runs.
"""

from __future__ import annotations

from functools import partial
from weakref import WeakKeyDictionary

import httpx
from fastapi import FastAPI

from bizosaas import identity
from bizosaas.identity.events import MAIL_REQUESTED
from bizosaas.kit.db import Database
from bizosaas.kit.events import EventBus, InProcessEventBus
from bizosaas.kit.module import Services
from bizosaas.kit.outbox import OutboxRelay

_RUNNING: WeakKeyDictionary[Database, Services] = WeakKeyDictionary()


def app_started(database: Database, services: Services) -> None:
    _RUNNING[database] = services


def app_stopped(database: Database, previous: Services | None = None) -> None:
    """The app of `database` stopped: `previous` (the app that ran on it before, if it still
    does) is named again."""
    if previous is None:
        _RUNNING.pop(database, None)
    else:
        _RUNNING[database] = previous


def running_services(database: Database) -> Services | None:
    return _RUNNING.get(database)


def subscribe_identity_handlers(bus: EventBus, database: Database) -> None:
    """Subscribe identity's handlers other than the mailer (sign-up, reset, failed login),
    bound to the services of the app running on `database`, if one is."""
    services = _RUNNING.get(database)
    if services is None:
        return
    for name, handler in identity.module.event_handlers.items():
        if name != MAIL_REQUESTED.name:
            bus.subscribe(name, partial(handler, services=services))


async def relay_app_outbox(app: FastAPI) -> None:
    """Relay the committed events of an in-process app whose relay is off, through identity's
    handlers (sign-ups, resets, failed logins; mail into the sink) bound to its services."""
    services: Services = app.state.services
    bus = InProcessEventBus()
    for name, handler in identity.module.event_handlers.items():
        bus.subscribe(name, partial(handler, services=services))
    await OutboxRelay(services.database, bus).drain()


def in_process_app(http: httpx.AsyncClient) -> FastAPI | None:
    """The app an in-process (ASGI) client drives, or None for a client of a served one."""
    transport = http._transport
    if isinstance(transport, httpx.ASGITransport) and isinstance(transport.app, FastAPI):
        return transport.app
    return None


async def signed_up(http: httpx.AsyncClient) -> None:
    """After a 202 from sign-up: carry out the sign-up now in an in-process app whose relay is
    off; a served gateway (or one with its relay on) does it by itself, moments later."""
    app = in_process_app(http)
    if app is not None and not app.state.services.settings.outbox_relay_enabled:
        await relay_app_outbox(app)
