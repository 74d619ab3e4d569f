"""Every form of the web apps refuses a post without its CSRF token, or with a wrong one, and
changes nothing. The forms are found, not listed: by walking the pages a platform administrator,
a tenant admin and an anonymous visitor can reach, and from the app's page routes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from starlette.routing import BaseRoute

from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database
from bizosaas.web.shell import CSRF_FIELD, WebRoute
from tests.web.pages import (
    PASSWORD,
    csrf_of,
    invited_member,
    join_workspace,
    new_client,
    post_form,
    sign_in,
    super_admin,
    tenant_admin,
)

MAX_PAGES = 60
FORM_ACTIONS_AT_LEAST = 16
"""Distinct form actions the walk finds today (sign-in, workspace and console forms): a walk
that stopped finding forms cannot pass."""
POST_ROUTES_AT_LEAST = 23
"""POST page routes the app has today: a route listing that came back empty cannot pass."""
TIMESTAMP = re.compile(r"\d{2} \w{3} \d{4}, \d{2}:\d{2} UTC")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class FoundForm:
    page: str
    action: str
    fields: dict[str, str]

    @property
    def route(self) -> str:
        """The action with its ids generalised, e.g. /app/members/{id}/role."""
        return UUID.sub("{id}", self.action)


class PageParts(HTMLParser):
    """The same-site links and the POST forms of a page, each form with the values a person
    would submit (hidden values, chosen options, and a plausible entry for every empty field)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._form: tuple[str, str, dict[str, str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        name = attributes.get("name", "")
        if tag == "a" and attributes.get("href", "").startswith("/"):
            self.links.append(attributes["href"])
        elif tag == "form":
            method = attributes.get("method", "get").lower()
            self._form = (method, attributes.get("action", ""), {})
        elif self._form is None or tag not in {"input", "select", "option", "textarea"}:
            return
        elif tag == "input" and name:
            self._form[2][name] = attributes.get("value") or plausible_entry(name, attributes)
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in attributes or self._select not in self._form[2]:
                self._form[2][self._select] = attributes.get("value", "")
        elif tag == "textarea" and name:
            self._form[2][name] = "Probe"

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            method, action, fields = self._form
            if method == "post":
                self.forms.append((action, fields))
            self._form = None


def plausible_entry(name: str, attributes: dict[str, str]) -> str:
    """What a person would type: the submission must fail only for its CSRF token."""
    kind = attributes.get("type", "text")
    if kind == "email":
        return f"probe-{uuid.uuid4().hex[:8]}@example.com"
    if kind == "password":
        return PASSWORD
    return "123456" if "code" in name else "Probe"


@dataclass
class Crawl:
    pages: dict[str, str] = field(default_factory=dict)
    forms: list[FoundForm] = field(default_factory=list)


async def crawl(client: httpx.AsyncClient, start: str, prefixes: tuple[str, ...]) -> Crawl:
    """Open `start` and every page linked from it under `prefixes`, collecting POST forms."""
    found = Crawl()
    queue = [start]
    while queue and len(found.pages) < MAX_PAGES:
        path = queue.pop(0)
        if path in found.pages:
            continue
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        found.pages[path] = response.text
        parts = PageParts()
        parts.feed(response.text)
        found.forms += [FoundForm(path, action, fields) for action, fields in parts.forms]
        for link in parts.links:
            target = urlsplit(link)._replace(fragment="").geturl()
            if target.startswith(prefixes) and target not in found.pages:
                queue.append(target)
    return found


def unchanging_part(html: str) -> str:
    """A page without the times it shows (a session's last activity moves on its own)."""
    return TIMESTAMP.sub("<time>", html)


async def snapshot(client: httpx.AsyncClient, paths: Iterable[str]) -> dict[str, str]:
    shots = {}
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        shots[path] = unchanging_part(response.text)
    return shots


ORIGIN_CHECKED = {"/store/{store_slug}/cart/lines"}
"""POST routes whose forgery check is the browser's Origin rather than a CSRF token."""


def assert_refused_for_its_token(response: httpx.Response, what: str) -> None:
    assert response.status_code == 403, (what, response.status_code, response.text[:300])
    assert "This form has expired" in response.text, what
    assert "Reload the page and try again" in response.text, what
    assert "bizosaas_session=" not in str(response.headers.get_list("set-cookie")), what


async def busy_workspace_owner(
    app: FastAPI, database: Database, unique: str
) -> tuple[httpx.AsyncClient, list[httpx.AsyncClient]]:
    """A tenant admin whose pages show every kind of form: another member, a pending
    invitation, an API key, a second session, and a second workspace to switch to. Returns
    their signed-in browser and the other browsers opened on the way (close them)."""
    owner = await tenant_admin(database, app.state.identity, unique, name="Busy")
    browser = new_client(app)
    await sign_in(browser, owner)
    _, member_browser = await invited_member(app, database, owner, "staff")
    await join_workspace(
        app, database, owner, browser, await tenant_admin(database, app.state.identity, unique)
    )
    switch_back = await browser.get("/app")
    home = re.search(r'<option value="([^"]+)"[^>]*>Busy ', switch_back.text)
    assert home, "the owner can switch back to their first workspace"
    switched = await post_form(browser, "/app", "/switch-tenant", {"tenant_id": home.group(1)})
    assert switched.status_code == 303
    invitation = {"email": f"pending-{unique}@example.com", "role": "client"}
    sent = await post_form(browser, "/app/invitations", "/app/invitations", invitation)
    assert sent.status_code == 303
    key = {"name": "Export", "access": "read"}
    assert (await post_form(browser, "/app/api-keys", "/app/api-keys", key)).status_code == 200
    laptop = new_client(app)
    await sign_in(laptop, owner)
    return browser, [member_browser, laptop]


async def platform_admin_with_a_suspended_tenant(
    app: FastAPI, database: Database, unique: str
) -> httpx.AsyncClient:
    """A platform administrator's browser; one tenant is suspended, so both the suspend and
    the reactivate buttons are on the tenants page."""
    browser = new_client(app)
    await sign_in(browser, await super_admin(database, app.state.identity))
    dormant = await tenant_admin(database, app.state.identity, unique, name="Dormant")
    action = f"/admin/tenants/{dormant.tenant_id}/suspend"
    assert (await post_form(browser, "/admin/tenants", action, {})).status_code == 303
    return browser


async def test_every_form_on_the_pages_refuses_a_post_without_its_csrf_token(
    app: FastAPI, database: Database, unique: str
) -> None:
    owner, others = await busy_workspace_owner(app, database, unique)
    platform = await platform_admin_with_a_suspended_tenant(app, database, unique)
    visitor = new_client(app)
    stranger = new_client(app)
    foreign_token = csrf_of((await stranger.get("/login")).text)
    try:
        walks = [
            (platform, await crawl(platform, "/admin", ("/admin",))),
            (owner, await crawl(owner, "/app", ("/app",))),
            (visitor, await crawl(visitor, "/login", ("/login", "/auth/"))),
        ]
        routes = {form.route for _, walk in walks for form in walk.forms}
        assert len(routes) >= FORM_ACTIONS_AT_LEAST, sorted(routes)
        assert all(walk.forms for _, walk in walks), "every kind of visitor has forms"
        before = [await snapshot(client, walk.pages) for client, walk in walks]

        for client, walk in walks:
            distinct = {
                (form.action, tuple(sorted(form.fields.items()))): form for form in walk.forms
            }
            for form in distinct.values():
                assert CSRF_FIELD in form.fields, f"{form.action} on {form.page} has no token"
                fields = {k: v for k, v in form.fields.items() if k != CSRF_FIELD}
                missing = await client.post(form.action, data=fields)
                assert_refused_for_its_token(missing, f"{form.action} without a token")
                wrong = await client.post(form.action, data={CSRF_FIELD: foreign_token, **fields})
                assert_refused_for_its_token(wrong, f"{form.action} with another browser's token")

        after = [await snapshot(client, walk.pages) for client, walk in walks]
        for (_, walk), old, new in zip(walks, before, after, strict=True):
            for path in walk.pages:
                assert new[path] == old[path], f"{path} changed after refused posts"
    finally:
        for client in [owner, platform, visitor, stranger, *others]:
            await client.aclose()


def page_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """The app's page routes as (path, methods). Routers included in routers stay nested in
    FastAPI's route list: each keeps its own routes and the prefix it was included with."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            context = getattr(route, "include_context", None)
            yield from page_routes(nested.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, WebRoute):
            yield prefix + route.path, route.methods


def post_paths(app: FastAPI) -> list[str]:
    return sorted(path for path, methods in page_routes(app.routes) if "POST" in methods)


async def test_every_post_route_of_the_web_apps_checks_the_csrf_token(
    app: FastAPI,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    """Also the forms that only appear in the middle of a flow (the second sign-in step, a
    mailed link, two-factor set-up), each posted to by the person its app is for."""
    routes = post_paths(app)
    assert len(routes) >= POST_ROUTES_AT_LEAST, routes
    async with new_client(app) as platform, new_client(app) as owner:
        await sign_in(platform, await super_admin(database, identity_context))
        await sign_in(owner, await tenant_admin(database, identity_context, unique))
        for route in routes:
            path = PATH_PARAMETER.sub(str(uuid.uuid4()), route)
            poster = platform if route.startswith("/admin") else owner
            refused = await poster.post(path, data={"token": "bzi_probe", "email": "a@b.example"})
            if route in ORIGIN_CHECKED:
                # Posted from a page every visitor shares (cached, so without a token): the
                # browser's Origin must be this site instead (commerce/web/cart.py).
                assert refused.status_code == 403, route
                assert "must be sent from the store" in refused.text, route
            else:
                assert_refused_for_its_token(refused, route)
        assert (await platform.get("/admin")).status_code == 200
        assert (await owner.get("/app")).status_code == 200
