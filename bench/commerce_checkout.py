"""Commerce checkout: completions per second through the storefront API, next to bare baselines.

Creates a throw-away database (PostgreSQL by default: give the server's admin URL), migrates
it, creates a store (a tenant), seeds a product with plenty of stock, a shipping method
and N open checkouts (one unit each, addressed, shipping chosen), then runs, each with C
concurrent clients through the whole gateway stack in-process (ASGI, tenant lookup by slug,
idempotency reservation, the completion's conditional UPDATEs, the order, its timeline, outbox
events and the confirmation mail request, the commit):

* bare transaction: a unit of work that runs `SELECT 1` and commits (the database's floor);
* read a checkout: `GET /storefront/{slug}/checkouts/{token}` (the same stack, reading);
* complete a checkout: `POST .../complete` with an `Idempotency-Key`.

Prints operations per second and the ratio to the bare transaction. Issue 12's target is at
least 300 completions per second on PostgreSQL on this 2-core machine (the seeds ask for
10,000 orders an hour, 2.8 per second). The application connects as the table owner here, so
row-level security's predicate is not in the figures.

Usage: .venv/bin/python bench/commerce_checkout.py [--checkouts 2000] [--clients 16]
       [--admin-url postgresql://postgres@127.0.0.1:5432/postgres | --sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bizosaas import commerce
from bizosaas.commerce.models import DiscountKind
from bizosaas.commerce.schemas import (
    ChannelCreate,
    PriceSet,
    ProductCreate,
    ProductTypeCreate,
    PublicationSet,
    VariantCreate,
    WarehouseCreate,
)
from bizosaas.commerce.schemas_sales import (
    Address,
    CheckoutCreate,
    CheckoutLineAdd,
    CheckoutUpdate,
    PercentagePromotion,
    ShippingMethodCreate,
    ShippingZoneCreate,
)
from bizosaas.commerce.service import (
    catalog,
    channels,
    checkout,
    discounts,
    inventory,
    listing,
    shipping,
)
from bizosaas.gateway.app import create_app
from bizosaas.identity.service import create_tenant
from bizosaas.kit import migrate
from bizosaas.kit.db import Database
from bizosaas.kit.observability import configure_logging
from bizosaas.kit.tenancy import TenantScope, trusted_scope
from bizosaas.settings import Settings

API = "/api/brain/commerce"
GENEROUS_LIMITS = '{"rate_limits": [{"limit": "100000000/minute", "name": "bench"}]}'
ADDRESS = Address(
    first_name="Ada", last_name="Lovelace", street_1="Main St 1", city="Berlin", country="DE"
)


async def seed(database: Database, scope: TenantScope, checkouts: int) -> list[str]:
    async with database.unit_of_work(scope) as session:
        kind = await catalog.create_product_type(
            session, scope=scope, data=ProductTypeCreate(name="Tee")
        )
        made = await catalog.create_product(
            session,
            scope=scope,
            data=ProductCreate(
                product_type_id=kind.id,
                name="Tee",
                slug="tee",
                variants=[VariantCreate(sku="TEE", weight_grams=200)],
            ),
        )
        variant = (await listing.read_product(session, scope=scope, product_id=made.id)).variants[0]
        channel = await channels.create_channel(
            session, scope=scope, data=ChannelCreate(name="Web", slug="web", currency="EUR")
        )
        await channels.set_price(
            session,
            scope=scope,
            variant_id=variant.id,
            channel_id=channel.id,
            data=PriceSet(amount=Decimal("19.99")),
        )
        await channels.publish(
            session,
            scope=scope,
            product_id=made.id,
            channel_id=channel.id,
            data=PublicationSet(is_published=True),
        )
        warehouse = await inventory.create_warehouse(
            session, scope=scope, data=WarehouseCreate(name="Main", code="main")
        )
        await inventory.set_stock(
            session,
            scope=scope,
            variant_id=variant.id,
            warehouse_id=warehouse.id,
            quantity=checkouts * 2,
        )
        zone = await shipping.create_zone(
            session,
            scope=scope,
            data=ShippingZoneCreate(channel_id=channel.id, name="DE", countries=["DE"]),
        )
        method = await shipping.add_method(
            session,
            scope=scope,
            zone_id=zone.id,
            data=ShippingMethodCreate(name="Post", price=Decimal("4.90")),
        )
        await discounts.create_promotion(
            session,
            scope=scope,
            data=PercentagePromotion(
                channel_id=channel.id,
                name="5 % off",
                kind=DiscountKind.percentage,
                percentage=Decimal(5),
            ),
        )
    tokens = []
    async with database.unit_of_work(scope) as session:
        for index in range(checkouts):
            created = await checkout.create_checkout(
                session,
                scope=scope,
                data=CheckoutCreate(
                    channel="web",
                    email=f"fan{index}@example.com",
                    lines=[CheckoutLineAdd(variant_id=variant.id)],
                ),
                customer=checkout.Customer(),
            )
            await checkout.update_checkout(
                session,
                scope=scope,
                token=created.token,
                data=CheckoutUpdate(
                    billing_address=ADDRESS, shipping_address=ADDRESS, shipping_method_id=method.id
                ),
            )
            tokens.append(created.token)
    return tokens


async def rate(clients: int, items: list[str], work: Callable[[str], Awaitable[None]]) -> float:
    """Operations per second: `clients` workers taking `items` off one queue."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return len(items) / (time.perf_counter() - started)


