"""The enabled domain modules: the only place that names them all.

Built-in modules are listed in `BUILTIN_MODULES` in mount order. `BIZOSAAS_EXTRA_MODULES`
adds modules from other packages (`package.module:attribute`); `BIZOSAAS_DISABLED_MODULES`
turns built-ins off.
"""

from __future__ import annotations

import importlib

from bizosaas import commerce, crm, identity, web, workflows
from bizosaas.kit.module import DomainModule
from bizosaas.settings import Settings

# The web shell comes last: its pages sit at the site root, after every domain's routes.
BUILTIN_MODULES: tuple[DomainModule, ...] = (
    identity.module,
    workflows.module,
    workflows.approvals_module,
    commerce.module,
    crm.module,
    web.module,
)


class ModuleLoadError(Exception):
    pass


def load_extra_module(path: str) -> DomainModule:
    module_path, _, attribute = path.partition(":")
    try:
        candidate = getattr(importlib.import_module(module_path), attribute or "module")
    except (ImportError, AttributeError) as error:
        raise ModuleLoadError(f"cannot load module {path!r}: {error}") from error
    if not isinstance(candidate, DomainModule):
        raise ModuleLoadError(f"{path!r} is not a DomainModule")
    return candidate


def enabled_modules(settings: Settings) -> list[DomainModule]:
    modules = [m for m in BUILTIN_MODULES if m.name not in settings.disabled_modules]
    modules += [load_extra_module(path) for path in settings.extra_modules]
    names = [m.name for m in modules]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ModuleLoadError(f"module names must be unique: {sorted(duplicates)}")
    return modules


def disabled_modules(settings: Settings) -> list[DomainModule]:
    """Built-in modules turned off by `BIZOSAAS_DISABLED_MODULES`."""
    return [m for m in BUILTIN_MODULES if m.name in settings.disabled_modules]
