"""Counters for rate limits and quotas (the `limits` library), in memory or in Redis.

With a Redis URL every process shares the counters, so a budget holds across gateway and
service processes; without one they live in this process (the embedded mode). `Quota` is a
named budget of one or more windows ("20/hour;100/day") charged per subject (a tenant, say).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


def limits_storage(redis_url: str | None, *, key_prefix: str) -> Storage:
    """Redis storage under `key_prefix` when `redis_url` is set, else process memory."""
    if redis_url:
        uri = "async+" + redis_url if redis_url.startswith(("redis://", "rediss://")) else redis_url
        return RedisStorage(uri, implementation="redispy", key_prefix=key_prefix)
    return MemoryStorage()


@dataclass(frozen=True)
class QuotaCharge:
    """The outcome of charging a quota: `retry_after` seconds when refused, else None."""

    allowed: bool
    retry_after: int | None = None


class Quota:
    """A budget of one or more moving windows, e.g. `Quota("invitations", "20/hour;100/day")`.

    A charge is refused, and counts nothing, while any window is spent; `retry_after` is when
    the fullest window frees a slot.
    """

    def __init__(self, name: str, limit: str, limiter: MovingWindowRateLimiter) -> None:
        self.name = name
        self.items: list[RateLimitItem] = parse_many(limit)
        self._limiter = limiter

    async def charge(self, subject: str) -> QuotaCharge:
        for item in self.items:
            if not await self._limiter.test(item, self.name, subject):
                stats = await self._limiter.get_window_stats(item, self.name, subject)
                return QuotaCharge(False, max(1, math.ceil(stats.reset_time - time.time())))
        for item in self.items:
            await self._limiter.hit(item, self.name, subject)
        return QuotaCharge(True)
