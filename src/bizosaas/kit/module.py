"""The contract between the gateway and a domain package.

Every domain's `__init__.py` exports `module = DomainModule(...)`. The gateway mounts `router`
under `/api/brain/<name>/` and `web` at the site root, the worker registers `workflows` and
`activities`, the agent runtime loads `toolsets`, and `bizosaas up` / `bizosaas demo seed` call
`seed` (which must be idempotent).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.cache import Cache
from bizosaas.kit.db import Database
from bizosaas.kit.events import EventBus, Handler
from bizosaas.settings import Settings


@dataclass(frozen=True, slots=True)
class SeedContext:
    session: AsyncSession
    settings: Settings
    say: Callable[[str], None]
    """Report progress to the person running the command."""
    credentials: list[tuple[str, str, str]] = field(default_factory=list)
    """(who, login, password) rows a module wants printed after seeding."""


Seeder = Callable[[SeedContext], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[None]]
"""Raises when the component is down."""


@dataclass(slots=True)
class Services:
    """What a module's `startup` hook may use and provide. The gateway exposes `provided`
    entries on `app.state` (e.g. identity provides `authenticator`)."""

    settings: Settings
    database: Database
    cache: Cache
    bus: EventBus
    redis: Redis | None
    provided: dict[str, Any] = field(default_factory=dict)
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    """Required components reported by /api/brain/health (503 when one fails)."""

    def provide(self, name: str, value: Any) -> None:
        if name in self.provided:
            raise ValueError(f"{name!r} is already provided by another module")
        self.provided[name] = value

    def add_health_check(self, name: str, check: HealthCheck) -> None:
        if name in self.health_checks:
            raise ValueError(f"health check {name!r} is already registered")
        self.health_checks[name] = check


Lifecycle = Callable[[Services], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DomainModule:
    name: str
    """The URL segment: routes live under /api/brain/<name>/."""
    title: str = ""
    router: APIRouter | None = None
    web: APIRouter | None = None
    workflows: Sequence[type] = ()
    activities: Sequence[Callable[..., Any]] = ()
    toolsets: Sequence[Any] = ()
    permissions: Mapping[str, str] = field(default_factory=dict)
    """Permission string (`<domain>.<resource>:<action>`) -> what it allows."""
    event_handlers: Mapping[str, Handler] = field(default_factory=dict)
    """Event name pattern -> idempotent handler, subscribed on the process's bus."""
    seed: Seeder | None = None
    startup: Lifecycle | None = None
    """Called once per process before serving (after the database and bus are ready)."""
    shutdown: Lifecycle | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").isalnum() or not self.name.islower():
            raise ValueError(f"module name {self.name!r} must be a lowercase URL segment")
