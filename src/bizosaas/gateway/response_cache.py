"""A response cache for cacheable GETs, keyed by URL, tenant and user, invalidated by events.

Rules (`cache` in the gateway configuration) name a service, a route glob, a TTL and what the
response depends on (`vary`: tenant, user). Only 200 responses are stored, and never one with
`Set-Cookie`, `Cache-Control: private/no-store/no-cache` or `Vary: *`; a request with
`Cache-Control: no-store` bypasses the cache.

Invalidation works by generations: each key holds the generation of its rule for the tenant
(and a global one). A domain event matching a rule's `invalidate_on` patterns, relayed from the
outbox to the bus, moves that tenant's generation on (the event id becomes the generation, so
every process sharing Redis agrees on it); old entries are then never read again and expire.
A successful write (POST, PUT, PATCH, DELETE) through the gateway also moves the writer's
tenant generation on at once in the process that served it.
"""

from __future__ import annotations

import fnmatch
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bizosaas.gateway.config import CacheRule
from bizosaas.gateway.principal import caller_principal
from bizosaas.gateway.proxy import split_service
from bizosaas.kit.cache import Cache
from bizosaas.kit.events import Event

CACHE_LOOKUPS = Counter(
    "bizosaas_gateway_cache_total",
    "Response cache lookups, by service and result.",
    ["service", "result"],
)
GENERATION_TTL = 7 * 24 * 3600
GENERATION_MEMO_SECONDS = 1.0
"""How long a process trusts its copy of a generation before reading the shared one again."""
GLOBAL = "*"
_UNCACHEABLE = (b"private", b"no-store", b"no-cache")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class _Rule:
    id: str
    rule: CacheRule

    def matches(self, service: str, rest: str) -> bool:
        if self.rule.service != service:
            return False
        return self.rule.route == "*" or fnmatch.fnmatchcase(rest or "/", self.rule.route)


def _storable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status != 200:
        return False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"set-cookie":
            return False
        if lowered == b"cache-control" and any(t in value.lower() for t in _UNCACHEABLE):
            return False
        if lowered == b"vary" and value.strip() == b"*":
            return False
    return True


def _encode(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    head = {
        "s": status,
        "t": time.time(),
        "h": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in headers],
    }
    return orjson.dumps(head) + b"\n" + body


def _decode(raw: bytes) -> tuple[int, float, list[tuple[bytes, bytes]], bytes]:
    head, _, body = raw.partition(b"\n")
    data = orjson.loads(head)
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in data["h"]]
    return int(data["s"]), float(data["t"]), headers, body


class ResponseCache:
    def __init__(self, cache: Cache, rules: tuple[CacheRule, ...]) -> None:
        self.cache = cache
        self._memo: dict[str, tuple[float, str]] = {}
        self.configure(rules)

    def configure(self, rules: tuple[CacheRule, ...]) -> None:
        self._rules = [_Rule(id=rule.name or str(i), rule=rule) for i, rule in enumerate(rules)]
        self._services = frozenset(rule.service for rule in rules)
        self._memo.clear()

    def applies_to(self, service: str) -> bool:
        return service in self._services

    def rule_for(self, service: str, rest: str) -> _Rule | None:
        for rule in self._rules:
            if rule.matches(service, rest):
                return rule
        return None

    # -- generations -------------------------------------------------------------------

    @staticmethod
    def _generation_key(rule_id: str, tenant: str) -> str:
        return f"gateway:gen:{rule_id}:{tenant}"

    async def generation(self, rule_id: str, tenant: str) -> str:
        key = self._generation_key(rule_id, tenant)
        memo = self._memo.get(key)
        now = time.monotonic()
        if memo is not None and memo[0] > now:
            return memo[1]
        stored = await self.cache.get(key)
        if stored is None:
            value = uuid.uuid4().hex
            await self.cache.set(key, value.encode(), ttl=GENERATION_TTL)
        else:
            value = stored.decode()
        self._memo[key] = (now + GENERATION_MEMO_SECONDS, value)
        return value

    async def bump(self, rule_id: str, tenant: str, value: str) -> None:
        key = self._generation_key(rule_id, tenant)
        await self.cache.set(key, value.encode(), ttl=GENERATION_TTL)
        self._memo[key] = (time.monotonic() + GENERATION_MEMO_SECONDS, value)

    async def on_event(self, event: Event) -> None:
        """Bus handler: invalidate every rule whose patterns match the event."""
        tenant = str(event.tenant_id) if event.tenant_id else GLOBAL
        for rule in self._rules:
            if any(fnmatch.fnmatchcase(event.name, p) for p in rule.rule.invalidation_patterns):
                await self.bump(rule.id, _scope_of(rule, tenant), event.id.hex)

    async def invalidate_service(self, service: str, tenant: str) -> None:
        value = uuid.uuid4().hex
        for rule in self._rules:
            if rule.rule.service == service:
                await self.bump(rule.id, _scope_of(rule, tenant), value)

    # -- keys --------------------------------------------------------------------------

    async def key_for(self, scope: Scope, rule: _Rule, tenant: str, user: str) -> str:
        encoding = b""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                encoding = value
                break
        generations = (
            await self.generation(rule.id, GLOBAL),
            await self.generation(rule.id, tenant) if tenant != GLOBAL else "",
        )
        query = scope.get("query_string", b"").decode("latin-1")
        vary = rule.rule.vary
        return ":".join(
            (
                "gateway:rc",
                rule.id,
                *generations,
                tenant if "tenant" in vary else "",
                user if "user" in vary else "",
                scope["method"],
                encoding.decode("latin-1"),
                scope["path"] + "?" + query,
            )
        )


