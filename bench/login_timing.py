"""Failed-login timing: an existing account against an unknown address.

A failed login must not tell whether the address has an account, by its answer or by its time.
Runs the service layer the login endpoint calls (a unit of work per attempt, as a request
would), alternating a wrong password for a registered account and a login for an address
nobody has, and prints the median latency of each beside the bare baseline (one Argon2id
verification, the cost both must pay), their difference and their ratio (within noise: a gap
under 0.5 ms, a ratio within 0.97-1.03). The throttle is set so it never delays the bench.
What the failure's handler does after the answer (the audit record of a known account) is
not part of a request's time and is not timed.
Argon2id uses the OWASP-minimum parameters (m=19 MiB, t=2, p=1).

Figures on a shared 2-core machine under heavy load (load average 10-14, the bare
verification 120-130 ms instead of about 30): known / unknown 1.069, 0.964, 0.906 on SQLite and
1.020 on PostgreSQL with Redis, the sign of the difference changing from run to run (the noise
is several milliseconds at that load; the request does the same work on both paths).

Usage: .venv/bin/python bench/login_timing.py [--attempts 60] [--database-url postgresql://...]
       [--redis-url redis://...]   (default: a SQLite file in a temporary directory)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from redis.asyncio import Redis

from bizosaas.identity import service
from bizosaas.identity.credentials.failure_store import MemoryFailureStore, RedisFailureStore
from bizosaas.identity.credentials.throttle import LoginThrottle, ThrottlePolicy
from bizosaas.identity.exceptions import InvalidCredentials
from bizosaas.kit import migrate
from bizosaas.kit.db import Database
from bizosaas.settings import Settings

PASSWORD = "bench passphrase that is long enough"
WRONG = "not the bench passphrase at all"


async def _timed(action: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        settings = Settings(data_dir=Path(directory) / "data", database_url=url)
        await asyncio.to_thread(migrate.upgrade, settings.effective_migration_url)
        database = Database.from_url(settings.effective_database_url)
        redis = Redis.from_url(args.redis_url) if args.redis_url else None
        identity = service.build_context(settings, database=database, redis=redis)
        never = ThrottlePolicy(free_per_account=10**9, free_per_ip=10**9, free_per_device=10**9)
        identity.throttle = LoginThrottle(
            policy=never,
            store=RedisFailureStore(redis, forget_after=never.forget_after)
            if redis is not None
            else MemoryFailureStore(forget_after=never.forget_after),
        )
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        try:
            async with database.unit_of_work() as session:
                await service.register(
                    session,
                    identity=identity,
                    email=email,
                    password=PASSWORD,
                    full_name="Bench",
                    tenant_name=f"Bench {email}",
                )

            async def fail(address: str) -> None:
                try:
                    async with database.unit_of_work() as session:
                        await service.authenticate_password(
                            session, identity=identity, email=address, password=WRONG, ip="10.0.0.1"
                        )
                except InvalidCredentials:
                    return
                raise AssertionError("the wrong password was accepted")

            async def bare() -> None:
                await identity.passwords.verify(WRONG, None)

            known: list[float] = []
            unknown: list[float] = []
            baseline: list[float] = []
            for n in range(args.attempts + 3):
                nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.com"  # as long as `email`
                if n % 2 == 0:  # alternate which goes first, so neither inherits the other's wake
                    known_ms = await _timed(lambda: fail(email))
                    unknown_ms = await _timed(partial(fail, nobody))
                else:
                    unknown_ms = await _timed(partial(fail, nobody))
                    known_ms = await _timed(lambda: fail(email))
                bare_ms = await _timed(bare)
                if n >= 3:  # warm-up
                    known.append(known_ms)
                    unknown.append(unknown_ms)
                    baseline.append(bare_ms)
        finally:
            await database.dispose()
            if redis is not None:
                await redis.aclose()
    backend = "PostgreSQL" if settings.uses_postgres else "SQLite"
    bare_median = statistics.median(baseline)
    print(
        f"failed-login timing: {backend}, Redis {'on' if args.redis_url else 'off'}, "
        f"{args.attempts} attempts each, alternating"
    )
    for label, values in (
        ("bare Argon2id verification", baseline),
        ("existing account, wrong password", known),
        ("unknown address", unknown),
    ):
        median = statistics.median(values)
        print(f"  {label:34s} median {median:7.2f} ms  ({median / bare_median:4.2f} x bare)")
    gap = statistics.median(known) - statistics.median(unknown)
    ratio = statistics.median(known) / statistics.median(unknown)
    print(f"  known - unknown: {gap:+.2f} ms, known / unknown: {ratio:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    asyncio.run(main(parser.parse_args()))
