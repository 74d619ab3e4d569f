"""The web apps in a real browser (Debian's chromium through Playwright) against a real
`bizosaas up` server with its demo data.

Each test fails on any console error or uncaught page error (see conftest.visitor_factory)
and saves screenshots of the pages it visits at desktop and phone width.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.web.browser import Server, Visitor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "Correct-Horse-Battery-42"


def sign_in(visitor: Visitor, email: str, password: str, *, start: str = "/login") -> Page:
    page = visitor.open(start)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    return page


def sign_out(page: Page) -> None:
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("signed out")


def open_mail(visitor: Visitor, to: str, subject_part: str, timeout: float = 20) -> Page:
    """Open the newest message to `to` in the admin console's mail sink (waits for delivery,
    which the outbox relay does after the request commits)."""
    page = visitor.page
    deadline = time.monotonic() + timeout
    while True:
        page.goto(visitor.base_url + "/admin/mail")
        row = page.locator("tr", has_text=to).filter(has_text=subject_part).first
        if row.count():
            row.get_by_role("link").click()
            return page
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to} about {subject_part!r} in the sink")
        time.sleep(0.5)


def first_link(page: Page, path: str) -> str:
    body = page.locator(".mail-body").inner_text()
    match = re.search(r"https?://\S+" + re.escape(path) + r"\S*", body)
    assert match, f"no {path} link in the message:\n{body}"
    return match.group(0)


def invite(visitor: Visitor, email: str, role: str) -> None:
    """As a signed-in tenant admin, invite `email` with `role` from the Invitations page."""
    page = visitor.open("/app/invitations")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").first).to_contain_text(email)


def test_single_sign_on_across_apps_and_logout_closes_both(
    server: Server, visitor_factory: Callable[[], Visitor]
) -> None:
    email, password = server.login_for("super admin")
    platform = visitor_factory()
    page = platform.open("/admin")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin$"))
    platform.screenshot("login")

    sign_in(platform, email, password, start="/login?next=/admin")
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform overview")
    platform.screenshot("admin-dashboard")
    admin_nav = page.get_by_role("navigation", name="Admin console")
    for link, path, shot in [
        ("Tenants", "/admin/tenants", "admin-tenants"),
        ("Users", "/admin/users", "admin-users"),
        ("Services", "/admin/services", "admin-services"),
        ("Audit log", "/admin/audit", "admin-audit"),
        ("Mail sink", "/admin/mail", "admin-mail"),
    ]:
        admin_nav.get_by_role("link", name=link).click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(link)
        platform.screenshot(shot)
    page.goto(server.url + "/admin/users")
    expect(page.locator("tr", has_text=email)).to_contain_text("Platform admin")

    # The Acme owner invites the platform administrator into their workspace ...
    owner = visitor_factory()
    sign_in(owner, *server.login_for("tenant admin"))
    invite(owner, email, "manager")

    # ... who accepts from the mail sink, in the browser already signed in to the console.
    open_mail(platform, email, "")
    link = first_link(page, "/auth/accept-invitation")
    page.goto(link)
    page.get_by_role("button", name="Accept invitation").click()
    expect(page).to_have_url(re.compile(r"/app$"))
    expect(page.get_by_role("status").first).to_contain_text("You joined Acme")

    # One sign-in, both apps: moving between them never asks for a password.
    apps = page.get_by_role("navigation", name="Apps")
    apps.get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform overview")
    apps.get_by_role("link", name="Workspace").click()
    expect(page).to_have_url(re.compile(r"/app$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    sign_out(page)
    for path in ("/admin", "/app", "/app/members", "/admin/tenants"):
        page.goto(server.url + path)
        expect(page).to_have_url(re.compile(r"/login\?next="))
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_forms_keep_input_and_show_errors_next_to_fields(server: Server, visitor: Visitor) -> None:
    email, password = server.login_for("super admin")
    # Keyboard first: the address field has focus with a visible ring, Tab moves to the
    # password, Enter submits; the skip link is reachable before the form.
    page = visitor.open("/login")
    expect(page.get_by_label("E-mail address")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert (skip.bounding_box() or {"y": -1})["y"] >= 0, "the focused skip link is on screen"
    field = page.get_by_label("E-mail address")
    field.focus()
    ring = field.evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert ring.startswith("solid") and not ring.endswith(" 0px"), ring
    field.fill(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    expect(page.locator("#form-error")).to_contain_text("wrong")
    expect(page.get_by_label("E-mail address")).to_have_value(email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")

    page = sign_in(visitor, "", "")
    expect(page.locator("#f-email-error")).to_have_text(re.compile("e-mail address"))
    expect(page.locator("#f-password-error")).to_have_text(re.compile("password"))
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")

    sign_in(visitor, email, password)
    page.goto(server.url + "/admin/tenants")
    page.get_by_label("Slug").fill("Not A Slug!")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("#f-name-error")).to_contain_text("business name")
    expect(page.locator("#f-slug-error")).to_contain_text("lowercase")
    expect(page.get_by_label("Slug")).to_have_value("Not A Slug!")
    visitor.screenshot("admin-tenants-errors")

    name = f"Harbour Bakery {uuid.uuid4().hex[:6]}"
    page.get_by_label("Business name").fill(name)
    page.get_by_label("Slug").fill("")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("status").first).to_contain_text(name)
    row = page.locator("tr", has_text=name)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Suspend").click()
    expect(page.locator("tr", has_text=name)).to_contain_text("Suspended")


def test_invitation_from_the_mail_sink_and_a_client_cannot_open_admin(
    server: Server, visitor_factory: Callable[[], Visitor]
) -> None:
    admin_email, admin_password = server.login_for("tenant admin")
    tenant_admin = visitor_factory()
    page = sign_in(tenant_admin, admin_email, admin_password)
    expect(page).to_have_url(re.compile(r"/app$"))
    tenant_admin.screenshot("workspace-dashboard")
    nav = page.get_by_role("navigation", name="Workspace")
    invitee = f"client-{uuid.uuid4().hex[:8]}@example.com"
    invite(tenant_admin, invitee, "client")
    expect(page.locator("tr", has_text=invitee)).to_contain_text("Client")
    tenant_admin.screenshot("workspace-invitations")
    for link, shot in [
        ("Members", "workspace-members"),
        ("Roles", "workspace-roles"),
        ("API keys", "workspace-api-keys"),
        ("Audit log", "workspace-audit"),
        ("Sessions", "workspace-sessions"),
        ("Security", "workspace-security"),
    ]:
        nav.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(link)
        tenant_admin.screenshot(shot)

    # The owner keeps the member list open: it updates live when the invitee joins.
    nav.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")
    expect(page.locator("tr", has_text=invitee)).to_have_count(0)

    platform = visitor_factory()
    sign_in(platform, *server.login_for("super admin"))
    message = open_mail(platform, invitee, "")
    link = first_link(message, "/auth/accept-invitation")
    platform.screenshot("admin-mail-message")

    newcomer = visitor_factory()
    page = newcomer.open(link[link.index("/auth/") :])
    newcomer.screenshot("accept-invitation")
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.locator("#f-password-error")).to_be_visible()
    page.get_by_label("Your name").fill("Casey Client")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Accept invitation").click()
    expect(page).to_have_url(re.compile(r"/app$"))
    expect(page.get_by_role("status").first).to_contain_text("Welcome")

    # A client sees only what it may use.
    nav = page.get_by_role("navigation", name="Workspace")
    links = [text.strip() for text in nav.get_by_role("link").all_inner_texts()]
    assert links == ["Dashboard", "Security", "Sessions"], links
    expect(
        page.get_by_role("navigation", name="Apps").get_by_role("link", name="Admin")
    ).to_have_count(0)
    newcomer.screenshot("workspace-client-dashboard")
    for path in ("/admin", "/admin/tenants", "/admin/mail", "/app/members", "/app/api-keys"):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
    newcomer.screenshot("error-403")
    response = page.goto(server.url + "/no/such/page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    newcomer.screenshot("error-404")

    # In the owner's browser, still on the member list, the newcomer has appeared.
    expect(tenant_admin.page).to_have_url(re.compile(r"/app/members$"))
    expect(tenant_admin.page.locator("tr", has_text=invitee)).to_contain_text("Client")


def test_two_factor_sign_in_with_a_totp_code(
    server: Server, visitor_factory: Callable[[], Visitor]
) -> None:
    email, password = server.login_for("manager")
    visitor = visitor_factory()
    page = sign_in(visitor, email, password)
    page.goto(server.url + "/app/security")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    visitor.screenshot("workspace-totp-enrol")
    page.get_by_label("Code from the app").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#f-code-error")).to_be_visible()
    # The previous time step, so that the sign-in below can use the current one.
    page.get_by_label("Code from the app").fill(totp.at(time.time() - 30))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    recovery = page.locator("#recovery-codes li").first.inner_text().strip()
    sign_out(page)

    page = sign_in(visitor, email, password)
    expect(page).to_have_url(re.compile(r"/login/totp$"))
    visitor.screenshot("login-totp")
    # Between the steps the browser holds a challenge token, never the password.
    cookies = visitor.context.cookies()
    assert not any(password in cookie["value"] for cookie in cookies)
    ticket = next(cookie for cookie in cookies if cookie["name"] == "bizosaas_mfa")
    assert ticket["value"].startswith("bzm_") and ticket["httpOnly"]
    assert ticket["sameSite"] == "Strict" and ticket["path"] == "/login"
    page.get_by_label("Authentication code").fill("123456" if totp.now() != "123456" else "654321")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#f-code-error")).to_be_visible()
    page.get_by_label("Authentication code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/app$"))
    page.goto(server.url + "/app/security")
    expect(page.locator("#two-factor")).to_contain_text("On")

    # Without the phone: a recovery code works once.
    sign_out(page)
    for attempt in range(2):
        page = sign_in(visitor, email, password)
        page.get_by_label("Authentication code").fill(recovery)
        page.get_by_role("button", name="Verify").click()
        if attempt == 0:
            expect(page).to_have_url(re.compile(r"/app$"))
            sign_out(page)
        else:
            expect(page.locator("#f-code-error")).to_contain_text("already used")


def test_switch_tenant(server: Server, visitor: Visitor) -> None:
    email, password = server.login_for("tenant admin")
    page = sign_in(visitor, email, password)
    expect(page).to_have_url(re.compile(r"/app$"))
    switcher = page.get_by_label("Tenant")
    before = switcher.evaluate("select => select.selectedOptions[0].textContent")
    options = switcher.locator("option").all_inner_texts()
    assert len(options) >= 2, options
    target = next(name for name in options if name != before)
    switcher.select_option(label=target)  # the page's script submits on change
    expect(page.get_by_role("status").first).to_contain_text(f"now working in {target}")
    expect(page.get_by_label("Tenant")).to_have_value(re.compile(".+"))
    selected = page.get_by_label("Tenant").evaluate(
        "select => select.selectedOptions[0].textContent"
    )
    assert selected == target
    visitor.screenshot("workspace-switched")
