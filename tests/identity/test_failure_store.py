"""The failed-login counters behave alike in memory and in Redis (shared by processes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bizosaas.identity.credentials.failure_store import (
    FailureStore,
    MemoryFailureStore,
    RedisFailureStore,
)
from tests.support import backends

FORGET_AFTER = 3600.0


@pytest.fixture
async def store(cache_backend: str) -> AsyncIterator[FailureStore]:
    if cache_backend == "memory":
        yield MemoryFailureStore(forget_after=FORGET_AFTER)
        return
    url = backends.redis_test_url()
    assert url is not None
    redis = Redis.from_url(url)
    try:
        yield RedisFailureStore(redis, forget_after=FORGET_AFTER, prefix=f"test:{uuid.uuid4()}:")
    finally:
        await redis.aclose()


async def test_counts_and_clears(store: FailureStore) -> None:
    assert (await store.read("k", now=100.0)).count == 0
    assert (await store.add("k", now=100.0)).count == 1
    second = await store.add("k", now=105.5)
    assert (second.count, second.last) == (2, 105.5)
    assert await store.read("k", now=106.0) == second
    assert (await store.read("other", now=106.0)).count == 0
    await store.clear("k")
    assert (await store.read("k", now=106.0)).count == 0


async def test_distinct_failures_count_once(store: FailureStore) -> None:
    for _ in range(3):
        same = await store.add("ip", now=10.0, distinct="typo")
    assert (same.count, same.last) == (1, 10.0)
    assert (await store.add("ip", now=11.0, distinct="other")).count == 2
    assert (await store.add("ip", now=12.0, distinct="typo")).count == 2


async def test_failures_are_forgotten_after_a_quiet_period(store: FailureStore) -> None:
    await store.add("k", now=0.0, distinct="a")
    await store.add("k", now=10.0, distinct="b")
    assert (await store.read("k", now=10.0 + FORGET_AFTER - 1)).count == 2
    assert (await store.read("k", now=10.0 + FORGET_AFTER)).count == 0
    # Counting starts again from one, and what was seen before counts anew.
    restarted = await store.add("k", now=10.0 + FORGET_AFTER, distinct="a")
    assert restarted.count == 1


async def test_one_alert_per_episode(store: FailureStore) -> None:
    assert not await store.claim_alert("k")  # no counter, no episode
    await store.add("k", now=1.0)
    assert await store.claim_alert("k")
    await store.add("k", now=2.0)
    assert not await store.claim_alert("k")
    await store.clear("k")
    assert not await store.claim_alert("k")
    assert (await store.read("k", now=3.0)).count == 0  # the refused claim left nothing behind
    await store.add("k", now=3.0)
    assert await store.claim_alert("k")
    await store.add("k", now=3.0 + FORGET_AFTER)  # forgotten: a new episode
    assert await store.claim_alert("k")