def _scope_of(rule: _Rule, tenant: str) -> str:
    """The generation a change in `tenant` moves on: the tenant's own when the rule's entries
    are per tenant, the global one when they are shared."""
    return tenant if "tenant" in rule.rule.vary else GLOBAL


async def _who(scope: Scope) -> tuple[str, str]:
    """(tenant, user) of the caller; anonymous and invalid credentials are `*` / `-`."""
    principal = await caller_principal(scope)
    if principal is None:
        return GLOBAL, "-"
    tenant = str(principal.scope.tenant_id) if principal.scope else GLOBAL
    return tenant, str(principal.subject)


class ResponseCacheMiddleware:
    def __init__(self, app: ASGIApp, *, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parts = split_service(scope["path"])
        if parts is None or not self.cache.applies_to(parts[0]):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        if method in WRITE_METHODS:
            await self._write(scope, receive, send, parts[0])
            return
        rule = self.cache.rule_for(*parts) if method in ("GET", "HEAD") else None
        if rule is None or _bypass(scope):
            await self.app(scope, receive, send)
            return
        tenant, user = await _who(scope)
        key = await self.cache.key_for(scope, rule, tenant, user)
        stored = await self.cache.cache.get(key)
        if stored is not None:
            CACHE_LOOKUPS.labels(parts[0], "hit").inc()
            await _replay(send, stored)
            return
        CACHE_LOOKUPS.labels(parts[0], "miss").inc()
        await self._fill(scope, receive, send, rule, key)

    async def _write(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if 200 <= status < 300:
            tenant, _ = await _who(scope)
            await self.cache.invalidate_service(service, tenant)

    async def _fill(
        self, scope: Scope, receive: Receive, send: Send, rule: _Rule, key: str
    ) -> None:
        limit = rule.rule.max_bytes
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        size = 0
        storable = False

        async def capture(message: Message) -> None:
            nonlocal storable, size
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                storable = _storable(message["status"], headers)
                start.update(status=message["status"], headers=headers)
                message = {**message, "headers": [*headers, (b"x-cache", b"miss")]}
            elif message["type"] == "http.response.body" and storable:
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    storable = False
                    chunks.clear()
                else:
                    chunks.append(chunk)
                if storable and not message.get("more_body", False):
                    await self.cache.cache.set(
                        key,
                        _encode(start["status"], start["headers"], b"".join(chunks)),
                        ttl=rule.rule.ttl,
                    )
            await send(message)

        await self.app(scope, receive, capture)


def _bypass(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"cache-control" and b"no-store" in value.lower():
            return True
    return False


async def _replay(send: Send, stored: bytes) -> None:
    status, stored_at, headers, body = _decode(stored)
    headers = [
        *headers,
        (b"x-cache", b"hit"),
        (b"age", str(max(0, int(time.time() - stored_at))).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
