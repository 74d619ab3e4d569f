"""Helpers for the HTTP-level page tests: people to sign in as, forms with their CSRF token."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx

from bizosaas.identity import service as identity
from bizosaas.kit.db import Database

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Person:
    email: str
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    password: str = PASSWORD


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def headings(html: str) -> list[str]:
    return re.findall(r"<h1>(.*?)</h1>", html)


async def tenant_admin(database: Database, unique: str, name: str = "Acme") -> Person:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    async with database.unit_of_work() as session:
        registration = await identity.register(
            session,
            email=email,
            password=PASSWORD,
            full_name="Olive Owner",
            tenant_name=f"{name} {unique}",
        )
    return Person(email=email, user_id=registration.user.id, tenant_id=registration.tenant.id)


async def super_admin(database: Database) -> Person:
    email = f"root-{uuid.uuid4().hex[:8]}@example.com"
    async with database.unit_of_work() as session:
        user = await identity.create_user(
            session, email=email, password=PASSWORD, full_name="Pat Platform", super_admin=True
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
