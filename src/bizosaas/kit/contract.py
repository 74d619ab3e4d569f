"""What the platform checks and loads from the enabled modules before it serves anything.

This is the one entry point for start-up declaration checks: `load_declarations` raises
`ModuleContractError` naming the module and what to fix.

* Events: names are unique across modules; a handler subscribed to an exact name must be for an
  event some module declares (a typo would otherwise never fire, silently). A name declared only
  by a module that is turned off is a warning: that producer may be disabled on purpose.
  Patterns (`"commerce.*"`) are not checked.
* Toolsets: ids are unique across modules.
* Permissions: the catalogue of every declared permission and the role matrix (see
  kit/permissions.py). Every permission a module's routes require (`kit.auth.require`), every
  navigation link's permission and every exact role grant must be declared by some enabled
  module; otherwise start-up stops with one error naming the module, the route or link, and
  the permission. Grant patterns (`commerce.*:*`) may match nothing: they leave room for
  domains that are not enabled.
* Settings: each module's settings class is loaded once from `BIZOSAAS_<NAME>_*`; an invalid
  value stops start-up with a message naming the variable, as the platform's settings do.

`gateway/platform.py` runs this for every process, and the `bizosaas` command before it
migrates or serves, so a mistake is reported once, before anything starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from bizosaas.kit.auth import required_permission
from bizosaas.kit.module import DomainModule, EventType
from bizosaas.kit.permissions import PermissionCatalogue, PermissionDeclarationError, is_pattern
from bizosaas.settings import ConfigurationError, Settings

API_PREFIX = "/api/brain"
_PATTERN_CHARACTERS = frozenset("*?[")
log = structlog.get_logger(__name__)


class ModuleContractError(Exception):
    """An enabled module declares something the platform cannot accept; the message names the
    module and what to fix."""


@dataclass(frozen=True, slots=True)
class ModuleDeclarations:
    """What start-up derives from the enabled modules (provided on `Services`)."""

    permissions: PermissionCatalogue
    settings: Mapping[str, BaseSettings]
    """Module name -> its loaded settings object (modules that declare a settings class)."""


def load_declarations(
    modules: Sequence[DomainModule], *, disabled: Sequence[DomainModule] = ()
) -> ModuleDeclarations:
    """Check what the modules declare and load their settings.

    Raises `ModuleContractError` for conflicting events or toolsets, a handler of an event no
    module declares, an undeclared or conflicting permission, and `ConfigurationError` for an
    invalid module setting. `disabled` are built-in modules turned off: a handler of an event
    only they declare is a warning, not an error."""
    check_events_and_toolsets(modules, disabled=disabled)
    try:
        catalogue = PermissionCatalogue.from_modules(modules)
    except PermissionDeclarationError as error:
        raise ModuleContractError(str(error)) from None
    check_declared_permissions(modules, catalogue)
    return ModuleDeclarations(permissions=catalogue, settings=load_module_settings(modules))


# -- events and toolsets --------------------------------------------------------------------


def declared_events(
    modules: Iterable[DomainModule],
) -> dict[str, tuple[DomainModule, EventType[Any]]]:
    events: dict[str, tuple[DomainModule, EventType[Any]]] = {}
    for module in modules:
        for event in module.events:
            if event.name in events:
                other = events[event.name][0].name
                raise ModuleContractError(
                    f"event {event.name} is declared by both module {other} and module {module.name}"
                )
            events[event.name] = (module, event)
    return events


def check_events_and_toolsets(
    modules: Sequence[DomainModule], *, disabled: Sequence[DomainModule] = ()
) -> None:
    declared = declared_events(modules)
    declared_elsewhere = {event.name for module in disabled for event in module.events}
    for module in modules:
        for name in module.event_handlers:
            if _PATTERN_CHARACTERS & set(name) or name in declared:
                continue
            if name in declared_elsewhere:
                log.warning("event_producer_disabled", module=module.name, event_name=name)
                continue
            raise ModuleContractError(
                f"module {module.name} handles {name!r}, an event no module declares: declare it "
                "in the emitting module's `events=`, or subscribe with a pattern"
            )
    toolsets: dict[str, str] = {}
    for module in modules:
        for toolset in module.toolsets:
            if toolset.id in toolsets:
                raise ModuleContractError(
                    f"toolset {toolset.id!r} is declared by both module {toolsets[toolset.id]} "
                    f"and module {module.name}"
                )
            toolsets[toolset.id] = module.name


# -- permissions ----------------------------------------------------------------------------


def _dependant_permissions(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        permission = required_permission(dependency.call)
        if permission is not None:
            yield permission
        yield from _dependant_permissions(dependency)


def route_permissions(router: APIRouter, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(route, permission) for every permission a route of `router` requires, however deep
    in its dependency tree the `require(...)` sits."""
    for route in router.routes:
        dependant = getattr(route, "dependant", None)
        if not isinstance(dependant, Dependant):
            continue
        methods = sorted(getattr(route, "methods", None) or {"WEBSOCKET"})
        label = f"{','.join(methods)} {prefix}{getattr(route, 'path', '')}"
        for permission in dict.fromkeys(_dependant_permissions(dependant)):
            yield label, permission


