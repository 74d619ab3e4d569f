"""A tenant sends invitations and mints API keys by the handful, not without end."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bizosaas.identity.exceptions import InvitationsThrottled
from bizosaas.identity.quotas import TenantQuotas
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.conftest import require
from tests.identity.conftest import API, Register, mailbox, token_in
from tests.support import backends


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "invitation_limit_per_tenant": "3 per hour; 4 per day",
            "api_key_limit_per_tenant": "2 per hour",
        }
    )


async def invite(client: httpx.AsyncClient, headers: dict[str, str], email: str) -> httpx.Response:
    return await client.post(
        f"{API}/invitations", json={"email": email, "role": "staff"}, headers=headers
    )


async def test_invitations_beyond_the_tenant_quota_answer_429(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner, neighbour = await register("Busy"), await register("Quiet")
    for n in range(3):
        assert (
            await invite(client, owner.headers, f"p{n}-{unique}@example.com")
        ).status_code == 201
    refused = await invite(client, owner.headers, f"p3-{unique}@example.com")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "identity.invitations_throttled"
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= 3600 and refused.json()["retry_after"] == retry_after
    # Refused means nothing stored and nothing mailed.
    assert len((await client.get(f"{API}/invitations", headers=owner.headers)).json()) == 3
    assert await mailbox(database, f"p3-{unique}@example.com") == []
    # The budget is the tenant's own: another tenant still invites.
    assert (await invite(client, neighbour.headers, f"n-{unique}@example.com")).status_code == 201


async def test_invitations_an_unverified_tenant_tried_do_not_use_its_quota(
    client: httpx.AsyncClient, register: Register, database: Database, unique: str
) -> None:
    owner = await register(verified=False)
    for n in range(5):
        refused = await invite(client, owner.headers, f"u{n}-{unique}@example.com")
        assert refused.json()["code"] == "identity.email_unverified"
    (confirmation,) = await mailbox(database, owner.email)
    await client.post(f"{API}/email/verify/confirm", json={"token": token_in(confirmation)})
    assert (await invite(client, owner.headers, f"ok-{unique}@example.com")).status_code == 201


async def test_api_keys_beyond_the_tenant_quota_answer_429(
    client: httpx.AsyncClient, register: Register
) -> None:
    owner = await register()

    async def create(name: str) -> httpx.Response:
        return await client.post(
            f"{API}/api-keys",
            json={"name": name, "permissions": ["identity.member:read"]},
            headers=owner.headers,
        )

    assert [(await create(f"key {n}")).status_code for n in range(2)] == [201, 201]
    refused = await create("one too many")
    assert refused.status_code == 429
    assert refused.json()["code"] == "identity.api_keys_throttled"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    keys = (await client.get(f"{API}/api-keys", headers=owner.headers)).json()
    assert sorted(k["name"] for k in keys) == ["key 0", "key 1"]


async def test_the_daily_window_holds_when_the_hourly_one_has_room(cache_backend: str) -> None:
    redis_url = backends.redis_test_url() if cache_backend == "redis" else None
    quotas = TenantQuotas(
        invitations="5 per hour; 2 per day", api_keys="1/hour", redis_url=redis_url
    )
    tenant = uuid.uuid4()
    await quotas.charge_invitation(tenant)
    await quotas.charge_invitation(tenant)
    with pytest.raises(InvitationsThrottled) as refused:
        await quotas.charge_invitation(tenant)
    assert 3600 < refused.value.extensions["retry_after"] <= 86400


async def test_processes_sharing_redis_share_the_budget() -> None:
    redis_url = backends.redis_test_url()
    require(redis_url is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    first, second = (
        TenantQuotas(invitations="2 per hour", api_keys="1/hour", redis_url=redis_url)
        for _ in range(2)
    )
    tenant = uuid.uuid4()
    await first.charge_invitation(tenant)
    await second.charge_invitation(tenant)
    with pytest.raises(InvitationsThrottled):
        await first.charge_invitation(tenant)
