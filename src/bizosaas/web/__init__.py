"""The web apps: the shared shell (layout, navigation, flash messages, CSRF, single sign-on
pages), the platform admin console at /admin and each tenant's workspace at /app.

Domains add their own pages in their `web.py`: an `APIRouter(route_class=WebRoute)` rendering
with `shell.render`, templates registered with `shell.add_template_dir`, navigation entries with
`navigation.NAVIGATION.add`. See docs/web.md.
"""

from __future__ import annotations

from bizosaas.kit.module import DomainModule, Services
from bizosaas.web import secret
from bizosaas.web.errors import render_html_error
from bizosaas.web.router import router


async def startup(services: Services) -> None:
    services.provide("web_secret", await secret.load_or_create(services.database))
    services.provide("html_error_renderer", render_html_error)


module = DomainModule(name="web", title="Web apps", web=router, startup=startup)
