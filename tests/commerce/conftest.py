"""Commerce test fixtures: two stores (tenants) with their owners, and a small API helper.

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

# Identity's fixtures, shared here: sign up a store's owner, invite members with a role.
register = identity_fixtures.register
invite = identity_fixtures.invite

API = "/api/brain/commerce"


@dataclass
class Store:
    """A tenant's commerce API as one of its members."""

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
async def shop(client: httpx.AsyncClient, register: Register) -> Store:
    return Store(client, await register("Shop"))


@pytest.fixture
async def rival(client: httpx.AsyncClient, register: Register) -> Store:
    return Store(client, await register("Rival"))


async def clothing_type(store: Store) -> Any:
    return await store.ok(
        "POST",
        "/product-types",
        201,
        json={
            "name": "Clothing",
            "attributes": {
                "size": {"name": "Size", "kind": "choice", "choices": ["S", "M", "L"]},
                "colour": {"name": "Colour", "kind": "text"},
                "organic": {"name": "Organic", "kind": "boolean"},
                "weight_oz": {"name": "Fabric weight", "kind": "number"},
            },
        },
    )


async def product(
    store: Store, product_type: dict[str, Any], slug: str, *, skus: list[str], **extra: Any
) -> Any:
    variants = [{"sku": sku, "attributes": {"size": "M"}} for sku in skus]
    body = {
        "product_type_id": product_type["id"],
        "name": extra.pop("name", slug.replace("-", " ").title()),
        "slug": slug,
        "variants": variants,
        **extra,
    }
    return await store.ok("POST", "/products", 201, json=body)
