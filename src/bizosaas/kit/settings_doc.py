"""The configuration reference, rendered from the Settings model and the enabled modules'
settings classes (docs/configuration.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bizosaas.kit.contract import env_prefix
from bizosaas.kit.module import DomainModule
from bizosaas.settings import Settings

HEADER = """# Configuration

Every setting is an environment variable with the `BIZOSAAS_` prefix (or a line in `.env`).
Invalid values stop start-up with a message naming the variable. This page is generated from
`src/bizosaas/settings.py` and the enabled modules' settings classes by
`bizosaas settings --markdown`; a test keeps it current.

| Variable | Default | Meaning |
|---|---|---|
"""

MODULE_HEADER = """
## Module `{name}`{title}

A module's own settings use the prefix `{prefix}`.

| Variable | Default | Meaning |
|---|---|---|
"""


def _default_of(field: FieldInfo) -> str:
    default: Any = field.default
    if default is PydanticUndefined:
        default = field.default_factory() if field.default_factory else None  # type: ignore[call-arg]
    if default in (None, [], ""):
        return "unset"
    return f"`{getattr(default, 'value', default)}`"


def _rows(prefix: str, settings_class: type[BaseSettings]) -> list[str]:
    rows = []
    for name, field in settings_class.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{prefix}{name.upper()}` | {_default_of(field)} | {meaning} |")
    return rows


def markdown_reference(modules: Sequence[DomainModule] = ()) -> str:
    """The platform's settings, then a section per module in `modules` that has settings."""
    text = HEADER + "\n".join(_rows("BIZOSAAS_", Settings)) + "\n"
    for module in modules:
        if module.settings is None:
            continue
        title = f": {module.title}" if module.title else ""
        prefix = env_prefix(module)
        text += MODULE_HEADER.format(name=module.name, title=title, prefix=prefix)
        text += "\n".join(_rows(prefix, module.settings)) + "\n"
    return text


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL after all: nothing to hide
        return url


def _shown(value: object) -> str:
    if isinstance(value, SecretStr):
        return "********" if value.get_secret_value() else ""
    if isinstance(value, str) and "://" in value:
        return _without_password(value)
    return "" if value is None else str(getattr(value, "value", value))


def effective_values(
    settings: Settings,
    modules: Sequence[DomainModule] = (),
    loaded: Mapping[str, BaseSettings] | None = None,
) -> list[tuple[str, str]]:
    """Every setting's current value, secrets and passwords in URLs masked: the platform's,
    then those of each of `modules` with settings in `loaded` (module name -> its settings)."""
    rows = [
        (f"BIZOSAAS_{name.upper()}", _shown(getattr(settings, name)))
        for name in Settings.model_fields
    ]
    for module in modules:
        values = (loaded or {}).get(module.name)
        if values is None:
            continue
        prefix = env_prefix(module)
        rows += [
            (f"{prefix}{name.upper()}", _shown(getattr(values, name)))
            for name in type(values).model_fields
        ]
    return rows
