"""The demo seed: idempotent, reports passwords once, and the logins work."""

from __future__ import annotations

import httpx

from bizosaas.demo import read_credentials, seed_demo
from bizosaas.identity import module as identity_module
from bizosaas.kit.db import Database
from bizosaas.kit.module import SeedContext
from bizosaas.settings import Settings
from tests.identity.conftest import API, bearer, login


async def test_demo_seed(client: httpx.AsyncClient, database: Database, settings: Settings) -> None:
    await seed_demo(database, settings, say=lambda _text: None)
    credentials = {login_: password for _who, login_, password in read_credentials(settings)}
    expected = {
        "admin@bizosaas.local",
        "owner@acme.example",
        "manager@acme.example",
        "staff@acme.example",
        "client@acme.example",
    }
    assert expected <= set(credentials)

    # Running it again creates nothing and so reports no new identity passwords.
    async with database.unit_of_work() as session:
        context = SeedContext(session=session, settings=settings, say=lambda _text: None)
        assert identity_module.seed is not None
        await identity_module.seed(context)
    assert context.credentials == []

    owner = await login(client, "owner@acme.example", credentials["owner@acme.example"])
    assert owner.status_code == 200, owner.text
    me = (await client.get(f"{API}/me", headers=bearer(owner.json()["access_token"]))).json()
    assert {m["tenant"]["slug"] for m in me["memberships"]} == {"acme", "northwind"}
    switched = await client.post(
        f"{API}/switch-tenant",
        json={"tenant": "northwind" if me["tenant"]["slug"] == "acme" else "acme"},
        headers=bearer(owner.json()["access_token"]),
    )
    assert switched.status_code == 200

    for email, role in (
        ("manager@acme.example", "manager"),
        ("staff@acme.example", "staff"),
        ("client@acme.example", "client"),
    ):
        response = await login(client, email, credentials[email], tenant="acme")
        token = response.json()["access_token"]
        assert (await client.get(f"{API}/me", headers=bearer(token))).json()["roles"] == [role]
    root = await login(client, "admin@bizosaas.local", credentials["admin@bizosaas.local"])
    token = root.json()["access_token"]
    tenants = (await client.get(f"{API}/admin/tenants", headers=bearer(token))).json()
    assert {"acme", "northwind"} <= {t["slug"] for t in tenants}
