"""The contract between the platform and a domain package.

Every domain's `__init__.py` exports `module = DomainModule(...)`, and the platform wires
everything the module declares; nothing registers itself at import time. See
docs/domains.md ("Adding a domain") for the whole walk-through.

| field | wired by |
|---|---|
| `router` | the gateway, under `/api/brain/<name>/` |
| `web`, `navigation`, `templates` | the web shell: pages at the site root, links in each app's navigation, a template folder in the app's Jinja loader |
| `migrations` | Alembic: one more version location in the one history (`bizosaas db upgrade`) |
| `permissions`, `role_grants` | the permission catalogue (kit/permissions.py, on `Services.permissions` and `app.state.permissions`) and the roles editor; a route, link or exact grant naming an undeclared permission stops start-up |
| `events`, `event_handlers` | typed outbox events (payload validated on write, listed in docs/events.md) and bus subscriptions (an exact name no module declares stops start-up) |
| `workflows`, `activities` | the Temporal worker (`bizosaas worker`, and in-process under `up`) |
| `workflow_triggers` | the workflows module's event starter: one workflow per relayed event, id `<tenant>:<kind>:<key>` |
| `toolsets` | the agent runtime's catalogue of tools over tenant data (`GET /api/brain/platform/toolsets`; ids unique) |
| `seed` | `bizosaas up` and `bizosaas demo seed` (idempotent) |
| `health_checks` | `/api/brain/health` (503 naming the component that failed) |
| `settings` | the module's own `BIZOSAAS_<NAME>_*` settings, validated at start-up |
| `startup`, `shutdown` | once per process, around serving |
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.auth import Principal
from bizosaas.kit.cache import Cache
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event, EventBus
from bizosaas.kit.permissions import PermissionCatalogue
from bizosaas.kit.tenancy import TenantScope
from bizosaas.settings import Settings


@dataclass(frozen=True, slots=True)
class SeedContext:
    session: AsyncSession
    settings: Settings
    say: Callable[[str], None]
    """Report progress to the person running the command."""
    credentials: list[tuple[str, str, str]] = field(default_factory=list)
    """(who, login, password) rows a module wants printed after seeding."""


class Background(Protocol):
    """A part that runs beside serving, on the process's event loop."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


Seeder = Callable[[SeedContext], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[None]]
"""Raises when the component is down."""


ModuleSettingsT = TypeVar("ModuleSettingsT", bound=BaseSettings)


@dataclass(slots=True)
class Services:
    """What a module's hooks may use and provide. The gateway exposes `provided` entries on
    `app.state` (e.g. identity provides `authenticator`), and the permission catalogue as
    `app.state.permissions`."""

    settings: Settings
    database: Database
    cache: Cache
    bus: EventBus
    redis: Redis | None
    modules: Sequence[DomainModule] = ()
    """Every enabled module, so a hook can read the others' declarations (in split mode too,
    where this process serves only one of them)."""
    permissions: PermissionCatalogue = field(default_factory=PermissionCatalogue)
    """The enabled modules' permissions and the role matrix their grants extend."""
    loaded_settings: Mapping[str, BaseSettings] = field(default_factory=dict)
    """Module name -> its settings object, loaded and validated at start-up."""
    provided: dict[str, Any] = field(default_factory=dict)
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    """Required components reported by /api/brain/health (503 when one fails)."""
    background: dict[str, Background] = field(default_factory=dict)
    """Long-running parts a module starts (a Temporal worker ...): the platform starts them
    once every module's startup hook has run, and stops them before any shutdown hook."""

    def module_settings(self, name: str, kind: type[ModuleSettingsT]) -> ModuleSettingsT:
        """The settings module `name` declared (`DomainModule.settings`), as loaded at start-up:
        `services.module_settings("notes", NotesSettings)`."""
        loaded = self.loaded_settings.get(name)
        if loaded is None:
            raise LookupError(f"module {name!r} is not enabled or declares no settings")
        if not isinstance(loaded, kind):
            raise TypeError(f"module {name!r} settings are {type(loaded).__name__}, not {kind}")
        return loaded

    def provide(self, name: str, value: Any) -> None:
        if name in self.provided:
            raise ValueError(f"{name!r} is already provided by another module")
        self.provided[name] = value

    def add_health_check(self, name: str, check: HealthCheck) -> None:
        if name in self.health_checks:
            raise ValueError(f"health check {name!r} is already registered")
        self.health_checks[name] = check

    def run_in_background(self, name: str, part: Background) -> None:
        if name in self.background:
            raise ValueError(f"background part {name!r} is already registered")
        self.background[name] = part


