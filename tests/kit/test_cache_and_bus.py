"""The cache and the event bus behave the same in-process and on Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from bizosaas.kit.cache import Cache, MemoryCache, RedisCache
from bizosaas.kit.events import Event, RedisEventBus
from tests.conftest import require
from tests.support import backends
from tests.support.clock import ManualClock
from tests.support.waiting import eventually, wait_until


@pytest.fixture
async def cache(cache_backend: str, unique: str) -> AsyncIterator[Cache]:
    if cache_backend == "memory":
        yield MemoryCache(max_entries=3)
        return
    url = backends.redis_test_url()
    assert url is not None
    redis = Redis.from_url(url)
    yield RedisCache(redis, prefix=f"test:{unique}:")
    await redis.aclose()


async def test_cache_round_trip(cache: Cache) -> None:
    await cache.set("k", b"value", ttl=60)
    assert await cache.get("k") == b"value"
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_memory_cache_entry_lives_exactly_its_ttl() -> None:
    clock = ManualClock()
    cache = MemoryCache(clock=clock)
    await cache.set("short", b"x", ttl=5)
    clock.advance(4.999)
    assert await cache.get("short") == b"x"
    clock.advance(0.001)
    assert await cache.get("short") is None
    await cache.set("short", b"y", ttl=5)
    assert await cache.get("short") == b"y", "a new value starts a new TTL"


async def test_redis_cache_entry_expires_with_its_ttl(redis_client: Redis, unique: str) -> None:
    cache = RedisCache(redis_client, prefix=f"test:{unique}:")
    await cache.set("long", b"x", ttl=30)
    remaining_ms = await redis_client.pttl(f"test:{unique}:long")
    assert 0 < remaining_ms <= 30_000, "Redis holds the entry for the TTL given, no longer"
    await cache.set("short", b"x", ttl=0.01)
    # Redis expires the entry itself; a generous deadline only catches one that never goes.
    await eventually(
        lambda: cache.get("short"), until=lambda value: value is None, what="expiry in Redis"
    )
    await cache.delete("long")


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=2)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), ttl=60)
    assert await cache.get("a") is None
    assert await cache.get("c") == b"c"


async def test_redis_bus_delivers_to_every_process(redis_client: Redis, unique: str) -> None:
    """Two buses on one channel stand for two gateway processes."""
    channel = f"test:events:{unique}"
    first, second = (
        RedisEventBus(redis_client, channel=channel),
        RedisEventBus(redis_client, channel=channel),
    )
    got_first: list[Event] = []
    got_second: list[Event] = []

    async def on_first(event: Event) -> None:
        got_first.append(event)

    async def on_second(event: Event) -> None:
        got_second.append(event)

    first.subscribe("orders.*", on_first)
    second.subscribe("*", on_second)
    await first.start()
    await second.start()
    try:
        event = Event(
            id=uuid.uuid4(),
            name="orders.placed",
            occurred_at=datetime.now(UTC),
            payload={"total": "12.50"},
            tenant_id=uuid.uuid4(),
        )
        await first.publish(event)
        await wait_until(lambda: bool(got_first and got_second), what="delivery to both")
    finally:
        await first.close()
        await second.close()
    assert got_first == [event] and got_second == [event]


async def test_redis_bus_subscribes_again_after_losing_its_connection(unique: str) -> None:
    """Redis drops the bus's subscribed connection (as a restart or a network cut would): the
    bus subscribes again by itself and events published afterwards reach its subscribers."""
    url = backends.redis_test_url()
    require(url is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    assert url is not None
    name = f"test-bus-{unique}"
    listening = Redis.from_url(url, client_name=name)
    publishing = Redis.from_url(url)
    bus = RedisEventBus(listening, channel=f"test:events:{unique}")
    publisher = RedisEventBus(publishing, channel=f"test:events:{unique}")
    got: list[Event] = []

    async def on_event(event: Event) -> None:
        got.append(event)

    def event(n: int) -> Event:
        return Event(
            id=uuid.uuid4(), name="orders.placed", occurred_at=datetime.now(UTC), payload={"n": n}
        )

    bus.subscribe("*", on_event)
    await bus.start()
    try:
        await publisher.publish(event(0))
        await wait_until(lambda: len(got) == 1, what="delivery before the cut")

        # Only this test's subscribed connection: other clients of the server are left alone.
        clients = await publishing.client_list(_type="pubsub")
        ours = [c["id"] for c in clients if c.get("name") == name]
        assert ours, clients
        for client_id in ours:
            await publishing.client_kill_filter(_id=client_id)

        sent = iter(range(1, 10_000))

        async def publish_one() -> int:
            await publisher.publish(event(next(sent)))
            return len(got)

        # Events published before the bus is subscribed again are lost (pub/sub keeps
        # nothing), so keep publishing until one arrives.
        await eventually(
            publish_one,
            until=lambda seen: seen > 1,
            every=0.2,
            what="delivery after the connection was dropped",
        )
        assert all(e.name == "orders.placed" for e in got)
    finally:
        await bus.close()
        await listening.aclose()
        await publishing.aclose()
