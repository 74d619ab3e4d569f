"""Commerce catalogue: product list and search latency through the API, with the seeding time.

Seeds one store with N products (3 variants each, a price per variant, stock, categories and
attribute values) by bulk inserts through the ORM in the store's tenant scope (so the SQLite
search triggers run), then times requests through the whole gateway stack in-process (ASGI,
authentication, permission check, tenant binding, the query and the JSON answer):

* baseline: `GET /channels` (one channel), the same stack around a trivial query;
* list: the first page of 50 by name; a deep page (cursor after 40 pages);
* search: one word, a word plus a category and price range, an attribute filter.

Prints p50 / p99 per request kind and the p50 ratio to the baseline. Issue 12's target is p99
under 50 ms at 100,000 products and 300,000 variants; run with `--products 100000` for that
(seeding takes minutes on a 2-core machine).

Usage: .venv/bin/python bench/commerce_catalog.py [--products 20000] [--requests 200]
       [--database-url postgresql+asyncpg://...]   (default: a SQLite file in a temp dir)
On PostgreSQL give the table owner's URL: the bench migrates, and an owner is not subject to
row-level security, so the figures leave out the cost of the RLS predicate. PostgreSQL tables
are ANALYZEd after seeding (as autovacuum would); SQLite gets no statistics, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import insert, text

from bizosaas import commerce
from bizosaas.commerce.models import (
    Category,
    Channel,
    Product,
    ProductType,
    Stock,
    Variant,
    VariantAttributeValue,
    VariantPrice,
    Warehouse,
)
from bizosaas.commerce.search import words
from bizosaas.gateway.app import create_app
from bizosaas.identity.context import build as build_context
from bizosaas.identity.membership.registration import (
    add_membership,
    create_tenant,
    create_user,
)
from bizosaas.kit import migrate
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.ids import uuid7
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.settings import Settings

API = "/api/brain/commerce"
GENEROUS_LIMITS = '{"rate_limits": [{"limit": "100000000/minute", "name": "bench"}]}'
ADJECTIVES = ["linen", "wool", "cotton", "silk", "denim", "leather", "organic", "recycled"]
NOUNS = ["shirt", "jumper", "scarf", "trousers", "jacket", "sock", "hat", "apron", "shoe"]
COLOURS = ["red", "green", "blue", "black", "white", "sand"]
BATCH = 2000
OWNER = "owner@bench.example.com"
PASSWORD = "bench passphrase that is long enough"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def seed(database: Database, tenant_id: uuid.UUID, count: int) -> dict[str, Any]:
    scope = trusted_scope(tenant_id)
    rng = random.Random(12)
    async with database.unit_of_work(scope) as session:
        kind = ProductType(name="Clothing")
        channel = Channel(name="Web", slug="web", currency="EUR")
        warehouse = Warehouse(name="Main", code="main")
        roots = [Category(name=f"Dept {n}", slug=f"dept-{n}") for n in range(5)]
        session.add_all([kind, channel, warehouse, *roots])
        await session.flush()
        leaves = [
            Category(name=f"Aisle {n}", slug=f"aisle-{n}", parent_id=roots[n % 5].id)
            for n in range(20)
        ]
        session.add_all(leaves)
        await session.flush()
        ids = {"type": kind.id, "channel": channel.id, "warehouse": warehouse.id}
        ids["root"] = roots[0].id
    for start in range(0, count, BATCH):
        products, variants, prices, stock, values = [], [], [], [], []
        now = utcnow()
        for number in range(start, min(count, start + BATCH)):
            product_id = uuid7()
            name = f"{rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS)} {number}"
            skus = [f"SKU-{number}-{size}" for size in ("S", "M", "L")]
            description = f"A {rng.choice(COLOURS)} piece, number {number}."
            products.append(
                {
                    "id": product_id,
                    "tenant_id": tenant_id,
                    "product_type_id": ids["type"],
                    "category_id": leaves[number % 20].id,
                    "name": name,
                    "slug": f"p-{number}",
                    "description_html": f"<p>{description}</p>",
                    "search_text": " ".join(
                        words(" ".join([name, *skus, description]), limit=None)
                    ),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for sku, size in zip(skus, ("S", "M", "L"), strict=True):
                variant_id = uuid7()
                variants.append(
                    {
                        "id": variant_id,
                        "tenant_id": tenant_id,
                        "product_id": product_id,
                        "sku": sku,
                        "name": size,
                        "attributes": {"size": size},
                        "track_inventory": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                values.append(
                    {
                        "tenant_id": tenant_id,
                        "variant_id": variant_id,
                        "product_id": product_id,
                        "code": "size",
                        "value": size,
                    }
                )
                prices.append(
                    {
                        "id": uuid7(),
                        "tenant_id": tenant_id,
                        "variant_id": variant_id,
                        "channel_id": ids["channel"],
                        "amount_minor": rng.randrange(500, 20000),
                        "is_available": True,
                    }
                )
                stock.append(
                    {
                        "id": uuid7(),
                        "tenant_id": tenant_id,
                        "variant_id": variant_id,
                        "warehouse_id": ids["warehouse"],
                        "quantity": rng.randrange(0, 20),
                        "allocated": 0,
                    }
                )
        async with database.unit_of_work(scope) as session:
            for model, rows in (
                (Product, products),
                (Variant, variants),
                (VariantAttributeValue, values),
                (VariantPrice, prices),
                (Stock, stock),
            ):
                await session.execute(insert(model), rows)
    return ids


async def create_owner(settings: Settings, database: Database) -> uuid.UUID:
    """A store and its verified owner, made directly (sign-up asks to confirm the address)."""
    identity = build_context(settings, database=database)
    async with database.unit_of_work() as session:
        tenant = await create_tenant(session, name="Bench store", slug="bench-store")
        user = await create_user(
            session,
            identity=identity,
            email=OWNER,
            password=PASSWORD,
            full_name="Bench",
            verified=True,
        )
        await add_membership(session, tenant=tenant, user=user, role=Role.tenant_admin)
        return tenant.id


async def timed(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, n: int
) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return samples


async def run(products: int, requests: int, database_url: str | None) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bizosaas-commerce-bench-"))
    url = database_url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(migrate.upgrade, url, modules=[commerce.module])
    settings = Settings(
        data_dir=directory / "data",
        database_url=url,
        outbox_relay_enabled=False,
        log_level="WARNING",
        gateway_policies=GENEROUS_LIMITS,
        access_token_ttl=3600,  # seeding a large catalogue outlasts the default five minutes
    )
    database = Database.from_url(url)
    app = create_app(settings, database=database)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            tenant_id = await create_owner(settings, database)
            signed_in = await client.post(
                "/api/brain/auth/login",
                json={"email": OWNER, "password": PASSWORD, "tenant": "bench-store"},
            )
            assert signed_in.status_code == 200, signed_in.text
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            started = time.perf_counter()
            ids = await seed(database, tenant_id, products)
            seeding = time.perf_counter() - started
            if url.startswith("postgresql"):
                # What autovacuum does after a bulk load; without it the planner takes the
                # 300,000-row tables for empty ones.
                async with database.unit_of_work() as session:
                    await session.execute(text("ANALYZE"))
            print(
                f"seeded {products:,} products, {3 * products:,} variants in {seeding:.1f} s "
                f"({products / seeding:,.0f} products/s) on {url.split(':')[0]}"
            )
            deep = f"{API}/products?limit=50"
            for _ in range(40):
                page = (await client.get(deep, headers=headers)).json()
                if page["next_cursor"] is None:
                    break
                deep = f"{API}/products?limit=50&cursor={page['next_cursor']}"
            kinds = {
                "baseline GET /channels": f"{API}/channels",
                "list, first page": f"{API}/products?limit=50",
                "list, page 41 (cursor)": deep,
                "search one word": f"{API}/products?q=linen&limit=50",
                "search + category + price": (
                    f"{API}/products?q=shirt&category_id={ids['root']}"
                    f"&channel_id={ids['channel']}&price_min=20&price_max=80&limit=50"
                ),
                "attribute + in stock": f"{API}/products?attribute=size:M&in_stock=true&limit=50",
            }
            results = {}
            for label, path in kinds.items():
                await timed(client, headers, path, 5)  # warm up
                results[label] = await timed(client, headers, path, requests)
    await database.dispose()
    base = statistics.median(results["baseline GET /channels"])
    print(f"{'request':<28} {'p50 ms':>8} {'p99 ms':>8} {'p50 / baseline':>15}")
    for label, samples in results.items():
        p50 = statistics.median(samples)
        print(f"{label:<28} {p50:8.1f} {percentile(samples, 0.99):8.1f} {p50 / base:15.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.products, arguments.requests, arguments.database_url))


if __name__ == "__main__":
    main()
