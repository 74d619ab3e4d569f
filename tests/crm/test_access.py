"""Record-level rules per tenant: `owner` (a member sees only what they own), `team` (also
what members of their role own), `everyone`. They hold for lists, search, reads, changes,
timelines and the forecast; tenant admins see everything; a hidden record answers 404 like a
missing one. Both backends: on PostgreSQL as the non-owner role with row-level security on."""

from __future__ import annotations

from typing import Any

import httpx

from tests.crm.conftest import Crm, person, sales_pipeline
from tests.identity.conftest import Invite


async def names(member: Crm, path: str = "/people", **params: Any) -> list[str]:
    page = await member.ok("GET", path, params=params)
    return sorted(p["first_name"] for p in page["items"])


async def test_rules_decide_what_members_see(
    client: httpx.AsyncClient, crm: Crm, invite: Invite
) -> None:
    alice = Crm(client, await invite(crm.account, "staff"))
    bob = Crm(client, await invite(crm.account, "staff"))
    mia = Crm(client, await invite(crm.account, "manager"))
    ids = {}
    for first, owner in (("Ann", alice), ("Mo", mia), ("Oz", crm)):
        made = await person(crm, first, "Smith", owner_id=str(owner.account.user_id))
        ids[first] = made["id"]

    assert await crm.ok("GET", "/access") == {"rule": "everyone"}
    assert await names(bob) == ["Ann", "Mo", "Oz"]

    await crm.ok("PUT", "/access", json={"rule": "owner"})
    assert await names(alice) == ["Ann"]
    assert await names(bob) == [], "a member who owns nothing sees nothing"
    assert await names(mia) == ["Mo"]
    assert await names(crm) == ["Ann", "Mo", "Oz"], "tenant admins see every record"
    assert (await bob.ok("GET", "/search", params={"q": "smith"}))["hits"] == []
    assert len((await alice.ok("GET", "/search", params={"q": "smith"}))["hits"]) == 1
    await bob.problem("GET", f"/people/{ids['Ann']}", 404, "crm.not_found")
    await bob.problem(
        "PATCH", f"/people/{ids['Ann']}", 404, "crm.not_found", json={"first_name": "X"}
    )
    await bob.problem("DELETE", f"/people/{ids['Ann']}", 404, "crm.not_found")
    await bob.problem("GET", f"/timeline/person/{ids['Ann']}", 404, "crm.not_found")
    await bob.problem(
        "POST",
        "/notes",
        404,
        "crm.not_found",
        json={"record_type": "person", "record_id": ids["Ann"], "body_html": "x"},
    )
    assert (await alice.ok("GET", f"/people/{ids['Ann']}"))["first_name"] == "Ann"

    await crm.ok("PUT", "/access", json={"rule": "team"})
    assert await names(bob) == ["Ann"], "Ann's owner is staff, as Bob is"
    assert await names(mia) == ["Mo"]

    created = await bob.ok("POST", "/people", 201, json={"first_name": "Bea"})
    assert created["owner_id"] == str(bob.account.user_id)
    assert await names(alice) == ["Ann", "Bea"]
    await bob.problem("PUT", "/access", 403, "auth.forbidden", json={"rule": "everyone"})


async def test_forecast_and_deal_lists_follow_the_rule(
    client: httpx.AsyncClient, crm: Crm, invite: Invite
) -> None:
    alice = Crm(client, await invite(crm.account, "staff"))
    bob = Crm(client, await invite(crm.account, "staff"))
    sales = await sales_pipeline(crm)
    for owner, amount in ((alice, "100"), (crm, "900")):
        await crm.ok(
            "POST",
            "/deals",
            201,
            json={
                "title": f"Deal {amount}",
                "pipeline_id": sales["id"],
                "amount": amount,
                "currency": "EUR",
                "owner_id": str(owner.account.user_id),
            },
        )
    await crm.ok("PUT", "/access", json={"rule": "owner"})
    assert (await alice.ok("GET", f"/pipelines/{sales['id']}/forecast"))["totals"] == {
        "EUR": "10.00"
    }
    assert (await bob.ok("GET", f"/pipelines/{sales['id']}/forecast"))["totals"] == {}
    assert (await crm.ok("GET", f"/pipelines/{sales['id']}/forecast"))["totals"] == {
        "EUR": "100.00"
    }
    assert [d["title"] for d in (await alice.ok("GET", "/deals"))["items"]] == ["Deal 100"]
    assert (await bob.ok("GET", "/deals"))["items"] == []


async def test_staff_and_clients_permissions(
    client: httpx.AsyncClient, crm: Crm, invite: Invite
) -> None:
    staff = Crm(client, await invite(crm.account, "staff"))
    customer = Crm(client, await invite(crm.account, "client"))
    sales = await sales_pipeline(crm)
    await staff.ok("POST", "/people", 201, json={"first_name": "Ok"})
    await staff.ok(
        "POST", "/deals", 201, json={"title": "Ok", "pipeline_id": sales["id"], "currency": "EUR"}
    )
    await staff.problem(
        "POST",
        "/pipelines",
        403,
        "auth.forbidden",
        json={"name": "X", "stages": [{"name": "A", "probability": 1}]},
    )
    await staff.problem(
        "POST",
        "/fields",
        403,
        "auth.forbidden",
        json={"record_type": "person", "code": "x", "label": "X", "kind": "text"},
    )
    await customer.problem("GET", "/people", 403, "auth.forbidden")
    response = await client.get("/api/brain/crm/people")
    assert response.status_code == 401
