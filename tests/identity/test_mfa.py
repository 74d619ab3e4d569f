"""TOTP two-factor authentication with recovery codes."""

from __future__ import annotations

import time

import httpx
import pyotp

from tests.identity.conftest import API, Account, Register, login


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
