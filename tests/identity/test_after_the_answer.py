"""Sign-up, password reset and failed logins do the same work in the request whatever the
address, and leave what only an account has to identity's event handlers, after the answer:
the request records one event (the address sealed), the handler carries it out once, however
often the event is delivered."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from bizosaas.identity.events import (
    LOGIN_FAILED,
    PASSWORD_RESET_REQUESTED,
    SIGN_UP_REQUESTED,
)
from bizosaas.identity.membership import account, registration
from bizosaas.identity.models import MailMessage, Tenant, User
from bizosaas.identity.sessions import login_attempts
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.events import Event
from bizosaas.kit.outbox import OutboxEvent
from bizosaas.settings import Settings
from tests.identity.conftest import (
    API,
    PASSWORD,
    Register,
    deliver_mail,
    login,
    mailbox,
)


def sign_up(email: str, **changes: str) -> dict[str, str]:
    return {
        "email": email,
        "password": PASSWORD,
        "full_name": "Someone",
        "tenant_name": "Later Ltd",
        **changes,
    }


async def pending(database: Database, name: str) -> list[Event]:
    """Committed, not yet relayed events named `name`, oldest first."""
    async with database.unit_of_work() as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.name == name, OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
        )
        return [row.to_event() for row in rows]


async def count(database: Database, model: type[User] | type[MailMessage]) -> int:
    async with database.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def user_named(database: Database, email: str) -> User | None:
    async with database.unit_of_work() as session:
        return await session.scalar(select(User).where(User.email == email))


async def test_sign_up_is_carried_out_after_the_answer_and_once(
    client: httpx.AsyncClient, app: FastAPI, database: Database, unique: str
) -> None:
    email = f"later-{unique}@example.com"
    answer = await client.post(f"{API}/register", json=sign_up(email))
    assert answer.status_code == 202, answer.text
    assert await user_named(database, email) is None  # nothing yet but the event
    (event,) = await pending(database, SIGN_UP_REQUESTED.name)
    assert set(event.payload) == {"sealed"}
    assert email not in event.payload["sealed"] and "Later" not in event.payload["sealed"]

    # Every process hears the bus, and delivery is at-least-once: twice changes nothing more.
    await registration.complete_sign_up(event, app.state.services)
    await registration.complete_sign_up(event, app.state.services)
    created = await user_named(database, email)
    assert created is not None and created.email_verified_at is None
    (confirmation,) = await mailbox(database, email)
    assert confirmation.subject == "Confirm your e-mail address"
    assert (await login(client, email)).status_code == 200


async def test_a_taken_address_costs_the_request_the_same_and_mails_its_owner_once(
    client: httpx.AsyncClient,
    app: FastAPI,
    register: Register,
    database: Database,
    unique: str,
) -> None:
    owner = await register()
    users_before = await count(database, User)
    taken = await client.post(
        f"{API}/register", json=sign_up(owner.email, password="another long passphrase")
    )
    fresh = await client.post(f"{API}/register", json=sign_up(f"fresh-{unique}@example.com"))
    assert taken.status_code == fresh.status_code == 202 and taken.content == fresh.content
    events = await pending(database, SIGN_UP_REQUESTED.name)
    assert len(events) == 2 and all(set(e.payload) == {"sealed"} for e in events)

    await registration.complete_sign_up(events[0], app.state.services)
    await registration.complete_sign_up(events[0], app.state.services)
    await deliver_mail(database)
    assert await count(database, User) == users_before + 1  # the fresh address only
    tried = [m for m in await mailbox(database, owner.email) if "tried" in m.subject]
    assert len(tried) == 1
    assert (await login(client, owner.email, "another long passphrase")).status_code == 401


async def test_reset_requests_record_the_same_sealed_event_and_mail_only_an_account(
    client: httpx.AsyncClient,
    app: FastAPI,
    register: Register,
    database: Database,
    unique: str,
) -> None:
    owner = await register()
    nobody = f"nobody-{unique}@example.com"
    mails_before = await count(database, MailMessage)
    answers = [
        await client.post(f"{API}/password/reset/request", json={"email": address})
        for address in (owner.email, nobody)
    ]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].content == answers[1].content
    known, unknown = await pending(database, PASSWORD_RESET_REQUESTED.name)
    for event, address in ((known, owner.email), (unknown, nobody)):
        assert set(event.payload) == {"sealed"} and address not in event.payload["sealed"]

    for event in (known, known, unknown):
        await account.send_reset_link(event, app.state.services)
    await deliver_mail(database)
    assert await count(database, MailMessage) == mails_before + 1
    (reset,) = [m for m in await mailbox(database, owner.email) if "Reset" in m.subject]
    assert "token=" in reset.body
    assert await mailbox(database, nobody) == []


async def test_a_failed_login_is_audited_after_the_answer_and_an_unknown_one_leaves_no_row(
    client: httpx.AsyncClient,
    app: FastAPI,
    register: Register,
    database: Database,
    unique: str,
) -> None:
    owner = await register()
    users_before, mails_before = await count(database, User), await count(database, MailMessage)
    wrong = await login(client, owner.email, "not the password at all")
    unknown = await login(client, f"nobody-{unique}@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"]
    known_event, unknown_event = await pending(database, LOGIN_FAILED.name)
    assert known_event.payload["user_id"] == str(owner.user_id)
    assert unknown_event.payload["user_id"] is None

    audit_before = await client.get(
        f"{API}/audit", params={"action": "login.failed"}, headers=owner.headers
    )
    assert audit_before.json() == []  # not in the request
    for event in (known_event, known_event, unknown_event):
        await login_attempts.audit_failure(event, app.state.services)
    audited = await client.get(
        f"{API}/audit", params={"action": "login.failed"}, headers=owner.headers
    )
    assert [e["details"] for e in audited.json()] == [{"reason": "password"}]
    assert await count(database, User) == users_before
    assert await count(database, MailMessage) == mails_before


class TestSignUpLimitPerAddress:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"sign_up_limit_per_ip": "2 per hour"})

    async def test_a_client_address_may_sign_up_a_few_times_then_waits(
        self, client: httpx.AsyncClient, database: Database, unique: str
    ) -> None:
        for n in range(2):
            answer = await client.post(
                f"{API}/register", json=sign_up(f"batch{n}-{unique}@example.com")
            )
            assert answer.status_code == 202, answer.text
        refused = await client.post(f"{API}/register", json=sign_up(f"batch2-{unique}@example.com"))
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "identity.sign_ups_throttled"
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
        assert len(await pending(database, SIGN_UP_REQUESTED.name)) == 2  # nothing recorded


async def test_an_expired_unconfirmed_sign_up_frees_its_address(
    client: httpx.AsyncClient,
    register: Register,
    database: Database,
    settings: Settings,
) -> None:
    squatter = await register(verified=False)
    # A confirmed account never expires, nor does one still within the period.
    again = await client.post(
        f"{API}/register", json=sign_up(squatter.email, password="the real owner's passphrase")
    )
    assert again.status_code == 202
    await deliver_mail(database)
    assert (await login(client, squatter.email)).status_code == 200  # still the squatter's

    async with database.unit_of_work() as session:
        await session.execute(
            update(User)
            .where(User.id == squatter.user_id)
            .values(created_at=utcnow() - timedelta(seconds=settings.unconfirmed_sign_up_ttl + 60))
        )
    owner = await client.post(
        f"{API}/register",
        json=sign_up(squatter.email, password="the real owner's passphrase", tenant_name="Real"),
    )
    assert owner.status_code == 202
    await deliver_mail(database)

    async with database.unit_of_work() as session:
        released = await session.get(User, squatter.user_id)
        assert released is not None and not released.is_active
        assert released.email != squatter.email
        old_tenant = await session.get(Tenant, squatter.tenant_id)
        assert old_tenant is not None and old_tenant.status == "suspended"
    assert (await login(client, squatter.email)).status_code == 401  # the old password
    signed_in = await login(client, squatter.email, "the real owner's passphrase")
    assert signed_in.status_code == 200, signed_in.text
    assert uuid.UUID(signed_in.json()["tenant_id"]) != squatter.tenant_id
    confirmations = [m for m in await mailbox(database, squatter.email) if "Confirm" in m.subject]
    assert len(confirmations) == 2  # the squatter's, then the real owner's