def _uses_of_permissions(module: DomainModule) -> Iterator[tuple[str, str]]:
    """(where, permission) for every exact permission `module` relies on."""
    if module.router is not None:
        for route, permission in route_permissions(module.router, f"{API_PREFIX}/{module.name}"):
            yield f"route {route}", permission
    if module.web is not None:
        for route, permission in route_permissions(module.web):
            yield f"page {route}", permission
    for link in module.navigation:
        if link.permission is not None:
            yield f"navigation link {link.label!r} ({link.href})", link.permission
    for role, patterns in module.role_grants.items():
        for pattern in patterns:
            if not is_pattern(pattern):
                yield f"role grant to {role}", pattern


def check_declared_permissions(
    modules: Sequence[DomainModule], catalogue: PermissionCatalogue
) -> None:
    problems = [
        f"  module {module.name!r}: {where} uses {permission!r}"
        for module in modules
        for where, permission in _uses_of_permissions(module)
        if not catalogue.is_declared(permission)
    ]
    if problems:
        raise ModuleContractError(
            "Permissions that no enabled module declares:\n"
            + "\n".join(problems)
            + "\nDeclare each in a module's `permissions` (name -> what it allows), or fix the "
            "name; `bizosaas modules --permissions` lists the declared ones."
        )


# -- settings -------------------------------------------------------------------------------


def env_prefix(module: DomainModule) -> str:
    """`BIZOSAAS_<NAME>_`: the module's name upper-cased, `-` read as `_`."""
    return f"BIZOSAAS_{module.name.upper().replace('-', '_')}_"


def settings_variables(module: DomainModule) -> list[str]:
    if module.settings is None:
        return []
    prefix = env_prefix(module)
    return [f"{prefix}{name.upper()}" for name in module.settings.model_fields]


_PLATFORM_VARIABLES = frozenset(f"BIZOSAAS_{name.upper()}" for name in Settings.model_fields)


def load_module_settings(modules: Sequence[DomainModule]) -> dict[str, BaseSettings]:
    loaded: dict[str, BaseSettings] = {}
    for module in modules:
        if module.settings is None:
            continue
        clashes = sorted(set(settings_variables(module)) & _PLATFORM_VARIABLES)
        if clashes:
            raise ModuleContractError(
                f"module {module.name!r} has settings named like the platform's own "
                f"({', '.join(clashes)}); rename them"
            )
        prefix = env_prefix(module)
        try:
            loaded[module.name] = module.settings(_env_prefix=prefix)
        except ValidationError as error:
            lines = [
                f"  {prefix}{'.'.join(str(part) for part in problem['loc']).upper()}: "
                f"{problem['msg']}"
                for problem in error.errors()
            ]
            raise ConfigurationError(
                f"Invalid configuration of module {module.name!r}:\n" + "\n".join(lines)
            ) from None
    return loaded
