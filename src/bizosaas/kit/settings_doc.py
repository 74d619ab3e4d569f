"""The configuration reference, rendered from the Settings model (docs/configuration.md)."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from pydantic_core import PydanticUndefined
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bizosaas.settings import Settings

HEADER = """# Configuration

Every setting is an environment variable with the `BIZOSAAS_` prefix (or a line in `.env`).
Invalid values stop start-up with a message naming the variable. This page is generated from
`src/bizosaas/settings.py` by `bizosaas settings --markdown`; a test keeps it current.

| Variable | Default | Meaning |
|---|---|---|
"""


def _default_of(name: str) -> str:
    field = Settings.model_fields[name]
    default: Any = field.default
    if default is PydanticUndefined:
        default = field.default_factory() if field.default_factory else None  # type: ignore[call-arg]
    if default in (None, [], ""):
        return "unset"
    return f"`{getattr(default, 'value', default)}`"


def markdown_reference() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `BIZOSAAS_{name.upper()}` | {_default_of(name)} | {meaning} |")
    return HEADER + "\n".join(rows) + "\n"


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL after all: nothing to hide
        return url


def effective_values(settings: Settings) -> list[tuple[str, str]]:
    """Every setting's current value, secrets and passwords in URLs masked."""
    rows = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "********" if value.get_secret_value() else ""
        elif isinstance(value, str) and "://" in value:
            shown = _without_password(value)
        else:
            shown = "" if value is None else str(getattr(value, "value", value))
        rows.append((f"BIZOSAAS_{name.upper()}", shown))
    return rows
