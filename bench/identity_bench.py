"""Identity throughput: password logins/s and token refreshes/s on one core.

Runs the service layer the API endpoints call (session per operation, committed, as a request
would be), one operation at a time, so the figure is per core. Password logins use the
OWASP-minimum Argon2id parameters (m=19 MiB, t=2, p=1). Prints the median of several rounds.
Targets: at least 20 logins/s and 1,500 refreshes/s per core (Keycloak's sizing guide plans
15 password logins/s and 120 refreshes/s per vCPU).

Usage: .venv/bin/python bench/identity_bench.py [--rounds 5] [--database-url postgresql://...]
       [--redis-url redis://...]   (default: a SQLite file in a temporary directory)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from redis.asyncio import Redis

from bizosaas.identity import service
from bizosaas.identity.schemas import TokenPair
from bizosaas.kit import migrate
from bizosaas.kit.db import Database
from bizosaas.settings import Settings

PASSWORD = "bench passphrase that is long enough"


def core_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


async def _setup(database: Database, identity: service.IdentityContext) -> tuple[str, str]:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    async with database.unit_of_work() as session:
        await service.register(
            session,
            identity=identity,
            email=email,
            password=PASSWORD,
            full_name="Bench",
            tenant_name=f"Bench {email}",
        )
    async with database.unit_of_work() as session:
        pair = await service.authenticate_password(
            session, identity=identity, email=email, password=PASSWORD
        )
    assert isinstance(pair, TokenPair)
    return email, pair.refresh_token


class Rate:
    """Operations per wall-clock second and per CPU-second of this process (all its threads).
    On a machine shared with other work, the CPU figure is the honest per-core one."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def finish(self, count: int) -> tuple[float, float]:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        return count / wall, count / cpu


async def _logins(
    database: Database, identity: service.IdentityContext, email: str, count: int
) -> tuple[float, float]:
    rate = Rate()
    for _ in range(count):
        async with database.unit_of_work() as session:
            outcome = await service.authenticate_password(
                session, identity=identity, email=email, password=PASSWORD
            )
        assert isinstance(outcome, TokenPair)
    return rate.finish(count)


async def _refreshes(
    database: Database, identity: service.IdentityContext, refresh_token: str, count: int
) -> tuple[tuple[float, float], str]:
    rate = Rate()
    for _ in range(count):
        async with database.unit_of_work() as session:
            pair = await service.refresh(session, identity=identity, refresh_token=refresh_token)
        refresh_token = pair.refresh_token
    return rate.finish(count), refresh_token


def _report(label: str, rates: list[tuple[float, float]], target: int) -> None:
    wall = statistics.median(r[0] for r in rates)
    cpu = statistics.median(r[1] for r in rates)
    print(
        f"  {label}: median {cpu:8.1f} /s per core (CPU time), {wall:8.1f} /s wall clock; "
        f"target >= {target} per core"
    )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        settings = Settings(
            data_dir=Path(directory) / "data",
            database_url=url,
            redis_url=args.redis_url,
            login_free_failures_per_account=100,
            login_free_failures_per_ip=1_000_000,
        )
        await asyncio.to_thread(migrate.upgrade, settings.effective_migration_url)
        database = Database.from_url(settings.effective_database_url)
        redis = Redis.from_url(args.redis_url) if args.redis_url else None
        try:
            identity = service.build_context(settings, database=database, redis=redis)
            email, refresh_token = await _setup(database, identity)
            await _logins(database, identity, email, 3)  # warm-up
            login_rates = [
                await _logins(database, identity, email, args.logins) for _ in range(args.rounds)
            ]
            refresh_rates: list[tuple[float, float]] = []
            for _ in range(args.rounds):
                rate, refresh_token = await _refreshes(
                    database, identity, refresh_token, args.refreshes
                )
                refresh_rates.append(rate)
        finally:
            await database.dispose()
            if redis is not None:
                await redis.aclose()
    backend = "PostgreSQL" if settings.uses_postgres else "SQLite"
    print(
        f"identity bench: {backend}, Redis {'on' if args.redis_url else 'off'}, "
        f"{args.rounds} rounds, machine has {core_count()} cores, one core used"
    )
    print(
        f"  Argon2id m={settings.argon2_memory_cost} KiB t={settings.argon2_time_cost} "
        f"p={settings.argon2_parallelism}"
    )
    _report("password logins", login_rates, 20)
    _report("token refreshes", refresh_rates, 1500)
    if settings.uses_postgres:
        print("  (PostgreSQL's own CPU time is not in the per-core figure)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--logins", type=int, default=40, help="logins per round")
    parser.add_argument("--refreshes", type=int, default=1000, help="refreshes per round")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    asyncio.run(main(parser.parse_args()))
