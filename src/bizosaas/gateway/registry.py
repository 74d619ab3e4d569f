"""The service registry: which remote services exist and where their instances are.

Local services are the modules mounted in this process (they never reach the registry).
Remote services come from configuration (see `config.py`) and from self-registration
(`POST /api/brain/registry/services`): a registered instance lives for its TTL and is
dropped unless it heartbeats. With Redis configured, registrations and drain marks are
kept in Redis and every gateway process merges them in on each sync, so all of them route
the same way; without Redis the registry is per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
import structlog
from prometheus_client import Gauge
from redis.asyncio import Redis

from bizosaas.gateway.balancer import Balancer, make_balancer
from bizosaas.gateway.circuit import CircuitBreaker, CircuitState
from bizosaas.gateway.config import ServiceSpec

log = structlog.get_logger(__name__)

INSTANCES_KEY = "bizosaas:gateway:instances"
DRAINED_KEY = "bizosaas:gateway:drained"

CIRCUIT_STATE = Gauge(
    "bizosaas_gateway_circuit_state",
    "Circuit state per upstream instance: 0 closed, 1 half-open, 2 open.",
    ["service", "instance"],
)
_STATE_VALUE = {CircuitState.closed: 0, CircuitState.half_open: 1, CircuitState.open: 2}

Source = Literal["config", "registered"]


def instance_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]


@dataclass(eq=False)
class Instance:
    service: str
    url: str
    source: Source
    circuit: CircuitBreaker
    health_path: str | None = None
    expires_at: float | None = None
    """Wall-clock expiry of a registration (None for configured instances)."""
    draining: bool = False
    healthy: bool | None = None
    """Active health (None: not checked yet). It turns False only after the unhealthy
    threshold of consecutive failed probes and True again after the healthy threshold of
    consecutive passing ones (see `record_probe`)."""
    failed_probes: int = 0
    """Consecutive failed probes; a passing probe or a successful live response resets it."""
    passed_probes: int = 0
    """Consecutive passing probes."""
    outstanding: int = 0
    latency_ms: float | None = None
    """Exponentially weighted time to response headers."""
    clock: Callable[[], float] = field(default=time.time, repr=False)
    """The registry's clock, which dates `expires_at`."""
    id: str = field(init=False)
    origin: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = instance_id(self.url)
        parts = urlsplit(self.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def available(self) -> bool:
        return not self.draining and self.healthy is not False and self.circuit.allows()

    def in_pool(self) -> bool:
        """Would take traffic but for a half-open circuit's one trial at a time."""
        return not self.draining and self.healthy is not False and not self.circuit.ejected

    def record_probe(self, passed: bool, *, unhealthy_after: int, healthy_after: int) -> bool:
        """Count an active health check's result; True when the instance's health changed.

        One slow or failed probe does not take an instance out: it leaves the pool after
        `unhealthy_after` failed probes in a row (Envoy's `unhealthy_threshold`) and comes
        back after `healthy_after` passing ones in a row (`healthy_threshold`). An instance
        not checked yet is healthy on its first passing probe."""
        before = self.healthy
        if passed:
            self.failed_probes = 0
            self.passed_probes += 1
            if self.healthy is None or self.passed_probes >= healthy_after:
                self.healthy = True
            if before is False and self.healthy:
                # Back after being down: whatever outlier detection saw while it was down
                # is over. A steadily healthy instance's probes leave an ejection alone:
                # a health endpoint that answers says little about 5xx on real requests.
                self.circuit.record_success()
        else:
            self.passed_probes = 0
            self.failed_probes += 1
            if self.failed_probes >= unhealthy_after:
                self.healthy = False
        return before is not self.healthy and self.healthy is not None

    def record_live_success(self) -> None:
        """A proxied request got an answer that is not a failure: the instance is serving,
        whatever its probes say while it is busy."""
        self.failed_probes = 0
        self.circuit.record_success()

    def observe_latency(self, seconds: float) -> None:
        sample = seconds * 1000
        self.latency_ms = (
            sample if self.latency_ms is None else self.latency_ms * 0.8 + sample * 0.2
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "source": self.source,
            "circuit": self.circuit.state.value,
            "healthy": self.healthy,
            "draining": self.draining,
            "outstanding": self.outstanding,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
            "consecutive_failures": self.circuit.failures,
            "failed_probes": self.failed_probes,
            "ejections": self.circuit.ejections,
            "expires_in": None
            if self.expires_at is None
            else round(max(0.0, self.expires_at - self.clock()), 1),
        }


@dataclass(eq=False)
class Service:
    name: str
    spec: ServiceSpec
    balancer: Balancer
    instances: dict[str, Instance] = field(default_factory=dict)
    route_label: str = field(init=False)
    """Route template used in access logs and metrics."""

    def __post_init__(self) -> None:
        self.route_label = f"/api/brain/{self.name}/{{path}}"

    def pick(self, exclude: tuple[Instance, ...] = ()) -> Instance | None:
        candidates = [i for i in self.instances.values() if i.available() and i not in exclude]
        if not candidates and not any(i.in_pool() for i in self.instances.values()):
            # Panic routing, as Envoy does: with no instance healthy, health checks are more
            # likely wrong than every instance dead (a saturated instance answers probes late,
            # and a flood of 503s would starve the probes that could bring it back). Traffic
            # goes to every instance not drained or ejected; one that is really down fails fast
            # on its own (and its circuit, when outlier detection may open it).
            candidates = [
                i
                for i in self.instances.values()
                if not i.draining and i.circuit.allows() and i not in exclude
            ]
        return self.balancer.pick(candidates)

    def may_eject(self, instance: Instance, max_percent: float) -> bool:
        """Outlier detection's budget: at most `max_percent` of the instances ejected at
        once (rounded down, so below 100 the last instance is never ejected), and never one
        whose ejection would leave no instance in the pool."""
        total = len(self.instances)
        ejected = sum(1 for i in self.instances.values() if i.circuit.ejected)
        if (ejected + 1) * 100 > total * max_percent:
            return False
        if max_percent >= 100:
            return True
        return any(i.in_pool() for i in self.instances.values() if i is not instance)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "remote",
            "balancer": self.spec.balancer,
            "timeout": self.spec.timeout,
            "health_path": self.spec.health_path,
            "instances": [i.describe() for i in self.instances.values()],
        }


