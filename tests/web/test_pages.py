"""Sign-in, CSRF, cookies, redirects and role checks of the web apps, over HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from bizosaas.gateway.app import create_app
from bizosaas.identity import service as identity
from bizosaas.identity.context import IdentityContext
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.gateway.support import echo_upstream
from tests.support import processes
from tests.support.lifespan import app_lifespan
from tests.web.pages import (
    csrf_of,
    headings,
    new_client,
    post_form,
    sign_in,
    stat_value,
    super_admin,
    tenant_admin,
)


def service_row(html: str, name: str) -> str:
    """The row of the services table that shows service `name`."""
    return html.split(f"<strong>{name}</strong>", 1)[1].split("</tr>", 1)[0]


def session_cookie_header(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if "bizosaas_session=" in c]
    assert len(cookies) == 1, response.headers.get_list("set-cookie")
    return cookies[0]


async def test_sign_in_sets_an_httponly_lax_session_cookie(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    response = await sign_in(client, owner)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = session_cookie_header(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie, "no Secure flag on plain http (the browser would drop it)"
    start = await client.get("/")
    assert start.headers["location"] == "/app"
    dashboard = await client.get("/app")
    assert dashboard.status_code == 200
    assert "Olive Owner" in dashboard.text and f"Acme {unique}" in dashboard.text


async def test_session_cookie_is_secure_when_the_public_url_is_https(
    settings: Settings, database: Database, unique: str
) -> None:
    secure_settings = settings.model_copy(update={"public_url": "https://biz.example.com"})
    application = create_app(secure_settings, database=database)
    async with app_lifespan(application):
        owner = await tenant_admin(database, application.state.identity, unique)
        transport = httpx.ASGITransport(app=application, client=("10.9.9.9", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="https://biz.example.com") as c:
            response = await sign_in(c, owner)
    cookie = session_cookie_header(response).lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_a_post_without_the_right_csrf_token_is_refused(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await client.get("/login")
    missing = await client.post("/login", data={"email": owner.email, "password": owner.password})
    assert missing.status_code == 403
    assert "This form has expired" in missing.text and "Reload the page" in missing.text
    assert "bizosaas_session=" not in str(missing.headers.get_list("set-cookie"))

    forged = await client.post(
        "/login", data={"csrf_token": "x" * 43, "email": owner.email, "password": owner.password}
    )
    assert forged.status_code == 403

    # A token is bound to its browser: another browser's token does not work here.
    transport = client._transport  # same app, separate cookie jar
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        foreign = csrf_of((await other.get("/login", headers={"accept": "text/html"})).text)
    stolen = await client.post(
        "/login", data={"csrf_token": foreign, "email": owner.email, "password": owner.password}
    )
    assert stolen.status_code == 403

    signed_in = await sign_in(client, owner)
    assert signed_in.status_code == 303
    # After sign-in, forms are bound to the session: the pre-login token no longer works.
    logout = await client.post("/logout", data={"csrf_token": foreign})
    assert logout.status_code == 403
    assert (await client.get("/app")).status_code == 200


async def test_wrong_password_keeps_the_address_and_never_echoes_the_password(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": owner.email,
            "password": "guess-1234-secret",
        },
    )
    assert response.status_code == 422
    assert 'id="form-error"' in response.text and "wrong" in response.text
    assert f'value="{owner.email}"' in response.text
    assert "guess-1234-secret" not in response.text

    empty = await client.post("/login", data={"csrf_token": csrf_of(response.text)})
    assert empty.status_code == 422
    assert 'id="f-email-error"' in empty.text and 'id="f-password-error"' in empty.text
    assert 'aria-invalid="true"' in empty.text


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/app/security", "/app/security"),
        ("https://evil.example/steal", "/"),
        ("//evil.example/steal", "/"),
        ("/\\evil.example", "/"),
    ],
)
async def test_next_only_leads_to_pages_of_this_site(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    next_path: str,
    landing: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    response = await sign_in(client, owner, next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == landing


@pytest.mark.parametrize("path", ["/admin", "/admin/tenants", "/app", "/app/members"])
async def test_pages_send_anonymous_browsers_to_login(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"
    api_client = await client.get(path, headers={"accept": "application/json"})
    assert api_client.status_code == 401
    assert api_client.headers["content-type"] == "application/problem+json"


async def test_admin_console_is_for_platform_administrators_only(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    for path in ("/admin", "/admin/tenants", "/admin/users", "/admin/mail"):
        response = await client.get(path)
        assert response.status_code == 403, path
        assert headings(response.text) == ["You cannot open this page"]
        assert 'href="/admin"' not in response.text, "no admin link for a tenant admin"

    root = await super_admin(database, identity_context)
    client.cookies.clear()
    await sign_in(client, root)
    assert (await client.get("/")).headers["location"] == "/admin"
    for path in ("/admin", "/admin/tenants", "/admin/users", "/admin/services", "/admin/mail"):
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_sign_out_ends_the_session_for_every_app(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    await sign_in(client, owner)
    old_cookie = client.cookies["bizosaas_session"]
    response = await post_form(client, "/app", "/logout", {})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "bizosaas_session=" in str(response.headers.get_list("set-cookie"))
    login_page = await client.get("/login")
    assert "You have signed out" in login_page.text

    # The old cookie is dead on the server too: replaying it opens nothing.
    client.cookies.set("bizosaas_session", old_cookie)
    for path in ("/app", "/admin"):
        replay = await client.get(path)
        assert replay.status_code == 303 and replay.headers["location"].startswith("/login")
    me = await client.get("/api/brain/auth/me", headers={"accept": "application/json"})
    assert me.status_code == 401


async def test_services_page_shows_a_remote_service_failing_its_health_checks(
    settings: Settings,
    database: Database,
    identity_context: IdentityContext,
) -> None:
    dead = f"http://127.0.0.1:{processes.free_port()}"
    watched = settings.model_copy(
        update={
            "gateway_services": json.dumps({"billing": {"urls": [dead], "health_path": "/health"}}),
            "gateway_health_interval": 0.1,
        }
    )
    application = create_app(watched, database=database)
    async with app_lifespan(application), new_client(application) as browser:
        await sign_in(browser, await super_admin(database, identity_context))
        deadline = time.monotonic() + 10
        while True:
            page = await browser.get("/admin/services")
            row = service_row(page.text, "billing")
            if "health check failing" in row or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
    assert "remote" in row and dead in row
    assert "health check failing" in row and ">Down<" in row
    local = service_row(page.text, "auth")
    assert "in the gateway" in local and ">Healthy<" in local


async def test_services_page_shows_an_instance_circuit_closed_then_open_once_it_dies(
    settings: Settings,
    database: Database,
    identity_context: IdentityContext,
) -> None:
    port = processes.free_port()
    instance = f"http://127.0.0.1:{port}"
    breaker = settings.model_copy(
        update={
            "gateway_services": json.dumps({"billing": {"urls": [instance]}}),
            "gateway_failure_threshold": 1,
            "gateway_open_seconds": 300,
            # Outlier detection may eject the only instance (by default it never does).
            "gateway_max_ejection_percent": 100,
        }
    )
    application = create_app(breaker, database=database)
    async with app_lifespan(application), new_client(application) as browser:
        await sign_in(browser, await super_admin(database, identity_context))
        async with echo_upstream(port=port):
            served = await browser.get("/api/brain/billing/invoices")
            alive = service_row((await browser.get("/admin/services")).text, "billing")
        refused = await browser.get("/api/brain/billing/invoices")
        dead = service_row((await browser.get("/admin/services")).text, "billing")
        dashboard = await browser.get("/admin")
    assert served.status_code == 200
    assert f"<code>{instance}</code>" in alive and "remote" in alive
    assert 'circuit <span class="badge badge-success">closed</span>' in alive
    assert ">Healthy<" in alive

    assert refused.status_code in {502, 503}
    assert f"<code>{instance}</code>" in dead
    assert 'circuit <span class="badge badge-danger">open</span>' in dead
    assert ">Down<" in dead
    assert stat_value(dashboard.text, "Services needing attention") == 1


async def test_two_factor_sign_in_keeps_only_a_challenge_token_in_the_browser(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique)
    async with database.unit_of_work() as session:
        enrolment = await identity.enrol_totp(
            session, identity=identity_context, user_id=owner.user_id
        )
        totp = pyotp.TOTP(enrolment.secret)
        await identity.confirm_totp(
            session,
            identity=identity_context,
            user_id=owner.user_id,
            code=totp.at(time.time() - totp.interval),
        )

    step_one = await sign_in(client, owner, next_path="/app/security")
    assert step_one.status_code == 303
    assert step_one.headers["location"] == "/login/totp?next=%2Fapp%2Fsecurity"
    cookies = step_one.headers.get_list("set-cookie")
    assert cookies and not any(owner.password in c or "bizosaas_session=" in c for c in cookies)
    ticket = next(c for c in cookies if c.startswith("bizosaas_mfa="))
    token = ticket.split(";", 1)[0].split("=", 1)[1]
    assert token.startswith("bzm_")
    flags = ticket.lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/login" in flags
    assert "max-age=300" in flags

    page = await client.get(step_one.headers["location"])
    assert page.status_code == 200
    assert 'name="next" value="/app/security"' in page.text
    data = {"csrf_token": csrf_of(page.text), "code": totp.now(), "next": "/app/security"}
    step_two = await client.post("/login/totp", data=data)
    assert step_two.status_code == 303 and step_two.headers["location"] == "/app/security"
    cookies = step_two.headers.get_list("set-cookie")
    assert not any(owner.password in c for c in cookies)
    assert any(c.startswith("bizosaas_session=") for c in cookies)
    assert any(c.startswith("bizosaas_mfa=") and "max-age=0" in c.lower() for c in cookies)
    assert (await client.get("/app/security")).status_code == 200

    # The challenge was spent: replaying it in another browser opens nothing.
    async with new_client(app) as replay:
        replay.cookies.set("bizosaas_mfa", token, path="/login")
        form = await replay.get("/login")
        again = await replay.post(
            "/login/totp", data={"csrf_token": csrf_of(form.text), "code": totp.now()}
        )
    assert again.status_code == 303 and again.headers["location"] == "/login"
    assert "bizosaas_session=" not in str(again.headers.get_list("set-cookie"))


async def test_the_code_step_needs_a_fresh_ticket_from_the_password_step(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/login/totp")
    assert missing.status_code == 302 and missing.headers["location"] == "/login"
    assert "Your sign-in timed out" in (await client.get("/login")).text

    client.cookies.set("bizosaas_mfa", "forged-ticket", path="/login")
    forged = await client.get("/login/totp")
    assert forged.status_code == 302 and forged.headers["location"] == "/login"
    page = await client.get("/login")
    posted = await client.post(
        "/login/totp", data={"csrf_token": csrf_of(page.text), "code": "123456"}
    )
    assert posted.status_code == 303 and posted.headers["location"] == "/login"
    assert "bizosaas_session=" not in str(posted.headers.get_list("set-cookie"))


async def test_suspending_a_tenant_signs_its_members_out_until_it_is_reactivated(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    identity_context: IdentityContext,
) -> None:
    owner = await tenant_admin(database, identity_context, unique, name="Paused")
    async with new_client(app) as member:
        await sign_in(member, owner)
        assert (await member.get("/app")).status_code == 200

        root = await super_admin(database, identity_context)
        await sign_in(client, root)
        action = f"/admin/tenants/{owner.tenant_id}/suspend"
        suspended = await post_form(client, "/admin/tenants", action, {})
        assert suspended.status_code == 303
        assert suspended.headers["location"] == "/admin/tenants"
        tenants = await client.get("/admin/tenants")
        assert 'class="alert alert-warning"' in tenants.text
        assert f"Paused {unique} is suspended: its members are signed out." in tenants.text

        signed_out = await member.get("/app")
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].startswith("/login")

        action = f"/admin/tenants/{owner.tenant_id}/reactivate"
        reactivated = await post_form(client, "/admin/tenants", action, {})
        assert reactivated.headers["location"] == "/admin/tenants"
        assert f"Paused {unique} is active again." in (await client.get("/admin/tenants")).text
        await sign_in(member, owner)
        assert (await member.get("/app")).status_code == 200

        missing = "/admin/tenants/00000000-0000-0000-0000-000000000000/suspend"
        refused = await post_form(client, "/admin/tenants", missing, {})
        assert refused.status_code == 303 and refused.headers["location"] == "/admin/tenants"
        assert 'class="alert alert-error" role="alert"' in (await client.get("/admin/tenants")).text
