"""Browser test support: a real `bizosaas up` server and Debian's chromium through Playwright.

Every page a test opens fails the test on a console error or an uncaught page error.
Screenshots go to artifacts/screenshots/ (git-ignored) at desktop and phone width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Response,
    ViewportSize,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
INSTALL_HINT = "install Debian's chromium: apt-get install chromium"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 390, "height": 844}
DOCUMENT_STATUS = "Failed to load resource: the server responded with a status of "
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@dataclass
class Server:
    url: str
    data_dir: Path
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    """who -> (login, password), from <data dir>/demo-credentials.txt."""

    def login_for(self, pattern: str) -> tuple[str, str]:
        for who, login in self.credentials.items():
            if re.search(pattern, who, re.IGNORECASE):
                return login
        raise LookupError(f"no demo login matching {pattern!r} in {sorted(self.credentials)}")


class PageErrors:
    """Collects console errors and uncaught exceptions of every page in a context.

    Chromium also logs "Failed to load resource" for a page whose own status is 4xx/5xx; the
    apps answer 422 for a rejected form and 403/404 for error pages on purpose, so that one
    message is accepted for the document itself (never for its scripts, styles or images).
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._documents: set[str] = set()

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", self._page_error)
        page.on("response", self._response)

    def _response(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.resource_type == "document":
            self._documents.add(response.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if message.text.startswith(DOCUMENT_STATUS) and url in self._documents:
            return
        self.messages.append(f"console: {message.text} ({url})")

    def _page_error(self, error: Error) -> None:
        self.messages.append(f"pageerror: {error}")


@dataclass
class Visitor:
    """One browser profile (its own cookies) with error tracking."""

    context: BrowserContext
    page: Page
    errors: PageErrors
    base_url: str

    def open(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def new_tab(self) -> Page:
        page = self.context.new_page()
        self.errors.watch(page)
        return page

    def screenshot(self, name: str) -> None:
        """Save the current page at desktop and phone width."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page = self.page
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        page.set_viewport_size(DESKTOP)
        assert overflow <= 1, f"{name} scrolls sideways at phone width ({overflow}px)"


def new_visitor(browser: Browser, base_url: str) -> Visitor:
    context = browser.new_context(viewport=DESKTOP, base_url=base_url)
    context.set_default_timeout(10_000)
    errors = PageErrors()
    page = context.new_page()
    errors.watch(page)
    return Visitor(context=context, page=page, errors=errors, base_url=base_url)


def close_visitors(visitors: list[Visitor]) -> Iterator[str]:
    """Close every context; yield the errors they saw."""
    for visitor in visitors:
        visitor.context.close()
        yield from visitor.errors.messages
