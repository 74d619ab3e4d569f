"""How many HTTP worker processes a server runs by default.

Several processes are correct only when everything they must agree on lives outside them:
the data in PostgreSQL, and the cache, the event fan-out, sessions and rate limits in Redis.
SQLite has a single writer, and without Redis the cache, the bus and the limits are in each
process's memory: an event relayed by one process would invalidate only its own cache (another
process would keep serving a stale page) and each process would count its own rate limits. So
a server uses every core it has only with both; otherwise it runs one process.
"""

from __future__ import annotations

import os

from bizosaas.settings import Settings


def available_cpus() -> int:
    """Cores this process may run on (its CPU affinity, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def shares_state(settings: Settings) -> bool:
    """Whether several processes would see one platform (PostgreSQL and Redis)."""
    return settings.uses_postgres and bool(settings.redis_url)


def default_workers(settings: Settings) -> int:
    return available_cpus() if shares_state(settings) else 1
