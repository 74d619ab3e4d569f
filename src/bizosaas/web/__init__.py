"""The web shell: layout, navigation, forms, CSRF, flash messages, error pages and static
assets, shared by the platform admin console at /admin and each tenant's workspace at /app.

It sits below the domains and imports none. A domain adds its pages through its
`DomainModule`: `web` (an `APIRouter(route_class=WebRoute)` rendering with `apps.page` or
`shell.render`), `navigation` (NavLinks into the sections of web/navigation.py) and
`templates` (a folder added to the template loader). The startup hook builds the shell of the
application from the enabled modules (`Services.modules`). See docs/web.md.
"""

from __future__ import annotations

from bizosaas.kit.module import DomainModule, Services
from bizosaas.web import secret
from bizosaas.web.admin import services as services_page
from bizosaas.web.errors import render_html_error
from bizosaas.web.router import router
from bizosaas.web.runtime import STATE_NAME, build_runtime


async def startup(services: Services) -> None:
    services.provide(STATE_NAME, build_runtime(services.modules))
    services.provide("web_secret", await secret.load_or_create(services.database))
    services.provide("html_error_renderer", render_html_error)


module = DomainModule(
    name="web",
    title="Web apps",
    web=router,
    navigation=services_page.NAV_LINKS,
    startup=startup,
)
