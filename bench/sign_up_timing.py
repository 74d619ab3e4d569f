"""Sign-up and reset timing: do `POST /api/brain/auth/register` and
`POST /api/brain/auth/password/reset/request` take as long for an address with an account as
for one without? (If they did not, the time would tell who has an account.)

Drives the real endpoints in process (ASGI, no network) with OWASP-minimum Argon2id,
alternating the two kinds of address so drift on a shared machine hits both alike. Prints the
median of each, their ratio, and a bare baseline in the same run: `GET /api/brain/health`, the
cost of a request that does no work. The outbox relay is off: what is timed is the answer,
and the work both kinds of request leave to identity's handlers (creating the tenant, the
mails) runs after it.

Usage: .venv/bin/python bench/sign_up_timing.py [--samples 40] [--database-url postgresql://...]
       (default: a SQLite file in a temporary directory; a PostgreSQL database given here is
       migrated and written to, so give it one of its own)

Both kinds of request do the same work in the request (checks, Argon2id for a sign-up, the
mail budget, one sealed event), so the ratios should be 1 within noise. Figures on a shared
2-core machine under heavy load (load average 14), 20 samples: SQLite sign-up 98.4 / 98.0 ms
(1.004), reset 3.3 / 3.6 ms (0.925); PostgreSQL sign-up 169.9 / 164.3 ms (1.034), reset
27.9 / 28.9 ms (0.964); with an account / without.
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
from bizosaas.identity import service
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


def report(label: str, with_account: list[float], without: list[float]) -> None:
    median_with, median_without = statistics.median(with_account), statistics.median(without)
    print(f"  {label}, address with an account     median {median_with * 1000:7.1f} ms")
    print(f"  {label}, address without an account  median {median_without * 1000:7.1f} ms")
    print(f"  {label}, with / without  {median_with / median_without:.3f}")


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
            sign_up_limit_per_ip="1000000 per hour",  # one client signs up many times here
        )
        await asyncio.to_thread(migrate.upgrade, settings.effective_migration_url)
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                taken = f"taken-{uuid.uuid4().hex[:8]}@example.com"
                async with app.state.services.database.unit_of_work() as session:
                    await service.register(session, identity=app.state.identity, **sign_up(taken))
                register = "/api/brain/auth/register"
                reset = "/api/brain/auth/password/reset/request"
                # Accounts for the reset rows, made before timing starts: each is asked for
                # one link, well within its address's mail budget, like an unknown address.
                known = [f"known-{uuid.uuid4().hex[:12]}@example.com" for _ in range(args.samples)]
                for email in known:
                    async with app.state.services.database.unit_of_work() as session:
                        await service.register(
                            session, identity=app.state.identity, **sign_up(email)
                        )
                new: list[float] = []
                existing: list[float] = []
                reset_known: list[float] = []
                reset_unknown: list[float] = []
                bare: list[float] = []
                for n in range(args.samples):
                    fresh = f"new-{uuid.uuid4().hex[:12]}@example.com"
                    unknown = f"nobo-{uuid.uuid4().hex[:12]}@example.com"
                    pairs = [
                        (new, register, sign_up(fresh)),
                        (existing, register, sign_up(taken)),
                        (reset_known, reset, {"email": known[n]}),
                        (reset_unknown, reset, {"email": unknown}),
                    ]
                    if n % 2:  # alternate which of each pair goes first
                        pairs = [pairs[1], pairs[0], pairs[3], pairs[2]]
                    for samples, path, body in pairs:
                        samples.append(await timed(client, "POST", path, json=body))
                    bare.append(await timed(client, "GET", "/api/brain/health"))
    backend = "PostgreSQL" if settings.uses_postgres else "SQLite"
    print(
        f"sign-up and reset timing: {backend}, {args.samples} samples each, Argon2id OWASP minimum"
    )
    report("sign-up", existing, new)
    report("reset  ", reset_known, reset_unknown)
    print(f"  bare baseline  median {statistics.median(bare) * 1000:7.1f} ms (GET /health)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
