"""People, companies and leads: e-mails and phones validated and normalised, a person in
several companies, owners who must be members, and changes that keep what they do not name."""

from __future__ import annotations

from tests.crm.conftest import Crm, person


async def test_person_contact_details_are_normalised(crm: Crm) -> None:
    made = await person(
        crm,
        "Ada",
        "Lovelace",
        emails=["Ada.Lovelace@Example.COM", "ada.lovelace@example.com", "ada@analytical.org"],
        phones=["020 8366 1177", "+1 (650) 253-0000"],
        phone_region="GB",
        address={"line1": "12 St James's Square", "city": "London", "country": "GB"},
        tags=["vip", "vip", "speaker"],
        lifecycle_stage="customer",
        source="conference",
    )
    assert made["emails"] == ["ada.lovelace@example.com", "ada@analytical.org"]
    assert made["phones"] == ["+442083661177", "+16502530000"]
    assert made["tags"] == ["vip", "speaker"]
    assert made["owner_id"] == str(crm.account.user_id), "the creator owns a new record"
    assert made["address"]["country"] == "GB"
    assert await crm.ok("GET", f"/people/{made['id']}") == made


async def test_bad_contact_details_are_refused_and_change_nothing(crm: Crm) -> None:
    body = await crm.problem(
        "POST",
        "/people",
        422,
        "crm.invalid_phone",
        json={"first_name": "Bad", "phones": ["12345", "+44 20 8366 1177"]},
    )
    assert body["errors"] == [
        {
            "loc": ["body", "phones"],
            "msg": "12345: not a valid phone number (add a + country code or phone_region)",
            "type": "crm.invalid_phone",
        }
    ]
    await crm.problem(
        "POST", "/people", 422, "request.validation_failed", json={"emails": ["not-an-address"]}
    )
    await crm.problem(
        "POST", "/people", 422, "request.validation_failed", json={"first_name": "A\u0000"}
    )
    assert (await crm.ok("GET", "/people"))["items"] == []


async def test_a_person_belongs_to_several_companies(crm: Crm) -> None:
    acme = await crm.ok("POST", "/companies", 201, json={"name": "Acme", "domain": "acme.test"})
    globex = await crm.ok("POST", "/companies", 201, json={"name": "Globex"})
    made = await person(crm, "Wile", "Coyote", company_ids=[acme["id"], globex["id"]])
    assert sorted(made["company_ids"]) == sorted([acme["id"], globex["id"]])

    at_acme = await crm.ok("GET", "/people", params={"filter": f"company_id:eq:{acme['id']}"})
    assert [p["id"] for p in at_acme["items"]] == [made["id"]]

    changed = await crm.ok("PATCH", f"/people/{made['id']}", json={"company_ids": [globex["id"]]})
    assert changed["company_ids"] == [globex["id"]]
    assert changed["first_name"] == "Wile", "fields left out are kept"
    await crm.ok("DELETE", f"/companies/{globex['id']}", 204)
    assert (await crm.ok("GET", f"/people/{made['id']}"))["company_ids"] == []


async def test_owner_must_be_a_member(crm: Crm, rival: Crm) -> None:
    await crm.problem(
        "POST",
        "/companies",
        422,
        "crm.invalid_owner",
        json={"name": "Initech", "owner_id": str(rival.account.user_id)},
    )
    assert (await crm.ok("GET", "/companies"))["items"] == []


async def test_leads_link_people_and_companies(crm: Crm) -> None:
    acme = await crm.ok("POST", "/companies", 201, json={"name": "Acme"})
    someone = await person(crm, "Road", "Runner")
    lead = await crm.ok(
        "POST",
        "/leads",
        201,
        json={"title": "Rocket skates", "person_id": someone["id"], "company_id": acme["id"]},
    )
    assert lead["status"] == "new"
    qualified = await crm.ok("PATCH", f"/leads/{lead['id']}", json={"status": "qualified"})
    assert qualified["status"] == "qualified" and qualified["person_id"] == someone["id"]
    listed = await crm.ok("GET", "/leads", params={"filter": "status:eq:qualified"})
    assert [item["id"] for item in listed["items"]] == [lead["id"]]
    await crm.ok("DELETE", f"/people/{someone['id']}", 204)
    assert (await crm.ok("GET", f"/leads/{lead['id']}"))["person_id"] is None
