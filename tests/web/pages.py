"""Helpers for the HTTP-level page tests: people to sign in as, forms with their CSRF token."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from bizosaas.identity import service as identity
from bizosaas.identity.models import Invitation
from bizosaas.identity.schemas import MailRead
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.tenancy import bind_tenant, trusted_scope
from tests.identity.conftest import deliver_mail

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Person:
    email: str
    user_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    password: str = PASSWORD


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def headings(html: str) -> list[str]:
    return re.findall(r"<h1>(.*?)</h1>", html)


def nav_links(html: str) -> list[str]:
    """The labels of the side navigation's links, in order."""
    nav = html.split('<nav class="sidenav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r"<span>([^<]+)</span></a>", nav)


def stat_value(dashboard_html: str, label: str) -> int:
    """The number a dashboard shows on its card labelled `label`."""
    found = re.search(
        r'<span class="stat-value">(\d+)</span>\s*<span class="stat-label">' + re.escape(label),
        dashboard_html,
    )
    assert found, label
    return int(found.group(1))


async def tenant_admin(
    database: Database,
    context: identity.IdentityContext,
    unique: str,
    name: str = "Acme",
    *,
    verified: bool = True,
) -> Person:
    """A signed-up tenant admin, who (unless `verified` is false) confirmed their address with
    the mailed link, as a new owner must before the workspace sends invitations."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    async with database.unit_of_work() as session:
        registration = await identity.register(
            session,
            identity=context,
            email=email,
            password=PASSWORD,
            full_name="Olive Owner",
            tenant_name=f"{name} {unique}",
        )
    assert registration is not None
    if verified:
        (confirmation,) = await mailbox(database, email)
        token = link_in(confirmation, "/auth/verify-email").split("token=", 1)[1]
        async with database.unit_of_work() as session:
            await identity.verify_email(session, token=token)
    return Person(email=email, user_id=registration.user.id, tenant_id=registration.tenant.id)


async def super_admin(database: Database, context: identity.IdentityContext) -> Person:
    email = f"root-{uuid.uuid4().hex[:8]}@example.com"
    async with database.unit_of_work() as session:
        user = await identity.create_user(
            session,
            identity=context,
            email=email,
            password=PASSWORD,
            full_name="Pat Platform",
            super_admin=True,
        )
    return Person(email=email, user_id=user.id, tenant_id=None)


async def sign_in(
    client: httpx.AsyncClient, person: Person, *, next_path: str = ""
) -> httpx.Response:
    page = await client.get("/login" + (f"?next={next_path}" if next_path else ""))
    return await client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": person.email,
            "password": person.password,
            "next": next_path,
        },
    )


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, data: dict[str, str]
) -> httpx.Response:
    """Open `page_path`, then submit `data` to `action` with the page's CSRF token."""
    page = await client.get(page_path)
    assert page.status_code == 200, (page_path, page.status_code)
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **data})


async def mailbox(database: Database, to: str) -> list[MailRead]:
    """Relay committed outbox events to identity's handlers and mailer (as the platform's relay
    does) and read the mail sink for `to`, newest first."""
    await deliver_mail(database)
    async with database.unit_of_work() as session:
        return await identity.list_mail(session, to=to)


def link_in(message: MailRead, path: str) -> str:
    """The site-relative link to `path` in `message` (e.g. /auth/reset-password?token=...)."""
    found = re.search(re.escape(path) + r"\?token=\S+", message.body)
    assert found, message.body
    return found.group(0)


def new_client(app: FastAPI) -> httpx.AsyncClient:
    """Another browser: its own cookies and its own address."""
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
    )


async def send_invitation(app: FastAPI, owner: Person, email: str, role: str) -> None:
    """Invite `email` with `role` from the owner's Invitations page, in a browser of their own."""
    async with new_client(app) as owner_browser:
        await sign_in(owner_browser, owner)
        sent = await post_form(
            owner_browser, "/app/invitations", "/app/invitations", {"email": email, "role": role}
        )
        assert sent.status_code == 303, sent.text


async def invitation_link(database: Database, email: str) -> str:
    """The accept link of the newest invitation mailed to `email`."""
    invitations = [m for m in await mailbox(database, email) if "invited" in m.subject]
    assert invitations, f"no invitation mailed to {email}"
    return link_in(invitations[0], "/auth/accept-invitation")


async def expire_invitations(database: Database, owner: Person, email: str) -> None:
    """Age the owner's workspace's invitations to `email` to their expiry, as time passing would."""
    assert owner.tenant_id
    async with database.unit_of_work() as session:
        await bind_tenant(session, trusted_scope(owner.tenant_id))
        await session.execute(
            update(Invitation)
            .where(Invitation.email == email)
            .values(expires_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def invited_member(
    app: FastAPI, database: Database, owner: Person, role: str
) -> tuple[Person, httpx.AsyncClient]:
    """Invite a new person with `role` through the owner's Invitations page, accept through the
    link in the mail; returns them with their signed-in browser (close it after use)."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    await send_invitation(app, owner, email, role)
    link = await invitation_link(database, email)
    browser = new_client(app)
    accepted = await post_form(
        browser,
        link,
        "/auth/accept-invitation",
        {"token": link.split("token=", 1)[1], "full_name": role.title(), "password": PASSWORD},
    )
    assert accepted.status_code == 303 and accepted.headers["location"] == "/app", accepted.text
    me = await browser.get("/app")
    assert me.status_code == 200
    person = Person(email=email, user_id=None, tenant_id=owner.tenant_id)
    return person, browser


async def join_workspace(
    app: FastAPI, database: Database, person: Person, browser: httpx.AsyncClient, owner: Person
) -> None:
    """`owner` invites `person` (who has an account) as staff; `person` accepts the mailed link
    in `browser`, where they are signed in, which takes them into that workspace."""
    await send_invitation(app, owner, person.email, "staff")
    link = await invitation_link(database, person.email)
    accepted = await post_form(
        browser, link, "/auth/accept-invitation", {"token": link.split("token=", 1)[1]}
    )
    assert accepted.status_code == 303 and accepted.headers["location"] == "/app", accepted.text
