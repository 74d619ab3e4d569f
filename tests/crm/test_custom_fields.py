"""Custom fields per tenant: every kind validated, filtered and sorted, with keyset pages."""

from __future__ import annotations

from typing import Any

from tests.crm.conftest import Crm

FIELDS = [
    {"code": "industry", "label": "Industry", "kind": "choice", "choices": ["Retail", "Tech"]},
    {
        "code": "regions",
        "label": "Regions",
        "kind": "multi_choice",
        "choices": ["EU", "US", "APAC"],
    },
    {"code": "seats", "label": "Seats", "kind": "number"},
    {"code": "renewal", "label": "Renewal", "kind": "date"},
    {"code": "partner", "label": "Partner", "kind": "boolean"},
    {"code": "budget", "label": "Budget", "kind": "money", "currency": "JPY"},
    {"code": "motto", "label": "Motto", "kind": "text"},
]


async def define(crm: Crm) -> None:
    for definition in FIELDS:
        await crm.ok("POST", "/fields", 201, json={"record_type": "company", **definition})


async def company(crm: Crm, name: str, **custom: Any) -> Any:
    return await crm.ok("POST", "/companies", 201, json={"name": name, "custom": custom})


async def test_values_are_checked_and_stored_canonically(crm: Crm) -> None:
    await define(crm)
    made = await company(
        crm,
        "Acme",
        industry="Tech",
        regions=["EU", "US", "EU"],
        seats="12.50",
        renewal="2027-03-01",
        partner=True,
        budget="1000.4",
        motto="Beep",
    )
    assert made["custom"] == {
        "industry": "Tech",
        "regions": ["EU", "US"],
        "seats": "12.5",
        "renewal": "2027-03-01",
        "partner": True,
        "budget": "1000",
        "motto": "Beep",
    }
    body = await crm.problem(
        "POST",
        "/companies",
        422,
        "crm.invalid_custom_fields",
        json={
            "name": "Bad",
            "custom": {
                "industry": "Farming",
                "regions": "EU",
                "seats": "many",
                "renewal": "March",
                "partner": "yes",
                "nope": 1,
            },
        },
    )
    assert sorted(error["loc"][-1] for error in body["errors"]) == [
        "industry",
        "nope",
        "partner",
        "regions",
        "renewal",
        "seats",
    ]
    changed = await crm.ok(
        "PATCH", f"/companies/{made['id']}", json={"custom": {"motto": None, "seats": 3}}
    )
    assert "motto" not in changed["custom"] and changed["custom"]["seats"] == "3"
    assert changed["custom"]["industry"] == "Tech", "values not named are kept"


async def test_required_fields_and_definition_rules(crm: Crm) -> None:
    await crm.ok(
        "POST",
        "/fields",
        201,
        json={
            "record_type": "person",
            "code": "vat",
            "label": "VAT",
            "kind": "text",
            "required": True,
        },
    )
    await crm.problem("POST", "/people", 422, "crm.invalid_custom_fields", json={"first_name": "X"})
    await crm.ok("POST", "/people", 201, json={"first_name": "X", "custom": {"vat": "GB1"}})
    await crm.problem(
        "POST",
        "/fields",
        409,
        "crm.code_taken",
        json={"record_type": "person", "code": "vat", "label": "Again", "kind": "text"},
    )
    await crm.problem(
        "POST",
        "/fields",
        422,
        "crm.invalid_custom_fields",
        json={"record_type": "deal", "code": "size", "label": "Size", "kind": "choice"},
    )
    await crm.problem(
        "POST",
        "/fields",
        422,
        "crm.invalid_custom_fields",
        json={"record_type": "deal", "code": "fee", "label": "Fee", "kind": "money"},
    )


async def test_filter_and_sort_by_custom_fields(crm: Crm) -> None:
    await define(crm)
    await company(
        crm, "A", industry="Tech", regions=["EU"], seats=5, partner=True, renewal="2027-01-01"
    )
    await company(crm, "B", industry="Retail", regions=["US", "EU"], seats=50, partner=False)
    await company(crm, "C", industry="Tech", regions=["APAC"], seats="7.5", renewal="2026-06-01")
    await company(crm, "D")

    async def names(*filters: str, sort: str = "name") -> list[str]:
        page = await crm.ok("GET", "/companies", params={"filter": list(filters), "sort": sort})
        return [c["name"] for c in page["items"]]

    assert await names("custom.industry:eq:Tech") == ["A", "C"]
    assert await names("custom.regions:has:EU") == ["A", "B"]
    assert await names("custom.seats:gte:7") == ["B", "C"]
    assert await names("custom.seats:lte:7.5", "custom.industry:eq:Tech") == ["A", "C"]
    assert await names("custom.partner:eq:true") == ["A"]
    assert await names("custom.renewal:gte:2026-12-31") == ["A"]
    assert await names(sort="custom.seats") == ["D", "A", "C", "B"], "empty first"
    assert await names(sort="-custom.seats") == ["B", "C", "A", "D"]
    assert await names(sort="-custom.renewal") == ["A", "C", "D", "B"], "ties: by id, descending"

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"sort": "custom.seats", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = await crm.ok("GET", "/companies", params=params)
        pages += [c["name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == ["D", "A", "C", "B"]

    await crm.problem(
        "GET", "/companies", 422, "crm.invalid_filter", params={"filter": "custom.nope:eq:1"}
    )
    await crm.problem(
        "GET", "/companies", 422, "crm.invalid_filter", params={"filter": "custom.seats:has:1"}
    )
    await crm.problem(
        "GET", "/companies", 422, "crm.invalid_filter", params={"filter": "custom.seats:gte:x"}
    )
    await crm.problem(
        "GET", "/companies", 422, "crm.invalid_filter", params={"sort": "custom.regions"}
    )
    await crm.problem(
        "GET",
        "/companies",
        400,
        "crm.invalid_cursor",
        params={"sort": "name", "cursor": cursor or "x"},
    )
