"""The session and CSRF (pre-session) cookies are `Secure` whenever the request came over
https, even without `BIZOSAAS_PUBLIC_URL`: straight to the gateway, or through a trusted proxy
that says so in `X-Forwarded-Proto`. An untrusted peer's `X-Forwarded-Proto` over plain http
does not make them Secure (the browser would then drop them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from bizosaas.web.shell import PRESESSION_COOKIE, SESSION_COOKIE
from tests.support.lifespan import app_lifespan
from tests.web.pages import csrf_of, tenant_admin

PROXY = "10.20.30.40"


@dataclass
class SignIn:
    csrf_cookie: str
    """The `Set-Cookie` of the pre-session cookie the login form is bound to."""
    session_cookie: str


def set_cookie(response: httpx.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def is_secure(header: str) -> bool:
    return re.search(r";\s*secure\s*(;|$)", header, re.IGNORECASE) is not None


async def sign_in(
    settings: Settings,
    database: Database,
    unique: str,
    *,
    base_url: str,
    peer: str,
    headers: dict[str, str] | None = None,
) -> SignIn:
    """Open the login page and sign in as a browser at `peer` would, over `base_url`'s scheme.

    The cookie goes back by hand: httpx, like a browser, keeps a Secure cookie off plain http,
    and a request that reached a proxy over https comes to the gateway over http."""
    application = create_app(settings, database=database)
    async with app_lifespan(application):
        owner = await tenant_admin(database, application.state.identity, unique)
        transport = httpx.ASGITransport(app=application, client=(peer, 4321))
        async with httpx.AsyncClient(
            transport=transport,
            base_url=base_url,
            headers={"accept": "text/html", **(headers or {})},
        ) as browser:
            page = await browser.get("/login")
            csrf_cookie = set_cookie(page, PRESESSION_COOKIE)
            browser.cookies.clear()
            signed_in = await browser.post(
                "/login",
                data={
                    "csrf_token": csrf_of(page.text),
                    "email": owner.email,
                    "password": owner.password,
                },
                headers={"cookie": f"{PRESESSION_COOKIE}={cookie_value(csrf_cookie)}"},
            )
    assert signed_in.status_code == 303, signed_in.text
    return SignIn(csrf_cookie=csrf_cookie, session_cookie=set_cookie(signed_in, SESSION_COOKIE))


@pytest.fixture
def without_public_url(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": None, "trusted_proxies": [PROXY]})


async def test_cookies_are_secure_over_https_without_a_public_url(
    without_public_url: Settings, database: Database, unique: str
) -> None:
    cookies = await sign_in(
        without_public_url, database, unique, base_url="https://biz.example.com", peer="10.1.1.1"
    )
    assert is_secure(cookies.csrf_cookie) and is_secure(cookies.session_cookie)
    assert "httponly" in cookies.session_cookie.lower()


async def test_cookies_are_secure_when_a_trusted_proxy_says_https(
    without_public_url: Settings, database: Database, unique: str
) -> None:
    cookies = await sign_in(
        without_public_url,
        database,
        unique,
        base_url="http://biz.example.com",
        peer=PROXY,
        headers={"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"},
    )
    assert is_secure(cookies.csrf_cookie) and is_secure(cookies.session_cookie)


async def test_an_untrusted_forwarded_proto_does_not_make_cookies_secure(
    without_public_url: Settings, database: Database, unique: str
) -> None:
    cookies = await sign_in(
        without_public_url,
        database,
        unique,
        base_url="http://biz.example.com",
        peer="10.1.1.2",  # not the trusted proxy
        headers={"x-forwarded-proto": "https", "forwarded": "proto=https"},
    )
    assert not is_secure(cookies.csrf_cookie) and not is_secure(cookies.session_cookie)
    assert "httponly" in cookies.session_cookie.lower()
