"""Identity test fixtures.

SQLite runs are the embedded mode (in-process cache, limits and session checks); PostgreSQL
runs are the scaled mode, with Redis for throttling counters and session revocation markers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from bizosaas.identity.events import MAIL_REQUESTED
from bizosaas.identity.membership import platform_admin
from bizosaas.identity.records.mail import Mailer
from bizosaas.identity.schemas import MailRead
from bizosaas.kit.db import Database
from bizosaas.kit.events import InProcessEventBus
from bizosaas.kit.outbox import OutboxRelay
from bizosaas.settings import Settings
from tests.support import handlers

PASSWORD = "correct horse battery staple"
API = "/api/brain/auth"


@dataclass
class Account:
    email: str
    password: str
    tenant_id: uuid.UUID
    tenant_slug: str
    user_id: uuid.UUID
    access_token: str
    refresh_token: str
    session_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


Register = Callable[..., Awaitable[Account]]


@pytest.fixture
def register(client: httpx.AsyncClient, database: Database, unique: str) -> Register:
    """Sign up through the API, confirm the address with the mailed link (unless `verified`
    is false) and log in: the account of a new tenant's admin. `mailer` delivers the sign-up's
    mail (default: the mail sink)."""
    counter = iter(range(1000))

    async def create(
        tenant_name: str = "Acme",
        email: str | None = None,
        password: str = PASSWORD,
        *,
        verified: bool = True,
        mailer: Mailer | None = None,
    ) -> Account:
        address = email or f"owner{next(counter)}-{unique}@example.com"
        response = await client.post(
            f"{API}/register",
            json={
                "email": address,
                "password": password,
                "full_name": "Test Owner",
                "tenant_name": f"{tenant_name} {unique}",
            },
        )
        assert response.status_code == 202, response.text
        await deliver_mail(database, mailer)  # the sign-up is carried out after the answer
        if verified:
            confirm = token_in((await mailbox(database, address.lower()))[0])
            confirmed = await client.post(f"{API}/email/verify/confirm", json={"token": confirm})
            assert confirmed.status_code == 204, confirmed.text
        signed_in = await login(client, address, password)
        assert signed_in.status_code == 200, signed_in.text
        tokens = signed_in.json()
        me = (await client.get(f"{API}/me", headers=bearer(tokens["access_token"]))).json()
        return Account(
            email=address.lower(),
            password=password,
            tenant_id=uuid.UUID(me["tenant"]["id"]),
            tenant_slug=me["tenant"]["slug"],
            user_id=uuid.UUID(me["user"]["id"]),
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            session_id=uuid.UUID(tokens["session_id"]),
        )

    return create


async def deliver_mail(database: Database, mailer: Mailer | None = None) -> None:
    """Relay committed outbox events to a bus carrying identity's handlers (as a worker
    would): sign-ups, reset requests and failed logins are carried out, and mail goes to
    `mailer`, by default one that stores every message in the sink of `database`."""
    bus = InProcessEventBus()
    bus.subscribe(MAIL_REQUESTED.name, (mailer or sink_mailer(database)).deliver)
    handlers.subscribe_identity_handlers(bus, database)
    await OutboxRelay(database, bus).drain()


def sink_mailer(database: Database) -> Mailer:
    """A mailer with no SMTP server: it keeps every message in the mail sink of `database`."""
    return Mailer(settings=Settings(smtp_host=None), database=database)


async def mailbox(database: Database, to: str) -> list[MailRead]:
    await deliver_mail(database)
    async with database.unit_of_work() as session:
        return await platform_admin.list_mail(session, to=to)


def token_in(message: MailRead) -> str:
    found = re.search(r"token=(\S+)", message.body)
    assert found, message.body
    return found.group(1)


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: object
) -> httpx.Response:
    return await client.post(f"{API}/login", json={"email": email, "password": password, **extra})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


Invite = Callable[..., Awaitable[Account]]


@pytest.fixture
def invite(client: httpx.AsyncClient, database: Database, unique: str) -> Invite:
    """Invite a new person into `owner`'s tenant with `role`, accept, and log them in."""
    counter = iter(range(1000))

    async def create(owner: Account, role: str, email: str | None = None) -> Account:
        address = email or f"{role}{next(counter)}-{unique}@example.com"
        sent = await client.post(
            f"{API}/invitations", json={"email": address, "role": role}, headers=owner.headers
        )
        assert sent.status_code == 201, sent.text
        token = token_in((await mailbox(database, address))[0])
        accepted = await client.post(
            f"{API}/invitations/accept",
            json={"token": token, "password": PASSWORD, "full_name": role.title()},
        )
        assert accepted.status_code == 201, accepted.text
        tokens = await login(client, address, tenant=owner.tenant_slug)
        assert tokens.status_code == 200, tokens.text
        pair = tokens.json()
        return Account(
            email=address,
            password=PASSWORD,
            tenant_id=owner.tenant_id,
            tenant_slug=owner.tenant_slug,
            user_id=uuid.UUID(accepted.json()["user"]["id"]),
            access_token=pair["access_token"],
            refresh_token=pair["refresh_token"],
            session_id=uuid.UUID(pair["session_id"]),
        )

    return create
