"""Login throttling without lockout abuse: growing delays per account and per address, the
owner's device exempt, one alert per episode, no account enumeration.

Time is a `ManualClock` the throttle reads; SQLite runs keep the counters in memory,
PostgreSQL runs in Redis (scaled mode).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.device_cookies import DEVICE_COOKIE
from bizosaas.identity.credentials.throttle import LoginThrottle
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.identity.conftest import API, PASSWORD, Register, bearer, login, mailbox
from tests.identity.test_mfa import _enable as enable_totp
from tests.support.clock import ManualClock
from tests.web.pages import csrf_of, new_client, post_form, sign_in, super_admin

WRONG = "wrong password!!"
ALERT_SUBJECT = "Repeated failed sign-ins to your BizOSaaS account"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_free_failures_per_account": 3,
            "login_free_failures_per_ip": 8,
            "login_free_failures_per_device": 3,
            "login_first_delay": 1.0,
            "login_max_delay": 8,
        }
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=float(int(time.time())))


@pytest.fixture(autouse=True)
def throttle(
    identity_context: IdentityContext, settings: Settings, clock: ManualClock
) -> LoginThrottle:
    """The app's throttle, reading the test's clock."""
    identity_context.throttle = LoginThrottle.from_settings(
        settings, redis=identity_context.redis, clock=clock
    )
    return identity_context.throttle


def random_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@asynccontextmanager
async def api_client(app: FastAPI, address: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Another client: its own cookie jar and (unless given) its own address."""
    transport = httpx.ASGITransport(
        app=app, raise_app_exceptions=False, client=(address or random_address(), 40000)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def assert_throttled(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "identity.login_throttled"
    retry_after = int(response.headers["retry-after"])
    assert body["retry_after"] == retry_after > 0
    return retry_after


async def alerts(database: Database, email: str) -> list[str]:
    return [m.body for m in await mailbox(database, email) if m.subject == ALERT_SUBJECT]


async def test_delays_grow_and_the_right_password_works_once_waited(
    client: httpx.AsyncClient, register: Register, clock: ManualClock
) -> None:
    account = await register()
    for _ in range(3):
        assert (await login(client, account.email, WRONG)).status_code == 401
    waits = []
    for _ in range(5):
        # Refused unheard while waiting: even the right password is not checked.
        waits.append(assert_throttled(await login(client, account.email)))
        clock.advance(waits[-1])
        assert (await login(client, account.email, WRONG)).status_code == 401
    assert waits == [1, 2, 4, 8, 8]  # doubling, capped at login_max_delay

    clock.advance(7)
    assert assert_throttled(await login(client, account.email)) == 1
    clock.advance(1)
    assert (await login(client, account.email)).status_code == 200
    # The success forgot the failures: a typo now costs no wait.
    assert (await login(client, account.email, WRONG)).status_code == 401
    assert (await login(client, account.email)).status_code == 200


async def test_a_guesser_does_not_lock_out_the_owner_on_a_known_device(
    app: FastAPI, register: Register
) -> None:
    account = await register()
    async with api_client(app) as owner, api_client(app) as guesser:
        assert (await login(owner, account.email)).status_code == 200
        assert owner.cookies.get(DEVICE_COOKIE)

        for n in range(3):
            assert (await login(guesser, account.email, f"{WRONG}{n}")).status_code == 401
        for _ in range(3):  # as long as the guesser keeps trying, the account waits
            assert_throttled(await login(guesser, account.email))

        for _ in range(2):
            signed_in = await login(owner, account.email)
            assert signed_in.status_code == 200, signed_in.text
        async with api_client(app) as unknown_browser:
            assert_throttled(await login(unknown_browser, account.email))
        # The owner's success does not end the guesser's episode either.
        assert_throttled(await login(guesser, account.email))


async def test_a_two_factor_account_gets_its_device_cookie_from_the_second_step(
    app: FastAPI, client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    _totp, recovery_codes = await enable_totp(client, account)

    async def sign_in_fully(browser: httpx.AsyncClient, code: str) -> httpx.Response:
        challenge = await login(browser, account.email)
        assert challenge.json()["code"] == "identity.mfa_required", challenge.text
        token = challenge.json()["mfa_token"]
        return await browser.post(f"{API}/login/mfa", json={"mfa_token": token, "code": code})

    async with api_client(app) as owner, api_client(app) as guesser:
        assert (await login(owner, account.email)).status_code == 401
        assert not owner.cookies.get(DEVICE_COOKIE)  # a password alone earns no trust
        assert (await sign_in_fully(owner, recovery_codes[0])).status_code == 200
        assert owner.cookies.get(DEVICE_COOKIE)

        for n in range(3):
            await login(guesser, account.email, f"{WRONG}{n}")
        assert_throttled(await login(guesser, account.email))
        done = await sign_in_fully(owner, recovery_codes[1])
        assert done.status_code == 200, done.text


async def test_a_device_that_fails_too_often_loses_its_exemption(
    app: FastAPI, register: Register, clock: ManualClock
) -> None:
    account = await register()
    async with api_client(app) as stolen:
        assert (await login(stolen, account.email)).status_code == 200
        for n in range(3):
            assert (await login(stolen, account.email, f"{WRONG}{n}")).status_code == 401
        assert_throttled(await login(stolen, account.email, f"{WRONG}x"))
        # The device's failures held back the device, not the account.
        async with api_client(app) as other:
            assert (await login(other, account.email)).status_code == 200
        clock.advance(1)
        assert (await login(stolen, account.email)).status_code == 200
        # Its success cleared the device's failures: it is exempt again.
        async with api_client(app) as guesser:
            for n in range(4):
                await login(guesser, account.email, f"{WRONG}{n}")
            assert_throttled(await login(guesser, account.email))
        assert (await login(stolen, account.email)).status_code == 200


async def test_a_cookie_of_another_account_or_a_forged_one_is_no_exemption(
    app: FastAPI, register: Register
) -> None:
    mine, theirs = await register(), await register()
    async with api_client(app) as browser, api_client(app) as guesser:
        assert (await login(browser, mine.email)).status_code == 200
        for n in range(3):
            await login(guesser, theirs.email, f"{WRONG}{n}")
        assert_throttled(await login(browser, theirs.email))

        genuine = browser.cookies[DEVICE_COOKIE]
        forged = genuine[:-6] + ("AAAAAA" if not genuine.endswith("AAAAAA") else "BBBBBB")
        browser.cookies.clear()
        browser.cookies.set(DEVICE_COOKIE, forged)
        for n in range(3):
            await login(guesser, mine.email, f"{WRONG}{n}")
        assert_throttled(await login(browser, mine.email))


async def test_the_owner_is_alerted_once_per_episode(
    app: FastAPI,
    client: httpx.AsyncClient,
    register: Register,
    database: Database,
    clock: ManualClock,
) -> None:
    account = await register()
    for n in range(3):
        await login(client, account.email, f"{WRONG}{n}")
    for n in range(3):
        clock.advance(assert_throttled(await login(client, account.email)))
        assert (await login(client, account.email, f"{WRONG}again{n}")).status_code == 401
    sent = await alerts(database, account.email)
    assert len(sent) == 1
    assert "failed attempts" in sent[0] and WRONG not in sent[0]

    clock.advance(8)
    assert (await login(client, account.email)).status_code == 200  # the episode ends
    # Failures from the owner's own device (it now has a cookie) are no attack: no alert.
    for n in range(2):
        await login(client, account.email, f"{WRONG}mine{n}")
    assert len(await alerts(database, account.email)) == 1
    async with api_client(app) as guesser:
        for n in range(4):
            await login(guesser, account.email, f"{WRONG}later{n}")
    assert len(await alerts(database, account.email)) == 2


async def test_an_office_behind_one_address_is_not_held_back(
    app: FastAPI, register: Register
) -> None:
    office = random_address()
    colleagues = [await register() for _ in range(6)]
    browsers = []
    async with api_client(app, office) as shared:
        for person in colleagues:
            # Each mistypes twice the same way (the address counts it once), then gets it right.
            for _ in range(2):
                assert (await login(shared, person.email, WRONG)).status_code == 401
            shared.cookies.clear()
            assert (await login(shared, person.email)).status_code == 200
            browsers.append(dict(shared.cookies))
        # Six distinct failures from the address; a spray of distinct guesses crosses eight.
        for n in range(2):
            response = await login(shared, f"guess{n}-{uuid.uuid4().hex}@example.com", WRONG)
            assert response.status_code == 401
        shared.cookies.clear()
        assert_throttled(await login(shared, colleagues[0].email))
    # A colleague whose browser signed in before is not held back by the address.
    async with api_client(app, office) as known:
        known.cookies.update(browsers[1])
        assert (await login(known, colleagues[1].email)).status_code == 200


async def test_unknown_address_and_wrong_password_answer_alike(
    app: FastAPI, register: Register, unique: str
) -> None:
    account = await register()
    unknown_email = f"nobody-{unique}@example.com"
    async with api_client(app) as first, api_client(app) as second:
        for n in range(3):
            unknown = await login(first, unknown_email, f"{WRONG}{n}")
            wrong = await login(second, account.email, f"{WRONG}{n}")
            assert unknown.status_code == wrong.status_code == 401
            assert _comparable(unknown) == _comparable(wrong)
        unknown, wrong = await login(first, unknown_email), await login(second, account.email)
    assert unknown.status_code == wrong.status_code == 429
    assert _comparable(unknown) == _comparable(wrong)
    assert unknown.headers["retry-after"] == wrong.headers["retry-after"]


def _comparable(response: httpx.Response) -> dict[str, object]:
    return {k: v for k, v in response.json().items() if k != "instance"}


# -- the sign-in form and the administrator's unlock ------------------------------------------


async def test_the_sign_in_form_answers_429_saying_when_to_retry(
    app: FastAPI, register: Register, clock: ManualClock
) -> None:
    account = await register()

    async def submit(browser: httpx.AsyncClient, password: str) -> httpx.Response:
        page = await browser.get("/login")
        form = {"csrf_token": csrf_of(page.text), "email": account.email, "password": password}
        return await browser.post("/login", data=form)

    async with new_client(app) as browser:
        for n in range(3):
            assert (await submit(browser, f"{WRONG}{n}")).status_code == 422
        throttled = await submit(browser, PASSWORD)
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == "1"
        assert throttled.headers["content-type"].startswith("text/html")
        assert "Try again in 1 second." in throttled.text
        assert 'name="password"' in throttled.text  # the form is there to try again

        clock.advance(1)
        signed_in = await submit(browser, PASSWORD)
        assert signed_in.status_code == 303
        assert browser.cookies.get(DEVICE_COOKIE)


@pytest.fixture
async def root_headers(
    client: httpx.AsyncClient, database: Database, identity_context: IdentityContext
) -> dict[str, str]:
    admin = await super_admin(database, identity_context)
    response = await login(client, admin.email)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


async def test_an_administrator_unlocks_a_held_back_account(
    app: FastAPI, client: httpx.AsyncClient, register: Register, root_headers: dict[str, str]
) -> None:
    account = await register()
    unlock = f"{API}/admin/users/{account.user_id}/unlock-login"
    async with api_client(app) as guesser:
        for n in range(3):
            await login(guesser, account.email, f"{WRONG}{n}")
        assert_throttled(await login(guesser, account.email))

        refused = await client.post(unlock, headers=account.headers)
        assert refused.status_code == 403
        assert_throttled(await login(guesser, account.email))

        unlocked = await client.post(unlock, headers=root_headers)
        assert unlocked.status_code == 200, unlocked.text
        assert unlocked.json() == {
            "user_id": str(account.user_id),
            "email": account.email,
            "failures_cleared": 3,
        }
        assert (await login(guesser, account.email)).status_code == 200

    missing = await client.post(
        f"{API}/admin/users/{uuid.uuid4()}/unlock-login", headers=root_headers
    )
    assert missing.status_code == 404
    audit = await client.get(
        f"{API}/audit", params={"action": "login.unlocked"}, headers=account.headers
    )
    assert audit.status_code == 200, audit.text
    events = audit.json()
    assert [(e["target"], e["details"]) for e in events] == [
        (str(account.user_id), {"failures_cleared": 3})
    ]
    admin_id = (await client.get(f"{API}/me", headers=root_headers)).json()["user"]["id"]
    assert events[0]["actor_id"] == admin_id


async def test_the_admin_console_shows_and_unlocks_held_back_accounts(
    app: FastAPI, register: Register, database: Database, identity_context: IdentityContext
) -> None:
    account = await register()
    async with api_client(app) as guesser:
        for n in range(4):  # the fourth waits: it is not counted
            await login(guesser, account.email, f"{WRONG}{n}")
        assert_throttled(await login(guesser, account.email))
    admin = await super_admin(database, identity_context)
    async with new_client(app) as console:
        assert (await sign_in(console, admin)).status_code == 303
        listing = await console.get("/admin/users")
        assert listing.status_code == 200
        assert "3 failed" in listing.text
        assert f"/admin/users/{account.user_id}/unlock" in listing.text

        done = await post_form(
            console, "/admin/users", f"/admin/users/{account.user_id}/unlock", {}
        )
        assert done.status_code == 303
        after = await console.get("/admin/users")
        assert f"{account.email} can sign in again at once (3 failed sign-ins forgotten)." in (
            after.text
        )
        assert f"/admin/users/{account.user_id}/unlock" not in after.text
    async with api_client(app) as anywhere:
        assert (await login(anywhere, account.email)).status_code == 200