def get_services(request: Request) -> Services:
    """Dependency: the process's `Services` (e.g. a route reading its module's settings)."""
    return cast(Services, request.app.state.services)


Lifecycle = Callable[[Services], Awaitable[None]]
ActivityFactory = Callable[[Services], Sequence[Callable[..., Any]]]
"""Builds a module's Temporal activities around the process's services (database, bus ...),
so an activity reaches what it needs through its closure, not through a global."""
ModuleHealthCheck = Callable[[Services], Awaitable[None]]
EventHandler = Callable[[Event, Services], Awaitable[None]]
"""An idempotent bus handler; called with the event and the process's services, so it reaches
the database (or a mailer, a client ...) explicitly, never through a global."""
"""Raises when the component is down; called with the process's services."""


# -- pages ----------------------------------------------------------------------------------


class WebApp(StrEnum):
    """The web apps a module can add pages to."""

    admin = "admin"
    """The platform admin console at /admin (platform administrators)."""
    workspace = "workspace"
    """A tenant's workspace at /app."""
    public = "public"
    """Public pages (sign-in, storefront, marketing site)."""


@dataclass(frozen=True, slots=True)
class NavLink:
    """A navigation entry a module adds to one of the apps' sections."""

    app: WebApp
    section: str
    """A section the shell defines for `app` (see web/navigation.py); unknown ones stop start-up."""
    label: str
    href: str
    permission: str | None = None
    """Shown only to a viewer whose principal `can()` this permission."""
    roles: frozenset[str] = frozenset()
    """Shown only to a viewer holding one of these roles (empty: any role)."""
    super_admin: bool = False
    icon: str = "dot"
    """Name of an icon in the shell's sprite (templates/icons.html)."""

    def visible_to(self, principal: Principal) -> bool:
        if self.super_admin and not principal.is_super_admin:
            return False
        if self.roles and not (self.roles & principal.roles) and not principal.is_super_admin:
            return False
        return self.permission is None or principal.can(self.permission)

    def is_current(self, path: str) -> bool:
        root = self.href.rstrip("/")
        if root in {"/app", "/admin"}:
            return path.rstrip("/") == root
        return path == root or path.startswith(root + "/")


# -- events and tools -----------------------------------------------------------------------

PayloadT = TypeVar("PayloadT", bound=BaseModel)
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_TOOLSET_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


class InvalidEventPayload(ValueError):
    """A payload that is not an instance of its event's schema, or whose data the schema
    refuses. Raised before anything is written, so a bad event never reaches the outbox."""


