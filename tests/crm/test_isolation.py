"""Tenant isolation for every CRM endpoint that names a row: another tenant's person,
company, lead, deal, pipeline, activity, note or custom field answers 404 `crm.not_found`,
exactly as a row that does not exist, and stays unchanged. Listings and search show only the
caller's own rows; references to another tenant's rows are refused the same way."""

from __future__ import annotations

import uuid
from typing import Any

from tests.crm.conftest import Crm, person, sales_pipeline


async def records_of(crm: Crm) -> dict[str, Any]:
    company = await crm.ok("POST", "/companies", 201, json={"name": "Acme"})
    someone = await person(crm, "Ada", "Secret", company_ids=[company["id"]])
    lead = await crm.ok("POST", "/leads", 201, json={"title": "Secret lead"})
    sales = await sales_pipeline(crm)
    deal = await crm.ok(
        "POST",
        "/deals",
        201,
        json={"title": "Secret deal", "pipeline_id": sales["id"], "currency": "EUR", "amount": "5"},
    )
    ref = {"record_type": "person", "record_id": someone["id"]}
    activity = await crm.ok(
        "POST", "/activities", 201, json={**ref, "kind": "task", "subject": "S"}
    )
    note = await crm.ok("POST", "/notes", 201, json={**ref, "body_html": "secret"})
    field = await crm.ok(
        "POST",
        "/fields",
        201,
        json={"record_type": "person", "code": "level", "label": "L", "kind": "text"},
    )
    return {
        "company": company["id"],
        "person": someone["id"],
        "lead": lead["id"],
        "pipeline": sales["id"],
        "stage": sales["stages"][1]["id"],
        "deal": deal["id"],
        "activity": activity["id"],
        "note": note["id"],
        "field": field["id"],
    }


async def snapshot(crm: Crm, ids: dict[str, Any]) -> list[Any]:
    return [
        await crm.ok("GET", f"/companies/{ids['company']}"),
        await crm.ok("GET", f"/people/{ids['person']}"),
        await crm.ok("GET", f"/leads/{ids['lead']}"),
        await crm.ok("GET", f"/pipelines/{ids['pipeline']}"),
        await crm.ok("GET", f"/deals/{ids['deal']}"),
        await crm.ok("GET", f"/deals/{ids['deal']}/history"),
        await crm.ok("GET", f"/activities/{ids['activity']}"),
        await crm.ok("GET", f"/fields/{ids['field']}"),
        await crm.ok("GET", f"/timeline/person/{ids['person']}"),
        await crm.ok("GET", f"/pipelines/{ids['pipeline']}/forecast"),
    ]


def requests_naming(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every endpoint that names a row, with a body that would be valid in its own tenant."""
    person_ref = {"record_type": "person", "record_id": ids["person"]}
    return [
        ("GET", f"/companies/{ids['company']}", None),
        ("PATCH", f"/companies/{ids['company']}", {"name": "Stolen"}),
        ("DELETE", f"/companies/{ids['company']}", None),
        ("GET", f"/people/{ids['person']}", None),
        ("PATCH", f"/people/{ids['person']}", {"first_name": "Stolen"}),
        ("DELETE", f"/people/{ids['person']}", None),
        ("GET", f"/leads/{ids['lead']}", None),
        ("PATCH", f"/leads/{ids['lead']}", {"title": "Stolen"}),
        ("DELETE", f"/leads/{ids['lead']}", None),
        ("GET", f"/pipelines/{ids['pipeline']}", None),
        ("PATCH", f"/pipelines/{ids['pipeline']}", {"name": "Stolen"}),
        ("DELETE", f"/pipelines/{ids['pipeline']}", None),
        ("GET", f"/pipelines/{ids['pipeline']}/forecast", None),
        ("GET", f"/deals/{ids['deal']}", None),
        ("PATCH", f"/deals/{ids['deal']}", {"title": "Stolen"}),
        ("DELETE", f"/deals/{ids['deal']}", None),
        ("POST", f"/deals/{ids['deal']}/move", {"stage_id": ids["stage"]}),
        ("POST", f"/deals/{ids['deal']}/close", {"won": True}),
        ("GET", f"/deals/{ids['deal']}/history", None),
        ("GET", f"/activities/{ids['activity']}", None),
        ("PATCH", f"/activities/{ids['activity']}", {"done": True}),
        ("DELETE", f"/activities/{ids['activity']}", None),
        ("DELETE", f"/notes/{ids['note']}", None),
        ("GET", f"/fields/{ids['field']}", None),
        ("PATCH", f"/fields/{ids['field']}", {"label": "Stolen"}),
        ("DELETE", f"/fields/{ids['field']}", None),
        ("GET", f"/timeline/person/{ids['person']}", None),
        ("POST", "/activities", {**person_ref, "kind": "task", "subject": "x"}),
        ("POST", "/notes", {**person_ref, "body_html": "x"}),
        ("POST", "/people", {"first_name": "X", "company_ids": [ids["company"]]}),
        ("POST", "/leads", {"title": "X", "person_id": ids["person"]}),
        ("POST", "/deals", {"title": "X", "pipeline_id": ids["pipeline"], "currency": "EUR"}),
    ]


async def test_another_tenants_rows_answer_404_and_stay_unchanged(crm: Crm, rival: Crm) -> None:
    ids = await records_of(crm)
    before = await snapshot(crm, ids)
    for method, path, body in requests_naming(ids):
        await rival.problem(method, path, 404, "crm.not_found", json=body)
    assert await snapshot(crm, ids) == before


async def test_missing_rows_answer_the_same(crm: Crm) -> None:
    missing = str(uuid.uuid4())
    ids = dict.fromkeys(
        ("company", "person", "lead", "pipeline", "stage", "deal", "activity", "note", "field"),
        missing,
    )
    for method, path, body in requests_naming(ids):
        await crm.problem(method, path, 404, "crm.not_found", json=body)


async def test_lists_and_search_show_only_own_rows(crm: Crm, rival: Crm) -> None:
    await records_of(crm)
    for path in ("/people", "/companies", "/leads", "/deals"):
        assert (await rival.ok("GET", path))["items"] == []
    for path in ("/pipelines", "/fields", "/activities/mine"):
        assert await rival.ok("GET", path) == []
    assert (await rival.ok("GET", "/search", params={"q": "secret"}))["hits"] == []
    assert len((await crm.ok("GET", "/search", params={"q": "secret"}))["hits"]) == 3
