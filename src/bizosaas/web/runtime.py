"""The web shell of one application: its template loader and its navigation.

Built by the web module's startup hook from the enabled modules (`Services.modules`) and kept
on `app.state.web`, so two applications in one process (tests build many) never share pages,
templates or links. `render` and `page` read it from the request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup, escape

from bizosaas import __version__
from bizosaas.kit.module import DomainModule
from bizosaas.web.navigation import Navigation

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
CSRF_FIELD = "csrf_token"
STATE_NAME = "web"
"""The attribute of `app.state` (and the name provided to `Services`) holding the runtime."""


class TemplatesError(ValueError):
    """A module's `templates` folder does not exist."""


@dataclass(frozen=True, slots=True)
class WebRuntime:
    templates: Environment
    navigation: Navigation


def build_runtime(modules: Sequence[DomainModule]) -> WebRuntime:
    """The shell for `modules` (the enabled ones, in mount order). Raises `NavigationError`
    or `TemplatesError`, naming the module at fault, so a misfit stops start-up."""
    return WebRuntime(templates=_environment(modules), navigation=Navigation.build(modules))


def runtime_of(request: Request) -> WebRuntime:
    runtime = getattr(request.app.state, STATE_NAME, None)
    if not isinstance(runtime, WebRuntime):
        raise RuntimeError("the web module is not enabled in this process: no page can render")
    return runtime


# -- Jinja2 ------------------------------------------------------------------------------


def _environment(modules: Sequence[DomainModule]) -> Environment:
    # The shell's own templates come first: a module's live in a folder named after it.
    loaders: list[BaseLoader] = [FileSystemLoader(TEMPLATES_DIR)]
    for module in modules:
        if module.templates is None:
            continue
        if not module.templates.is_dir():
            raise TemplatesError(
                f"module {module.name!r} declares the templates folder {module.templates}, "
                "which does not exist"
            )
        loaders.append(FileSystemLoader(module.templates))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["static_version"] = _static_version()
    environment.globals["csrf_field"] = CSRF_FIELD
    environment.filters["datetime"] = _format_datetime
    environment.filters["linkify"] = _linkify
    return environment


def _static_version() -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _format_datetime(value: Any) -> str:
    if value is None:
        return "—"
    strftime = getattr(value, "strftime", None)
    return str(strftime("%d %b %Y, %H:%M UTC")) if strftime else str(value)


_URL = re.compile(r"https?://[^\s<>\"']+")


def _linkify(text: str) -> Markup:
    """Escape `text` and make its http(s) addresses links (for plain-text e-mails)."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))  # noqa: S704 - built from escaped text
