"""Finding things: full text across people, companies, leads and deals (each word a prefix;
PostgreSQL tsvector + GIN, SQLite FTS5), filters on built-in fields, and keyset pages that
walk every sort order without skipping or repeating a row."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.crm.conftest import Crm, person, sales_pipeline


async def test_full_text_finds_every_record_type(crm: Crm) -> None:
    acme = await crm.ok(
        "POST", "/companies", 201, json={"name": "Acme Rockets", "domain": "acme-rockets.test"}
    )
    await person(
        crm, "Wile", "Coyote", emails=["wile@acme-rockets.com"], phones=["+1 650 253 0000"]
    )
    await crm.ok("POST", "/leads", 201, json={"title": "Rocket skates", "company_id": acme["id"]})
    sales = await sales_pipeline(crm)
    await crm.ok(
        "POST",
        "/deals",
        201,
        json={
            "title": "Rocket fuel",
            "pipeline_id": sales["id"],
            "currency": "EUR",
            "tags": ["urgent"],
        },
    )

    hits = (await crm.ok("GET", "/search", params={"q": "rock"}))["hits"]
    assert sorted((h["record_type"], h["title"]) for h in hits) == [
        ("company", "Acme Rockets"),
        ("deal", "Rocket fuel"),
        ("lead", "Rocket skates"),
        ("person", "Wile Coyote"),
    ], "the person by the words of their address"
    people = (await crm.ok("GET", "/search", params={"q": "wile acme"}))["hits"]
    assert [(h["record_type"], h["title"]) for h in people] == [("person", "Wile Coyote")]
    by_phone = await crm.ok("GET", "/people", params={"q": "16502530000"})
    assert [p["last_name"] for p in by_phone["items"]] == ["Coyote"]
    assert (await crm.ok("GET", "/deals", params={"q": "urgent"}))["items"][0][
        "title"
    ] == "Rocket fuel"
    assert (await crm.ok("GET", "/search", params={"q": "rocket zebra"}))["hits"] == []
    assert (await crm.ok("GET", "/search", params={"q": "!!"}))["hits"] == []


async def test_built_in_filters(crm: Crm) -> None:
    await person(
        crm, "Ann", "A", tags=["vip"], lifecycle_stage="customer", emails=["ann@example.com"]
    )
    await person(crm, "Bo", "B", tags=["cold"], lifecycle_stage="lead", source="web")

    async def firsts(*filters: str) -> list[str]:
        page = await crm.ok("GET", "/people", params={"filter": list(filters)})
        return [p["first_name"] for p in page["items"]]

    assert await firsts("tag:has:vip") == ["Ann"]
    assert await firsts("lifecycle_stage:eq:lead") == ["Bo"]
    assert await firsts("source:eq:web") == ["Bo"]
    assert await firsts("email:eq:ANN@example.com") == ["Ann"]
    assert await firsts(f"owner_id:eq:{crm.account.user_id}") == ["Ann", "Bo"]
    assert await firsts("created_at:gte:2000-01-01T00:00:00Z", "tag:has:cold") == ["Bo"]
    await crm.problem(
        "GET", "/people", 422, "crm.invalid_filter", params={"filter": "stage_id:eq:x"}
    )
    await crm.problem(
        "GET", "/people", 422, "crm.invalid_filter", params={"filter": "created_at:gte:2000-01-01"}
    )


async def walk(crm: Crm, path: str, sort: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = await crm.ok("GET", path, params=params)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_keyset_pages_walk_every_sort(crm: Crm) -> None:
    sales = await sales_pipeline(crm)
    for index, name in enumerate(["Cleo", "ann", "Bea", "Ann", "cleo", "Dee", "Bea"]):
        await person(crm, name, "Same")
        await crm.ok(
            "POST",
            "/deals",
            201,
            json={
                "title": name,
                "pipeline_id": sales["id"],
                "currency": "EUR",
                "amount": str(index % 3),
                **({"expected_close_date": f"2027-0{index % 4 + 1}-01"} if index % 2 else {}),
            },
        )

    @settings(
        max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(
        sort=st.sampled_from(["name", "-name", "created", "-created", "updated"]),
        deal_sort=st.sampled_from(["amount", "-amount", "close_date", "-close_date", "name"]),
        limit=st.integers(min_value=1, max_value=8),
    )
    def pages(sort: str, deal_sort: str, limit: int) -> None:
        cases.append((sort, deal_sort, limit))

    cases: list[tuple[str, str, int]] = []
    pages()
    for sort, deal_sort, limit in cases:
        everyone = await walk(crm, "/people", sort, 200)
        assert len(everyone) == 7 and await walk(crm, "/people", sort, limit) == everyone
        deals = await walk(crm, "/deals", deal_sort, 200)
        assert len(deals) == 7 and await walk(crm, "/deals", deal_sort, limit) == deals

    names = [
        p["first_name"] for p in (await crm.ok("GET", "/people", params={"sort": "name"}))["items"]
    ]
    assert [n.lower() for n in names] == sorted(n.lower() for n in names)
