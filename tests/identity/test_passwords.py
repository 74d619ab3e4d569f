"""Password policy, change, reset by e-mail, e-mail verification, transparent re-hashing."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import argon2
import httpx
import pytest
from sqlalchemy import select, update

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.passwords import Passwords, check_password_policy
from bizosaas.identity.exceptions import WeakPassword
from bizosaas.identity.models import OneTimeToken, User
from bizosaas.kit.db import Database, utcnow
from tests.identity.conftest import (
    API,
    PASSWORD,
    Register,
    bearer,
    deliver_mail,
    login,
    mailbox,
    token_in,
)

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "too_short"),
        ("password123", "common"),
        ("Qwerty123456", "common"),
        ("aaaaaaaaaaaa", "common"),
        ("x" * 300, "too_long"),
    ],
)
async def test_weak_passwords_are_refused_and_nothing_is_created(
    client: httpx.AsyncClient, unique: str, password: str, reason: str
) -> None:
    email = f"weak-{unique}@example.com"
    response = await client.post(
        f"{API}/register",
        json={"email": email, "password": password, "full_name": "W", "tenant_name": "Weak Co"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "identity.weak_password" and body["reason"] == reason
    assert (await login(client, email, password)).status_code == 401


def test_policy_refuses_passwords_built_from_the_email() -> None:
    with pytest.raises(WeakPassword):
        check_password_policy("jane.doe-2024!", min_length=10, email="jane.doe@example.com")
    assert check_password_policy(PASSWORD, min_length=10) == PASSWORD


async def test_change_password_ends_other_sessions(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    other = (await login(client, account.email)).json()
    wrong = await client.post(
        f"{API}/password/change",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=account.headers,
    )
    assert wrong.status_code == 401
    changed = await client.post(
        f"{API}/password/change",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.headers,
    )
    assert changed.status_code == 204
    assert (await client.get(f"{API}/me", headers=account.headers)).status_code == 200
    assert (await client.get(f"{API}/me", headers=bearer(other["access_token"]))).status_code == 401
    assert (await login(client, account.email)).status_code == 401
    assert (await login(client, account.email, NEW_PASSWORD)).status_code == 200


async def test_password_reset_by_mail(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    account = await register()
    unknown = await client.post(
        f"{API}/password/reset/request", json={"email": f"nobody-{unique}@example.com"}
    )
    known = await client.post(f"{API}/password/reset/request", json={"email": account.email})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()  # no hint about which addresses have accounts
    assert await mailbox(database, f"nobody-{unique}@example.com") == []

    message = next(m for m in await mailbox(database, account.email) if "Reset" in m.subject)
    token = token_in(message)
    weak = await client.post(
        f"{API}/password/reset/confirm", json={"token": token, "new_password": "password1"}
    )
    assert weak.status_code == 422
    done = await client.post(
        f"{API}/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    # Every session ended; the old password is gone; the token is single-use.
    assert (await client.get(f"{API}/me", headers=account.headers)).status_code == 401
    assert (await login(client, account.email)).status_code == 401
    assert (await login(client, account.email, NEW_PASSWORD)).status_code == 200
    reused = await client.post(
        f"{API}/password/reset/confirm", json={"token": token, "new_password": PASSWORD}
    )
    assert reused.status_code == 400
    assert reused.json()["code"] == "identity.invalid_token"


async def test_expired_reset_token_is_refused(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    account = await register()
    await client.post(f"{API}/password/reset/request", json={"email": account.email})
    token = token_in(
        next(m for m in await mailbox(database, account.email) if "Reset" in m.subject)
    )
    async with database.unit_of_work() as session:
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.user_id == account.user_id)
            .values(expires_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    response = await client.post(
        f"{API}/password/reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert (await login(client, account.email)).status_code == 200


async def test_email_verification(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    account = await register(verified=False)
    me = (await client.get(f"{API}/me", headers=account.headers)).json()
    assert me["user"]["email_verified_at"] is None
    resent = await client.post(f"{API}/email/verify/request", headers=account.headers)
    assert resent.json() == {"sent": True}
    messages = [m for m in await mailbox(database, account.email) if "Confirm" in m.subject]
    assert len(messages) == 2
    newest, older = messages
    # Asking again cancels the older link.
    stale = await client.post(f"{API}/email/verify/confirm", json={"token": token_in(older)})
    assert stale.status_code == 400
    ok = await client.post(f"{API}/email/verify/confirm", json={"token": token_in(newest)})
    assert ok.status_code == 204
    me = (await client.get(f"{API}/me", headers=account.headers)).json()
    assert me["user"]["email_verified_at"] is not None
    again = await client.post(f"{API}/email/verify/request", headers=account.headers)
    assert again.json() == {"sent": False}


async def test_hash_is_upgraded_when_parameters_change(
    client: httpx.AsyncClient,
    register: Register,
    database: Database,
    identity_context: IdentityContext,
) -> None:
    account = await register()

    async def stored_hash() -> str:
        async with database.unit_of_work() as session:
            value = await session.scalar(
                select(User.password_hash).where(User.id == account.user_id)
            )
            assert value is not None
            return value

    before = await stored_hash()
    assert "m=7168,t=1,p=1" in before
    original = identity_context.passwords
    identity_context.passwords = Passwords(time_cost=2, memory_cost=8192, parallelism=1)
    try:
        assert (await login(client, account.email)).status_code == 200
    finally:
        identity_context.passwords = original
    after = await stored_hash()
    assert "m=8192,t=2,p=1" in after
    assert (await login(client, account.email)).status_code == 200  # old params still verify


async def test_reset_mails_to_one_address_are_limited(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    account = await register()
    for _ in range(7):
        response = await client.post(f"{API}/password/reset/request", json={"email": account.email})
        assert response.status_code == 202  # same answer throughout
    resets = [m for m in await mailbox(database, account.email) if "Reset" in m.subject]
    # Five account mails an hour per address: the sign-up's confirmation was the first.
    assert len(resets) == 4


async def test_hashing_runs_off_the_event_loop_which_keeps_serving(
    client: httpx.AsyncClient,
    database: Database,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
    identity_context: IdentityContext,
) -> None:
    """Every Argon2 computation of sign-up and sign-in (hash, verify, the dummy verify of an
    unknown address) runs on another thread, and the gateway answers other requests meanwhile."""
    identity = identity_context
    original = identity.passwords
    # Costly enough (about a tenth of a second or more) that a blocked loop could not hide.
    identity.passwords = Passwords(time_cost=2, memory_cost=65536, parallelism=1)

    computations: list[tuple[int, float, float]] = []  # (thread, started, finished)

    def recorded(compute: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return compute(*args, **kwargs)
            finally:
                computations.append((threading.get_ident(), started, time.perf_counter()))

        return run

    for name in ("hash", "verify"):
        monkeypatch.setattr(
            argon2.PasswordHasher, name, recorded(getattr(argon2.PasswordHasher, name))
        )

    answered: list[float] = []

    async def other_requests() -> None:
        while True:
            response = await client.get("/.well-known/jwks.json")
            assert response.status_code == 200
            answered.append(time.perf_counter())
            await asyncio.sleep(0.002)

    email = f"offloop-{unique}@example.com"
    background = asyncio.create_task(other_requests())
    try:
        registered = await client.post(
            f"{API}/register",
            json={"email": email, "password": PASSWORD, "full_name": "O", "tenant_name": "Off"},
        )
        await deliver_mail(database)  # the sign-up is carried out after the answer
        signed_in = await login(client, email)
        unknown = await login(client, f"nobody-{unique}@example.com")
    finally:
        background.cancel()
        await asyncio.gather(background, return_exceptions=True)
        identity.passwords = original
    assert registered.status_code == 202, registered.text
    assert signed_in.status_code == 200 and unknown.status_code == 401

    assert len(computations) >= 3
    loop_thread = threading.get_ident()
    assert all(thread != loop_thread for thread, _, _ in computations)
    for _, started, finished in computations:
        assert any(started < at < finished for at in answered), "the loop stalled while hashing"
