"""Login throttling per account and per address; no account enumeration."""

from __future__ import annotations

import httpx
import pytest

from bizosaas.settings import Settings
from tests.identity.conftest import PASSWORD, Register, login


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_limit_per_account": "3 per 15 minutes",
            "login_limit_per_ip": "6 per 15 minutes",
        }
    )


async def test_account_is_throttled_after_failures(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    for _ in range(3):
        assert (await login(client, account.email, "wrong password!!")).status_code == 401
    throttled = await login(client, account.email, PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "identity.login_throttled"
    retry_after = int(throttled.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60


async def test_success_does_not_count_and_resets_the_account_budget(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    for _ in range(2):
        assert (await login(client, account.email, "wrong password!!")).status_code == 401
    assert (await login(client, account.email)).status_code == 200
    for _ in range(2):
        assert (await login(client, account.email, "wrong password!!")).status_code == 401
    assert (await login(client, account.email)).status_code == 200


async def test_address_is_throttled_across_accounts(
    client: httpx.AsyncClient, register: Register, unique: str
) -> None:
    account = await register()
    for n in range(6):
        response = await login(client, f"guess{n}-{unique}@example.com", "wrong password!!")
        assert response.status_code == 401
    assert (await login(client, account.email)).status_code == 429


async def test_unknown_address_and_wrong_password_answer_alike(
    client: httpx.AsyncClient, register: Register, unique: str
) -> None:
    account = await register()
    unknown = await login(client, f"nobody-{unique}@example.com", "wrong password!!")
    wrong = await login(client, account.email, "wrong password!!")
    assert unknown.status_code == wrong.status_code == 401
    strip = {"instance"}
    assert {k: v for k, v in unknown.json().items() if k not in strip} == {
        k: v for k, v in wrong.json().items() if k not in strip
    }