@dataclass(frozen=True)
class Registration:
    service: str
    url: str
    expires_at: float
    health_path: str | None = None
    timeout: float | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Registration:
        return cls(**orjson.loads(raw))


class Registry:
    def __init__(
        self,
        *,
        local: frozenset[str],
        failure_threshold: int = 3,
        open_seconds: float = 5.0,
        max_open_seconds: float = 300.0,
        max_ejection_percent: float = 50.0,
        redis: Redis | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` dates registrations: wall-clock time, because their expiry is shared with
        other gateway processes through Redis."""
        self.local = local
        self.services: dict[str, Service] = {}
        self._failure_threshold = failure_threshold
        self._open_seconds = open_seconds
        self._max_open_seconds = max_open_seconds
        self._max_ejection_percent = max_ejection_percent
        self._redis = redis
        self._clock = clock
        self._configured: dict[str, ServiceSpec] = {}
        self._registrations: dict[tuple[str, str], Registration] = {}
        self._drained: set[tuple[str, str]] = set()
        self._ever_registered: set[str] = set()
        # Serialises changes with the Redis sync, so a sync's older snapshot never replaces a
        # registration made while it was reading.
        self._lock = asyncio.Lock()

    # -- configuration --------------------------------------------------------------------

    def configure(self, specs: dict[str, ServiceSpec]) -> None:
        """Apply configured services; instances whose URL is unchanged keep their state."""
        clashes = sorted(set(specs) & self.local)
        if clashes:
            log.warning("gateway_remote_shadowed_by_local", services=clashes)
        self._configured = {name: spec for name, spec in specs.items() if name not in self.local}
        self._rebuild()

    def _rebuild(self) -> None:
        now = self._clock()
        wanted: dict[str, ServiceSpec] = dict(self._configured)
        for (name, _), registration in self._registrations.items():
            if name not in wanted and name not in self.local:
                wanted[name] = ServiceSpec(
                    timeout=registration.timeout or 10.0,
                    health_path=registration.health_path,
                    balancer="least_outstanding",
                )
        for name in self._ever_registered:
            # A registered service whose instances all expired stays known: it answers 503
            # naming the service rather than 404.
            if name not in wanted and name in self.services and name not in self.local:
                wanted[name] = self.services[name].spec
        for name in list(self.services):
            if name not in wanted:
                del self.services[name]
        for name, spec in wanted.items():
            service = self.services.get(name)
            if service is None or service.spec.balancer != spec.balancer:
                service = Service(
                    name=name,
                    spec=spec,
                    balancer=make_balancer(spec.balancer),
                    instances=service.instances if service else {},
                )
                self.services[name] = service
            service.spec = spec
            self._sync_instances(service, now)

    def _sync_instances(self, service: Service, now: float) -> None:
        name, spec = service.name, service.spec
        urls: dict[str, tuple[Source, Registration | None]] = {
            url: ("config", None) for url in spec.urls
        }
        for (reg_name, url), reg in self._registrations.items():
            if reg_name == name and reg.expires_at > now:
                urls.setdefault(url, ("registered", reg))
        for key in [k for k, i in service.instances.items() if i.url not in urls]:
            with contextlib.suppress(KeyError):
                CIRCUIT_STATE.remove(name, key)
            del service.instances[key]
        for url, (source, registration) in urls.items():
            instance = service.instances.get(instance_id(url))
            if instance is None:
                instance = self._new_instance(name, url, source)
                service.instances[instance.id] = instance
            instance.source = source
            instance.health_path = (
                registration.health_path if registration else None
            ) or spec.health_path
            instance.expires_at = registration.expires_at if registration else None
            instance.draining = (name, instance.id) in self._drained

    def _new_instance(self, name: str, url: str, source: Source) -> Instance:
        gauge = CIRCUIT_STATE.labels(name, instance_id(url))
        gauge.set(0)

        def on_change(state: CircuitState) -> None:
            gauge.set(_STATE_VALUE[state])
            log.info("gateway_circuit_changed", service=name, url=url, state=state.value)

        circuit = CircuitBreaker(
            failure_threshold=self._failure_threshold,
            open_seconds=self._open_seconds,
            max_open_seconds=self._max_open_seconds,
            listener=on_change,
        )
        instance = Instance(
            service=name, url=url, source=source, circuit=circuit, clock=self._clock
        )

        def may_eject() -> bool:
            service = self.services.get(name)
            return service is not None and service.may_eject(instance, self._max_ejection_percent)

        circuit.may_open = may_eject
        return instance

    # -- lookups ---------------------------------------------------------------------------

    def remote(self, name: str) -> Service | None:
        return self.services.get(name)

    def describe(self) -> list[dict[str, Any]]:
        remote = [self.services[name].describe() for name in sorted(self.services)]
        local = [{"name": name, "kind": "local", "instances": []} for name in sorted(self.local)]
        return sorted(local + remote, key=lambda s: str(s["name"]))

    def find(self, service: str, instance: str) -> Instance | None:
        found = self.services.get(service)
        return found.instances.get(instance) if found else None

    # -- registration, heartbeats, drain (shared through Redis when configured) -----------

    async def register(
        self,
        service: str,
        url: str,
        *,
        ttl: float,
        health_path: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the service's timeout, not ours
    ) -> Instance:
        url = url.rstrip("/")
        registration = Registration(
            service=service,
            url=url,
            expires_at=self._clock() + ttl,
            health_path=health_path,
            timeout=timeout,
        )
        async with self._lock:
            if self._redis is not None:
                await self._redis.hset(INSTANCES_KEY, f"{service}|{url}", registration.to_json())
            self._registrations[(service, url)] = registration
            self._ever_registered.add(service)
            self._rebuild()
            instance = self.services[service].instances[instance_id(url)]
        log.info("gateway_instance_registered", service=service, url=url, ttl=ttl)
        return instance

    async def heartbeat(self, service: str, instance: str, *, ttl: float) -> bool:
        await self.sync()
        found = self.find(service, instance)
        if found is None or found.source != "registered":
            return False
        current = self._registrations[(service, found.url)]
        await self.register(
            service,
            found.url,
            ttl=ttl,
            health_path=current.health_path,
            timeout=current.timeout,
        )
        return True

    async def deregister(self, service: str, instance: str) -> bool:
        found = self.find(service, instance)
        if found is None or found.source != "registered":
            return False
        async with self._lock:
            if self._redis is not None:
                await self._redis.hdel(INSTANCES_KEY, f"{service}|{found.url}")
            self._registrations.pop((service, found.url), None)
            self._rebuild()
        return True

    async def set_draining(self, service: str, instance: str, draining: bool) -> Instance | None:
        found = self.find(service, instance)
        if found is None:
            return None
        key = (service, instance)
        async with self._lock:
            if self._redis is not None:
                field_name = f"{service}|{instance}"
                if draining:
                    await self._redis.hset(DRAINED_KEY, field_name, b"1")
                else:
                    await self._redis.hdel(DRAINED_KEY, field_name)
            if draining:
                self._drained.add(key)
            else:
                self._drained.discard(key)
            found.draining = draining
        return found

    async def sync(self) -> None:
        """Merge Redis's view and drop expired registrations."""
        async with self._lock:
            await self._sync()

    async def _sync(self) -> None:
        now = self._clock()
        if self._redis is not None:
            raw: dict[Any, Any] = await self._redis.hgetall(INSTANCES_KEY)
            registrations: dict[tuple[str, str], Registration] = {}
            expired: list[bytes] = []
            for key, value in raw.items():
                try:
                    registration = Registration.from_json(value)
                except (ValueError, TypeError):
                    expired.append(key)
                    continue
                if registration.expires_at <= now:
                    expired.append(key)
                else:
                    registrations[(registration.service, registration.url)] = registration
            if expired:
                await self._redis.hdel(INSTANCES_KEY, *expired)
            self._registrations = registrations
            self._ever_registered.update(name for name, _ in registrations)
            drained: dict[Any, Any] = await self._redis.hgetall(DRAINED_KEY)
            self._drained = {
                (parts[0], parts[1])
                for parts in (key.decode().split("|", 1) for key in drained)
                if len(parts) == 2
            }
        else:
            self._registrations = {
                key: reg for key, reg in self._registrations.items() if reg.expires_at > now
            }
        self._rebuild()
