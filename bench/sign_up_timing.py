"""Sign-up timing: does `POST /api/brain/auth/register` take as long for a taken address as for
a new one? (If it did not, the time would tell who has an account.)

Drives the real endpoint in process (ASGI, no network) with OWASP-minimum Argon2id, alternating
a new address and a taken one so drift on a shared machine hits both alike. Prints the median
of each, their ratio, and a bare baseline in the same run: `GET /api/brain/health`, the cost of
a request that does no work.

Usage: .venv/bin/python bench/sign_up_timing.py [--samples 40] [--database-url postgresql://...]
       (default: a SQLite file in a temporary directory; a PostgreSQL database given here is
       migrated and written to, so give it one of its own)

Figures on a shared 2-core machine (SQLite / PostgreSQL): new 60-110 / 145 ms, taken 53-90 /
108 ms, bare baseline 2-7 / 10 ms. A new address also writes the tenant, membership, audit row
and token; the password hashing both do dominates.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from bizosaas.gateway.app import create_app
from bizosaas.kit import migrate
from bizosaas.settings import Settings

PASSWORD = "bench passphrase that is long enough"


def sign_up(email: str) -> dict[str, str]:
    return {
        "email": email,
        "password": PASSWORD,
        "full_name": "Bench",
        "tenant_name": f"Bench {uuid.uuid4().hex[:8]}",
    }


async def timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert response.status_code in (200, 202), response.text
    return elapsed


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        settings = Settings(
            data_dir=Path(directory) / "data",
            database_url=url,
            outbox_relay_enabled=False,
            log_level="WARNING",
            log_format="console",
            gateway_policies='{"rate_limits": []}',
        )
        await asyncio.to_thread(migrate.upgrade, settings.effective_migration_url)
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                taken = f"taken-{uuid.uuid4().hex[:8]}@example.com"
                await timed(client, "POST", "/api/brain/auth/register", json=sign_up(taken))
                new: list[float] = []
                existing: list[float] = []
                bare: list[float] = []
                for _ in range(args.samples):
                    fresh = f"new-{uuid.uuid4().hex[:12]}@example.com"
                    register = "/api/brain/auth/register"
                    new.append(await timed(client, "POST", register, json=sign_up(fresh)))
                    existing.append(await timed(client, "POST", register, json=sign_up(taken)))
                    bare.append(await timed(client, "GET", "/api/brain/health"))
    backend = "PostgreSQL" if settings.uses_postgres else "SQLite"
    print(f"sign-up timing: {backend}, {args.samples} samples each, Argon2id OWASP minimum")
    median_new, median_taken = statistics.median(new), statistics.median(existing)
    print(f"  new address    median {median_new * 1000:7.1f} ms")
    print(f"  taken address  median {median_taken * 1000:7.1f} ms")
    print(f"  bare baseline  median {statistics.median(bare) * 1000:7.1f} ms (GET /health)")
    print(f"  taken / new    {median_taken / median_new:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