async def run(checkouts: int, clients: int, admin_url: str | None) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bizosaas-checkout-bench-"))
    name = f"bench_checkout_{uuid.uuid4().hex[:8]}"
    if admin_url:
        admin = create_async_engine(
            make_url(admin_url).set(drivername="postgresql+asyncpg"), isolation_level="AUTOCOMMIT"
        )
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
        url_text = url.render_as_string(hide_password=False)
    else:
        url_text = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    try:
        await bench(url_text, directory, checkouts, clients)
    finally:
        if admin_url:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            await admin.dispose()


async def bench(url: str, directory: Path, checkouts: int, clients: int) -> None:
    configure_logging(level="WARNING", json=False)
    await asyncio.to_thread(migrate.upgrade, url, modules=[commerce.module])
    settings = Settings(
        data_dir=directory / "data",
        database_url=url,
        outbox_relay_enabled=False,
        log_level="WARNING",
        gateway_policies=GENEROUS_LIMITS,
    )
    database = Database.from_url(url, pool_size=clients)
    app = create_app(settings, database=database)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            async with database.unit_of_work() as session:
                tenant = await create_tenant(session, name="Bench store")
                slug, scope = tenant.slug, trusted_scope(tenant.id)
            started = time.perf_counter()
            tokens = await seed(database, scope, checkouts)
            print(f"seeded {checkouts:,} checkouts in {time.perf_counter() - started:.1f} s")
            store = f"{API}/storefront/{slug}/checkouts"

            async def bare(_: str) -> None:
                async with database.unit_of_work(scope) as session:
                    await session.execute(text("SELECT 1"))

            async def read(token: str) -> None:
                response = await client.get(f"{store}/{token}")
                assert response.status_code == 200, response.text

            async def complete(token: str) -> None:
                response = await client.post(
                    f"{store}/{token}/complete", headers={"Idempotency-Key": str(uuid.uuid4())}
                )
                assert response.status_code == 201, response.text

            figures = {
                "bare transaction (SELECT 1)": await rate(clients, tokens, bare),
                "read a checkout (API)": await rate(clients, tokens, read),
                "complete a checkout (API)": await rate(clients, tokens, complete),
            }
    await database.dispose()
    floor = figures["bare transaction (SELECT 1)"]
    print(
        f"{url.split(':', maxsplit=1)[0]}, {clients} concurrent clients, {checkouts:,} operations each"
    )
    print(f"{'operation':<30} {'per second':>11} {'ratio to bare':>14}")
    for label, per_second in figures.items():
        print(f"{label:<30} {per_second:11.0f} {per_second / floor:14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    arguments = parser.parse_args()
    admin_url = None if arguments.sqlite else arguments.admin_url
    asyncio.run(run(arguments.checkouts, arguments.clients, admin_url))


if __name__ == "__main__":
    main()