@dataclass(frozen=True, slots=True)
class EventType(Generic[PayloadT]):
    """A domain event: its name (`<domain>.<event>`) and the schema of its payload.

    Code records it with `kit.outbox.record_event(session, EVENT, Payload(...))`; the payload is
    validated against `schema` when written, and handlers read it back with `EVENT.parse(event)`.
    """

    name: str
    schema: type[PayloadT]
    description: str = ""

    def __post_init__(self) -> None:
        if not _EVENT_NAME.match(self.name):
            raise ValueError(f"event name {self.name!r} must read '<domain>.<event>' (lowercase)")
        if not (isinstance(self.schema, type) and issubclass(self.schema, BaseModel)):
            raise TypeError(f"the schema of {self.name} must be a Pydantic model class")

    def dump(self, payload: PayloadT) -> dict[str, Any]:
        """The payload as stored (JSON types), after checking it against the schema again: a
        model built with `model_construct` or mutated after validation is caught here."""
        if type(payload) is not self.schema:
            raise InvalidEventPayload(
                f"{self.name} takes a {self.schema.__name__} payload, not {type(payload).__name__}"
            )
        try:
            data = payload.model_dump(mode="json", warnings="error")
            self.schema.model_validate(data)
        except (ValidationError, PydanticSerializationError) as error:
            raise InvalidEventPayload(f"invalid {self.name} payload: {error}") from error
        return data

    def parse(self, event: Event) -> PayloadT:
        """The typed payload of a relayed `event` of this type (for handlers)."""
        if event.name != self.name:
            raise ValueError(f"event {event.id} is {event.name}, not {self.name}")
        return self.schema.model_validate(event.payload)

    def json_schema(self) -> dict[str, Any]:
        return self.schema.model_json_schema()


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a tool runs with: the process's services and the tenant the agent acts for (from
    the verified principal that started the run). A tool opens its own unit of work bound to
    `scope`, so the ORM filter and row-level security hold as in a request."""

    services: Services
    scope: TenantScope


@dataclass(frozen=True, slots=True)
class Toolset:
    """Tools an agent may use over a domain's tenant data. `id` is a stable contract.

    A tool is an async function whose first parameter is a `ToolContext` and whose other
    parameters (annotated, with `Field(description=...)` where a name is not enough) are what
    the model fills in; its docstring tells the model what it does. Ids are unique across the
    enabled modules (a duplicate stops start-up).
    """

    id: str
    title: str
    description: str
    tools: Sequence[Callable[..., Any]] = ()

    def __post_init__(self) -> None:
        if not _TOOLSET_ID.match(self.id):
            raise ValueError(f"toolset id {self.id!r} must be lowercase letters, digits, - or _")
        names = [tool.__name__ for tool in self.tools]
        if len(set(names)) != len(names):
            raise ValueError(f"toolset {self.id}: tool names must be unique: {names}")
        for tool in self.tools:
            if not inspect.iscoroutinefunction(tool) or not (tool.__doc__ or "").strip():
                raise ValueError(
                    f"toolset {self.id}: {tool.__name__} must be an async function with a "
                    "docstring (the model reads it)"
                )


@dataclass(frozen=True, slots=True)
class WorkflowTrigger:
    """Start the workflow `workflow` (its Temporal type name) for every relayed event named
    `event`, with the id `<tenant>:<kind>:<key(event)>`: an event relayed twice (delivery is
    at-least-once) finds that id taken and starts nothing more. `input` builds the workflow's
    input from the event (its `tenant_id` was written by the platform from a verified scope);
    `workload` names the task queue (see workflows/queues.py)."""

    event: str
    workflow: str
    kind: str
    key: Callable[[Event], str]
    input: Callable[[Event], BaseModel]
    workload: str = "default"


# -- settings -------------------------------------------------------------------------------


class ModuleSettings(BaseSettings):
    """Base for a module's own settings class (`DomainModule.settings`): read like the
    platform's, from the environment or `.env`, once at start-up, with the prefix
    `BIZOSAAS_<NAME>_` the platform gives it (see kit/contract.py)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )


# -- the module -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainModule:
    name: str
    """The URL segment: routes live under /api/brain/<name>/."""
    title: str = ""
    """What people call the module (admin console, docs, `bizosaas` output)."""
    router: APIRouter | None = None
    web: APIRouter | None = None
    """Page routes, mounted at the site root (`route_class=web.shell.WebRoute`)."""
    navigation: Sequence[NavLink] = ()
    templates: Path | None = None
    """A folder added to the web apps' template loader; its templates live in a sub-folder
    named after the module (`<domain>/templates/<domain>/page.html`)."""
    migrations: Path | None = None
    """An Alembic versions folder holding this module's migrations (one history with the
    platform's own: the module's first revision names its branch label)."""
    permissions: Mapping[str, str] = field(default_factory=dict)
    """Permission string (`<domain>.<resource>:<action>`) -> what it allows."""
    role_grants: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Role -> permission patterns this module grants it, beyond the platform's matrix."""
    events: Sequence[EventType[Any]] = ()
    """The events this module emits."""
    event_handlers: Mapping[str, EventHandler] = field(default_factory=dict)
    """Event name pattern -> idempotent handler, subscribed on the process's bus."""
    workflows: Sequence[type] = ()
    activities: ActivityFactory | None = None
    workflow_triggers: Sequence[WorkflowTrigger] = ()
    """Events that start workflows (run by the workflows module wherever it has a client)."""
    toolsets: Sequence[Toolset] = ()
    seed: Seeder | None = None
    health_checks: Mapping[str, ModuleHealthCheck] = field(default_factory=dict)
    settings: type[BaseSettings] | None = None
    """The module's own settings class, best a `ModuleSettings` (env prefix
    `BIZOSAAS_<NAME>_`); loaded at start-up, read with `Services.module_settings`."""
    startup: Lifecycle | None = None
    """Called once per process before serving (after the database and bus are ready)."""
    shutdown: Lifecycle | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").isalnum() or not self.name.islower():
            raise ValueError(f"module name {self.name!r} must be a lowercase URL segment")
