"""Saved views: each member's own (filters, sort, columns), checked when saved, run through
the listings' search (so the record-level rule holds), invisible to other members and tenants."""

from __future__ import annotations

import httpx

from tests.crm.conftest import Crm, person
from tests.identity.conftest import Invite


async def test_a_view_saves_filters_sort_and_columns(crm: Crm) -> None:
    await crm.ok(
        "POST",
        "/fields",
        201,
        json={
            "record_type": "person",
            "code": "tier",
            "label": "Tier",
            "kind": "choice",
            "choices": ["gold", "silver"],
        },
    )
    await person(crm, "Ann", "Zed", tags=["vip"], custom={"tier": "gold"})
    await person(crm, "Bo", "Young", tags=["vip"], custom={"tier": "silver"})
    await person(crm, "Cy", "Xu", tags=["cold"])
    view = await crm.ok(
        "POST",
        "/views",
        201,
        json={
            "record_type": "person",
            "name": "VIPs",
            "filters": ["tag:has:vip"],
            "sort": "-custom.tier",
            "columns": ["first_name", "custom.tier", "emails"],
        },
    )
    page = await crm.ok("GET", f"/views/{view['id']}/records", params={"limit": 1})
    assert page["columns"] == ["first_name", "custom.tier", "emails"]
    assert [{k: v for k, v in item.items() if k != "id"} for item in page["items"]] == [
        {"first_name": "Bo", "custom.tier": "silver", "emails": []}
    ]
    rest = await crm.ok(
        "GET", f"/views/{view['id']}/records", params={"cursor": page["next_cursor"]}
    )
    assert [item["first_name"] for item in rest["items"]] == ["Ann"] and rest["next_cursor"] is None

    changed = await crm.ok("PATCH", f"/views/{view['id']}", json={"filters": [], "sort": "name"})
    everyone = await crm.ok("GET", f"/views/{changed['id']}/records")
    assert [item["first_name"] for item in everyone["items"]] == ["Cy", "Bo", "Ann"]
    assert [v["name"] for v in await crm.ok("GET", "/views", params={"record_type": "person"})] == [
        "VIPs"
    ]

    for bad in (
        {"filters": ["custom.nope:eq:1"]},
        {"sort": "custom.nope"},
        {"columns": ["password"]},
    ):
        await crm.problem(
            "POST",
            "/views",
            422,
            "crm.invalid_filter",
            json={"record_type": "person", "name": "Bad", **bad},
        )
    await crm.problem(
        "POST", "/views", 409, "crm.name_taken", json={"record_type": "person", "name": "VIPs"}
    )
    await crm.ok("DELETE", f"/views/{view['id']}", 204)
    assert await crm.ok("GET", "/views") == []


async def test_views_are_their_members_own(
    client: httpx.AsyncClient, crm: Crm, rival: Crm, invite: Invite
) -> None:
    staff = Crm(client, await invite(crm.account, "staff"))
    await person(crm, "Ann", "Owner")
    await person(staff, "Sam", "Staff")
    view = await staff.ok("POST", "/views", 201, json={"record_type": "person", "name": "All"})
    await crm.ok("PUT", "/access", json={"rule": "owner"})
    mine = await staff.ok("GET", f"/views/{view['id']}/records")
    assert [item["first_name"] for item in mine["items"]] == ["Sam"], "the rule holds in views"
    for other in (crm, rival):
        assert await other.ok("GET", "/views") == []
        for method, path, body in (
            ("GET", f"/views/{view['id']}", None),
            ("GET", f"/views/{view['id']}/records", None),
            ("PATCH", f"/views/{view['id']}", {"name": "Stolen"}),
            ("DELETE", f"/views/{view['id']}", None),
        ):
            await other.problem(method, path, 404, "crm.not_found", json=body)
    assert (await staff.ok("GET", f"/views/{view['id']}"))["name"] == "All"
