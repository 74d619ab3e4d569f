"""Rate limiting with the `limits` library: per IP, per user and per tenant, per service/route.

Rules come from the gateway configuration (`rate_limits`, see docs/gateway.md). Every rule
matching a request is charged (fixed windows); if any is exhausted the answer is 429 with
`Retry-After`. Every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` for the tightest matching rule. With Redis configured the counters live in
Redis, so a limit holds across all gateway processes.
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bizosaas.gateway.config import Per, RateLimitRule
from bizosaas.gateway.principal import caller_principal
from bizosaas.gateway.proxy import split_service
from bizosaas.kit.errors import RateLimited, problem_response
from bizosaas.kit.ratelimit import limits_storage

RATE_LIMITED = Counter(
    "bizosaas_gateway_rate_limited_total", "Requests refused with 429, by service.", ["service"]
)


@dataclass(frozen=True)
class _Limit:
    key: str
    item: RateLimitItem
    per: Per
    service: str
    route: str
    methods: frozenset[str]

    def matches(self, service: str, rest: str, method: str) -> bool:
        if self.service not in ("*", service):
            return False
        if self.methods and method not in self.methods:
            return False
        return self.route == "*" or fnmatch.fnmatchcase(rest or "/", self.route)


def build_limits(rules: tuple[RateLimitRule, ...]) -> list[_Limit]:
    limits: list[_Limit] = []
    for position, rule in enumerate(rules):
        for part, item in enumerate(parse_many(rule.limit)):
            limits.append(
                _Limit(
                    key=f"{rule.name or position}.{part}",
                    item=item,
                    per=rule.per,
                    service=rule.service,
                    route=rule.route,
                    methods=frozenset(m.upper() for m in rule.methods),
                )
            )
    return limits


def make_storage(redis_url: str | None) -> Storage:
    return limits_storage(redis_url, key_prefix="bizosaas:ratelimit")


class RateLimiter:
    def __init__(
        self,
        rules: tuple[RateLimitRule, ...],
        storage: Storage,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` must be the one the storage dates its windows by (wall-clock time for the
        `limits` storages), since a window's end is computed from both."""
        self.storage = storage
        self._clock = clock
        self.configure(rules)

    def configure(self, rules: tuple[RateLimitRule, ...]) -> None:
        self._limits = build_limits(rules)
        self._by_service: dict[str, list[_Limit]] = {}
        self._window_ends: dict[str, float] = {}
        self._keys: dict[tuple[str, str, str], str] = {}

    def _storage_key(self, limit: _Limit, service: str, who: str) -> str:
        """The storage key of `limit` for one caller of one service, built once per caller."""
        cache_key = (limit.key, service, who)
        key = self._keys.get(cache_key)
        if key is None:
            if len(self._keys) > 100_000:
                self._keys.clear()
            key = self._keys[cache_key] = limit.item.key_for(limit.key, service, who)
        return key

    async def _reset_at(self, key: str, count: int, now: float, window: int) -> float:
        """When the window of `key` ends. The first hit of a window starts it; otherwise the
        end is asked of the storage once (another process may have started the window) and
        remembered until it passes."""
        if count == 1:
            reset_at = now + window
        else:
            known = self._window_ends.get(key)
            if known is not None and known > now:
                return known
            reset_at = await self.storage.get_expiry(key)
        if len(self._window_ends) > 100_000:
            self._window_ends.clear()
        self._window_ends[key] = reset_at
        return reset_at

    def candidates(self, service: str) -> list[_Limit]:
        found = self._by_service.get(service)
        if found is None:
            found = [limit for limit in self._limits if limit.service in ("*", service)]
            self._by_service[service] = found
        return found

    async def identity(self, scope: Scope, per: Per) -> str:
        if per != "ip":
            principal = await caller_principal(scope)
            if principal is not None:
                if per == "user":
                    return f"user:{principal.subject}"
                if principal.scope is not None:
                    return f"tenant:{principal.scope.tenant_id}"
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"

    async def charge(
        self, scope: Scope, service: str, rest: str
    ) -> tuple[bool, tuple[int, int, int] | None]:
        """Charge every matching limit; returns (allowed, (limit, remaining, reset) of the
        tightest one) or (True, None) when no rule applies."""
        method: str = scope["method"]
        tightest: tuple[int, int, int] | None = None
        allowed = True
        now = self._clock()
        for limit in self.candidates(service):
            if not limit.matches(service, rest, method):
                continue
            who = await self.identity(scope, limit.per)
            key = self._storage_key(limit, service, who)
            count = await self.storage.incr(key, limit.item.get_expiry())
            remaining = max(0, limit.item.amount - count)
            if count > limit.item.amount:
                allowed = False
            if tightest is None or remaining < tightest[1] or count > limit.item.amount:
                reset_at = await self._reset_at(key, count, now, limit.item.get_expiry())
                reset = min(limit.item.get_expiry(), max(0, math.ceil(reset_at - now)))
                tightest = (limit.item.amount, remaining, reset)
        return allowed, tightest


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parts = split_service(scope["path"])
        if parts is None or not self.limiter.candidates(parts[0]):
            await self.app(scope, receive, send)
            return
        allowed, tightest = await self.limiter.charge(scope, parts[0], parts[1])
        if tightest is None:
            await self.app(scope, receive, send)
            return
        limit, remaining, reset = tightest
        extra = [
            (b"ratelimit-limit", str(limit).encode()),
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(reset).encode()),
        ]
        if not allowed:
            RATE_LIMITED.labels(parts[0]).inc()
            problem = RateLimited(
                f"Too many requests to {parts[0]}; retry in {max(1, reset)}s.",
                headers={
                    "retry-after": str(max(1, reset)),
                    "ratelimit-limit": str(limit),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                },
            )
            response = problem_response(problem.body(instance=scope["path"]), problem.headers)
            await response(scope, receive, send)
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                headers.extend(extra)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_limits)
