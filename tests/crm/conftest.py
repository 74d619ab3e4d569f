"""CRM test fixtures: two tenants with their owners, and a small API helper.

Every test runs on SQLite and, when configured, on PostgreSQL as the non-owner role (see
tests/conftest.py), so row-level security is real there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.identity import conftest as identity_fixtures
from tests.identity.conftest import Account, Register

register = identity_fixtures.register
invite = identity_fixtures.invite

API = "/api/brain/crm"


@dataclass
class Crm:
    """A tenant's CRM API as one of its members."""

    client: httpx.AsyncClient
    account: Account

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(
            method, f"{API}{path}", headers=self.account.headers, **kwargs
        )

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def problem(self, method: str, path: str, status: int, code: str, **kwargs: Any) -> Any:
        response = await self.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == code, body
        return body


@pytest.fixture
async def crm(client: httpx.AsyncClient, register: Register) -> Crm:
    return Crm(client, await register("Agency"))


@pytest.fixture
async def rival(client: httpx.AsyncClient, register: Register) -> Crm:
    return Crm(client, await register("Rival"))


async def sales_pipeline(crm: Crm, name: str = "Sales") -> Any:
    return await crm.ok(
        "POST",
        "/pipelines",
        201,
        json={
            "name": name,
            "stages": [
                {"name": "Qualified", "probability": 10},
                {"name": "Proposal", "probability": 50},
                {"name": "Negotiation", "probability": 80},
            ],
        },
    )


async def person(crm: Crm, first: str, last: str, **extra: Any) -> Any:
    return await crm.ok(
        "POST", "/people", 201, json={"first_name": first, "last_name": last, **extra}
    )
