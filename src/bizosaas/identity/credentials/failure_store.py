"""Counters of failed logins: in process memory, or in Redis so every gateway process shares
them (scaled mode).

A counter holds how many failures a key (an account, a client address, a device) has had and
when the latest was, by the throttle's clock. It is forgotten `forget_after` seconds after its
latest failure. `add(..., distinct=...)` counts a failure only the first time that value is
seen for the key, so the same wrong password sent again and again counts once. An alert flag
per counter lets the throttle warn an account's owner once per episode: the flag goes with the
counter when it is cleared or forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Failures:
    count: int = 0
    last: float = 0.0
    """Clock time of the latest counted failure."""


NO_FAILURES = Failures()


class FailureStore(Protocol):
    async def read(self, key: str, *, now: float) -> Failures: ...

    async def add(self, key: str, *, now: float, distinct: str | None = None) -> Failures:
        """Count a failure (with `distinct`: only if that value is new for the key); answer
        the counter afterwards."""
        ...

    async def claim_alert(self, key: str) -> bool:
        """True the first time it is called for the counter's current episode."""
        ...

    async def clear(self, key: str) -> None: ...


@dataclass(slots=True)
class _Entry:
    count: int = 0
    last: float = 0.0
    alerted: bool = False
    seen: set[str] = field(default_factory=set)


class MemoryFailureStore:
    """One process's counters (embedded mode)."""

    def __init__(self, *, forget_after: float, sweep_above: int = 50_000) -> None:
        self._forget_after = forget_after
        self._sweep_above = sweep_above
        self._entries: dict[str, _Entry] = {}

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and now - entry.last >= self._forget_after:
            del self._entries[key]
            return None
        return entry

    async def read(self, key: str, *, now: float) -> Failures:
        entry = self._live(key, now)
        return Failures(entry.count, entry.last) if entry else NO_FAILURES

    async def add(self, key: str, *, now: float, distinct: str | None = None) -> Failures:
        entry = self._live(key, now)
        if entry is None:
            entry = self._entries[key] = _Entry()
            self._sweep(now)
        if distinct is not None:
            if distinct in entry.seen:
                return Failures(entry.count, entry.last)
            entry.seen.add(distinct)
        entry.count += 1
        entry.last = now
        return Failures(entry.count, entry.last)

    async def claim_alert(self, key: str) -> bool:
        entry = self._entries.get(key)
        if entry is None or entry.alerted:
            return False
        entry.alerted = True
        return True

    async def clear(self, key: str) -> None:
        self._entries.pop(key, None)

    def _sweep(self, now: float) -> None:
        # Guessers that stopped leave counters behind: drop the forgotten ones now and then so
        # a spray over many addresses cannot grow the process without bound.
        if len(self._entries) > self._sweep_above:
            for key in [k for k, e in self._entries.items() if now - e.last >= self._forget_after]:
                del self._entries[key]


# One round trip, atomic across processes: forget a stale counter, skip a failure already
# seen, count, and keep the keys only as long as they matter.
_ADD = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last'))
if last and tonumber(ARGV[1]) - last >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1], KEYS[2])
end
if ARGV[3] ~= '' then
  if redis.call('SADD', KEYS[2], ARGV[3]) == 0 then
    local state = redis.call('HMGET', KEYS[1], 'count', 'last')
    return {state[1] or '0', state[2] or '0'}
  end
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {tostring(count), ARGV[1]}
"""

# Never creates a counter: one cleared a moment ago must not come back holding only the flag.
_CLAIM_ALERT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'alerted', '1')
"""


def _text(value: bytes | str | None) -> str:
    if value is None:
        return "0"
    return value.decode() if isinstance(value, bytes) else value


class RedisFailureStore:
    """Counters shared by every process: a hash per key (count, last, alerted) and, for
    distinct counting, a set of the values seen."""

    def __init__(
        self, redis: Redis, *, forget_after: float, prefix: str = "bizosaas:login:"
    ) -> None:
        self._redis = redis
        self._forget_after = forget_after
        self._ttl = math.ceil(forget_after) + 60
        self._prefix = prefix
        self._add = redis.register_script(_ADD)
        self._claim_alert = redis.register_script(_CLAIM_ALERT)

    def _keys(self, key: str) -> tuple[str, str]:
        return self._prefix + key, self._prefix + key + ":seen"

    async def read(self, key: str, *, now: float) -> Failures:
        count, last = await self._redis.hmget(self._keys(key)[0], ["count", "last"])
        failures = Failures(int(_text(count)), float(_text(last)))
        if failures.count == 0 or now - failures.last >= self._forget_after:
            return NO_FAILURES
        return failures

    async def add(self, key: str, *, now: float, distinct: str | None = None) -> Failures:
        count, last = await self._add(
            keys=list(self._keys(key)),
            args=[repr(now), repr(float(self._forget_after)), distinct or "", self._ttl],
        )
        return Failures(int(_text(count)), float(_text(last)))

    async def claim_alert(self, key: str) -> bool:
        return bool(await self._claim_alert(keys=[self._keys(key)[0]]))

    async def clear(self, key: str) -> None:
        await self._redis.delete(*self._keys(key))
