"""TOTP two-factor authentication with recovery codes, and the two-step login."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select, update

from bizosaas.identity import service as identity
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import mfa_challenges as challenges
from bizosaas.identity.credentials import totp as mfa
from bizosaas.identity.credentials.tokens import hash_secret
from bizosaas.identity.models import MfaChallengeToken, SessionChannel, User
from bizosaas.identity.schemas import MfaChallenge
from bizosaas.kit import crypto
from bizosaas.kit.db import Database, utcnow
from bizosaas.settings import Settings
from tests.conftest import own_database
from tests.identity.conftest import API, Account, Register, deliver_mail, login


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Room for the five wrong codes a challenge allows, before the account throttle steps in.
    return settings.model_copy(update={"login_free_failures_per_account": 20})


async def _enable(client: httpx.AsyncClient, account: Account) -> tuple[pyotp.TOTP, list[str]]:
    enrolment = await client.post(f"{API}/mfa/totp/enrol", headers=account.headers)
    assert enrolment.status_code == 200, enrolment.text
    body = enrolment.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert account.email.split("@")[0] in body["otpauth_uri"]
    assert body["qr_svg"].lstrip().startswith("<?xml") or "<svg" in body["qr_svg"]
    totp = pyotp.TOTP(body["secret"])
    wrong = await client.post(
        f"{API}/mfa/totp/confirm", json={"code": "000000"}, headers=account.headers
    )
    assert wrong.status_code == 401 or totp.now() == "000000"
    confirmed = await client.post(
        f"{API}/mfa/totp/confirm", json={"code": totp.now()}, headers=account.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return totp, codes


def _next_code(totp: pyotp.TOTP) -> str:
    """A valid code for the next time step (accepted within the one-step drift window)."""
    return totp.at(time.time() + totp.interval)


async def test_login_requires_the_second_factor_once_enabled(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    totp, _codes = await _enable(client, account)

    challenge = await login(client, account.email)
    assert challenge.status_code == 401
    assert challenge.json()["code"] == "identity.mfa_required"
    assert challenge.json()["mfa_required"] is True

    wrong = await login(client, account.email, totp_code="123456")
    assert wrong.status_code == 401
    assert wrong.json()["code"] in {"identity.invalid_mfa_code", "identity.mfa_required"}

    code = _next_code(totp)
    ok = await login(client, account.email, totp_code=code)
    assert ok.status_code == 200, ok.text
    replay = await login(client, account.email, totp_code=code)
    assert replay.status_code == 401  # a code works once


async def test_recovery_codes_work_once(client: httpx.AsyncClient, register: Register) -> None:
    account = await register()
    _totp, codes = await _enable(client, account)
    first = await login(client, account.email, totp_code=codes[0].upper())
    assert first.status_code == 200, first.text
    again = await login(client, account.email, totp_code=codes[0])
    assert again.status_code == 401
    assert (await login(client, account.email, totp_code=codes[1])).status_code == 200


async def test_disable_needs_password_and_code(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    totp, codes = await _enable(client, account)
    again = await client.post(f"{API}/mfa/totp/enrol", headers=account.headers)
    assert again.status_code == 409
    refused = await client.post(
        f"{API}/mfa/totp/disable",
        json={"password": "wrong password here", "code": codes[0]},
        headers=account.headers,
    )
    assert refused.status_code == 401
    disabled = await client.post(
        f"{API}/mfa/totp/disable",
        json={"password": account.password, "code": codes[0]},
        headers=account.headers,
    )
    assert disabled.status_code == 204
    assert (await login(client, account.email)).status_code == 200
    me = (await client.get(f"{API}/me", headers=account.headers)).json()
    assert me["user"]["mfa_enabled"] is False
    assert totp.now()


async def test_regenerating_recovery_codes_invalidates_old_ones(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    _totp, codes = await _enable(client, account)
    fresh = await client.post(
        f"{API}/mfa/recovery-codes", json={"code": codes[0]}, headers=account.headers
    )
    assert fresh.status_code == 200
    new_codes = fresh.json()["recovery_codes"]
    assert (await login(client, account.email, totp_code=codes[1])).status_code == 401
    assert (await login(client, account.email, totp_code=new_codes[0])).status_code == 200


def _wrong_code(totp: pyotp.TOTP) -> str:
    now = time.time()
    valid = {totp.at(now + offset * totp.interval) for offset in (-2, -1, 0, 1, 2)}
    return next(c for c in ("123456", "654321", "111111", "222222", "333333") if c not in valid)


async def _challenge(client: httpx.AsyncClient, account: Account, **extra: object) -> str:
    answer = await login(client, account.email, **extra)
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert body["code"] == "identity.mfa_required" and body["mfa_required"] is True
    assert body["expires_in"] == 300
    assert body["mfa_token"].startswith("bzm_")
    assert account.password not in answer.text
    return str(body["mfa_token"])


async def _complete(
    client: httpx.AsyncClient, token: str, code: str, **extra: object
) -> httpx.Response:
    return await client.post(f"{API}/login/mfa", json={"mfa_token": token, "code": code, **extra})


async def _audit(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, object]]:
    response = await client.get(f"{API}/audit", headers=headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, object]] = response.json()
    return events


async def test_two_step_login_with_a_single_use_challenge(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    account = await register()
    totp, _codes = await _enable(client, account)
    token = await _challenge(client, account)

    async with database.unit_of_work() as session:
        stored = await session.scalar(
            select(MfaChallengeToken).where(MfaChallengeToken.user_id == account.user_id)
        )
    assert stored is not None and stored.token_hash == hash_secret(token) != token
    assert stored.channel == "api" and stored.tenant_slug == account.tenant_slug

    wrong = await _complete(client, token, _wrong_code(totp))
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "identity.invalid_mfa_code"
    assert wrong.json()["attempts_left"] == 4

    code = _next_code(totp)
    ok = await _complete(client, token, code)
    assert ok.status_code == 200, ok.text
    pair = ok.json()
    assert pair["tenant_id"] == str(account.tenant_id)
    me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == account.email

    used = await _complete(client, token, totp.now())
    assert used.status_code == 401
    assert used.json()["code"] == "identity.mfa_challenge_invalid"
    unknown = await _complete(client, "bzm_" + "x" * 43, totp.now())
    assert unknown.json()["code"] == "identity.mfa_challenge_invalid"

    await deliver_mail(database)  # the failed login's handler writes its audit record
    events = await _audit(client, {"Authorization": f"Bearer {pair['access_token']}"})
    failed = [e for e in events if e["action"] == "login.failed"]
    assert [e["details"] for e in failed] == [{"reason": "mfa"}]
    assert any(
        e["action"] == "login.succeeded" and e["details"] == {"channel": "api"} for e in events
    )


async def test_a_challenge_dies_after_five_wrong_codes(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    totp, _codes = await _enable(client, account)
    token = await _challenge(client, account)
    left = []
    for _ in range(5):
        wrong = await _complete(client, token, _wrong_code(totp))
        assert wrong.json()["code"] == "identity.invalid_mfa_code"
        left.append(wrong.json()["attempts_left"])
    assert left == [4, 3, 2, 1, 0]
    dead = await _complete(client, token, _next_code(totp))
    assert dead.status_code == 401
    assert dead.json()["code"] == "identity.mfa_challenge_invalid"
    # A fresh password step gives a fresh challenge.
    fresh = await _challenge(client, account)
    assert (await _complete(client, fresh, _next_code(totp))).status_code == 200


async def test_an_expired_challenge_is_refused(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    account = await register()
    totp, _codes = await _enable(client, account)
    token = await _challenge(client, account)
    async with database.unit_of_work() as session:
        await session.execute(
            update(MfaChallengeToken)
            .where(MfaChallengeToken.token_hash == hash_secret(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await _complete(client, token, _next_code(totp))
    assert expired.status_code == 401
    assert expired.json()["code"] == "identity.mfa_challenge_invalid"

    # The next password step sweeps the dead row away.
    fresh = await _challenge(client, account)
    async with database.unit_of_work() as session:
        rows = await session.scalars(
            select(MfaChallengeToken.token_hash).where(MfaChallengeToken.user_id == account.user_id)
        )
        assert list(rows) == [hash_secret(fresh)]


async def _challenge_hashes(database: Database, *user_ids: uuid.UUID) -> set[str]:
    async with database.unit_of_work() as session:
        rows = await session.scalars(
            select(MfaChallengeToken.token_hash).where(MfaChallengeToken.user_id.in_(user_ids))
        )
        return set(rows)


async def test_dead_challenges_of_users_who_never_return_are_swept(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    account = await register()
    totp, _codes = await _enable(client, account)
    gone = await register(tenant_name="Gone")  # starts sign-ins, never signs in again
    async with database.unit_of_work() as session:
        user = await session.get(User, gone.user_id)
        assert user is not None
        issued = [
            await challenges.issue(
                session, user=user, tenant_slug=slug, channel=SessionChannel.api, ip=None
            )
            for slug in (gone.tenant_slug, None, gone.tenant_slug)
        ]
    abandoned, spent, live = (hash_secret(challenge.mfa_token) for challenge in issued)
    past = utcnow() - timedelta(seconds=1)
    async with database.unit_of_work() as session:
        await session.execute(
            update(MfaChallengeToken)
            .where(MfaChallengeToken.token_hash.in_([abandoned, spent]))
            .values(expires_at=past)
        )
        await session.execute(
            update(MfaChallengeToken)
            .where(MfaChallengeToken.token_hash == spent)
            .values(used_at=past)
        )
    assert await _challenge_hashes(database, gone.user_id) == {abandoned, spent, live}

    # Another user's password step, with no tenant scope bound, takes them away.
    fresh = await _challenge(client, account)
    assert await _challenge_hashes(database, gone.user_id, account.user_id) == {
        live,
        hash_secret(fresh),
    }
    assert (await _complete(client, fresh, _next_code(totp))).status_code == 200


async def test_a_password_step_sweeps_a_bounded_batch(
    client: httpx.AsyncClient, register: Register, database: Database
) -> None:
    account = await register()
    await _enable(client, account)
    dead = challenges.SWEEP_BATCH + 2
    async with database.unit_of_work() as session:
        session.add_all(
            MfaChallengeToken(
                user_id=account.user_id,
                token_hash=secrets.token_hex(32),
                channel=SessionChannel.api.value,
                attempts=0,
                expires_at=utcnow() - timedelta(minutes=10),
            )
            for _ in range(dead)
        )
    assert len(await _challenge_hashes(database, account.user_id)) == dead

    first = await _challenge(client, account)
    left = await _challenge_hashes(database, account.user_id)
    assert hash_secret(first) in left and len(left) == 2 + 1
    second = await _challenge(client, account)
    assert await _challenge_hashes(database, account.user_id) == {
        hash_secret(first),
        hash_secret(second),
    }


async def test_a_challenge_is_bound_to_its_tenant_channel_and_address(
    client: httpx.AsyncClient,
    register: Register,
    database: Database,
    identity_context: IdentityContext,
) -> None:
    account = await register()
    totp, _codes = await _enable(client, account)
    other = await register(tenant_name="Other")

    token = await _challenge(client, account, tenant=account.tenant_slug)
    foreign = await _complete(client, token, _next_code(totp), tenant=other.tenant_slug)
    assert foreign.json()["code"] == "identity.mfa_challenge_invalid"

    async with database.unit_of_work() as session:
        browser = await identity.login_browser(
            session, identity=identity_context, email=account.email, password=account.password
        )
        elsewhere = await identity.authenticate_password(
            session,
            identity=identity_context,
            email=account.email,
            password=account.password,
            ip="203.0.113.9",
        )
    assert isinstance(browser, MfaChallenge) and isinstance(elsewhere, MfaChallenge)
    for stolen in (browser.mfa_token, elsewhere.mfa_token):
        refused = await _complete(client, stolen, _next_code(totp))
        assert refused.json()["code"] == "identity.mfa_challenge_invalid"

    # None of that spent the API challenge issued to this client for its tenant.
    ok = await _complete(client, token, _next_code(totp), tenant=account.tenant_slug)
    assert ok.status_code == 200, ok.text
    assert ok.json()["tenant_id"] == str(account.tenant_id)


async def test_a_recovery_code_completes_a_challenge_and_is_audited(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    _totp, codes = await _enable(client, account)
    token = await _challenge(client, account)
    ok = await _complete(client, token, codes[3].upper())
    assert ok.status_code == 200, ok.text
    again = await _complete(client, await _challenge(client, account), codes[3])
    assert again.json()["code"] == "identity.invalid_mfa_code"
    events = await _audit(client, {"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert [e["action"] for e in events].count("mfa.recovery_code_used") == 1


async def _stored_secret(database: Database, account: Account) -> str | None:
    async with database.unit_of_work() as session:
        user = await session.get(User, account.user_id)
        assert user is not None
        return user.totp_secret


async def test_the_totp_secret_is_stored_encrypted_and_bound_to_its_user(
    client: httpx.AsyncClient,
    register: Register,
    database: Database,
    identity_context: IdentityContext,
) -> None:
    account = await register()
    other = await register()
    totp, _codes = await _enable(client, account)
    stored = await _stored_secret(database, account)
    assert stored is not None and crypto.is_sealed(stored)
    assert totp.secret not in stored

    # Copied onto another user's row, the ciphertext does not open.
    async with database.unit_of_work() as session:
        await session.execute(
            update(User)
            .where(User.id == other.user_id)
            .values(totp_secret=stored, totp_enabled_at=utcnow())
        )
    with pytest.raises(crypto.DecryptionFailed):
        async with database.unit_of_work() as session:
            victim = await session.get(User, other.user_id)
            assert victim is not None
            mfa.totp_secret(victim, data_keys=identity_context.data_keys)

    token = await _challenge(client, account)
    assert (await _complete(client, token, _next_code(totp))).status_code == 200


async def test_a_plain_text_secret_from_an_older_version_is_encrypted_on_use(
    client: httpx.AsyncClient,
    register: Register,
    database: Database,
    identity_context: IdentityContext,
) -> None:
    account = await register()
    totp, codes = await _enable(client, account)
    async with database.unit_of_work() as session:
        await session.execute(
            update(User).where(User.id == account.user_id).values(totp_secret=totp.secret)
        )
    ok = await login(client, account.email, totp_code=_next_code(totp))
    assert ok.status_code == 200, ok.text
    stored = await _stored_secret(database, account)
    assert stored is not None and crypto.is_sealed(stored) and totp.secret not in stored

    # The start-up sweep seals what nobody has used yet.
    async with database.unit_of_work() as session:
        await session.execute(
            update(User).where(User.id == account.user_id).values(totp_secret=totp.secret)
        )
    async with database.unit_of_work() as session:
        assert await mfa.seal_plain_secrets(session, data_keys=identity_context.data_keys) >= 1
    stored = await _stored_secret(database, account)
    assert stored is not None and crypto.is_sealed(stored)
    token = await _challenge(client, account)
    # Every time step in the window is spent; a recovery code is checked after the secret
    # has been decrypted for the TOTP check, so this proves the sealed secret still opens.
    assert (await _complete(client, token, codes[0])).status_code == 200


async def test_the_sweep_passes_over_a_challenge_another_sign_in_holds(tmp_path: Path) -> None:
    """On PostgreSQL the sweep skips rows another transaction has locked (a challenge being
    completed) instead of waiting for them; the held one stays, the loose one goes."""
    async with own_database("postgres", tmp_path) as target:
        database = Database.from_url(target.app_url)
        try:
            expired = utcnow() - timedelta(minutes=10)
            async with database.unit_of_work() as session:
                user = User(email=f"held-{secrets.token_hex(4)}@example.com")
                session.add(user)
                await session.flush()
                held, loose = (
                    MfaChallengeToken(
                        user_id=user.id,
                        token_hash=secrets.token_hex(32),
                        channel=SessionChannel.api.value,
                        expires_at=expired,
                    )
                    for _ in range(2)
                )
                session.add_all([held, loose])
                await session.flush()
                user_id, held_id, loose_id = user.id, held.id, loose.id

            async with database.unit_of_work() as completing:
                await completing.execute(
                    select(MfaChallengeToken.id)
                    .where(MfaChallengeToken.id == held_id)
                    .with_for_update()
                )
                async with database.unit_of_work() as password_step:
                    someone = await password_step.get(User, user_id)
                    assert someone is not None
                    # Waiting for the held row would wait for `completing`, which waits here.
                    await asyncio.wait_for(
                        challenges.issue(
                            password_step,
                            user=someone,
                            tenant_slug=None,
                            channel=SessionChannel.api,
                            ip=None,
                        ),
                        timeout=10,
                    )
            async with database.unit_of_work() as session:
                left = set(await session.scalars(select(MfaChallengeToken.id)))
            assert held_id in left and loose_id not in left and len(left) == 2
        finally:
            await database.dispose()
