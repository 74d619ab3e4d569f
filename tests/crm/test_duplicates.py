"""Duplicate people (same e-mail or phone however written, or a similar name in a shared
company) and merging them: every timeline item, lead and deal moves to the survivor."""

from __future__ import annotations

from tests.crm.conftest import Crm, person, sales_pipeline


async def test_duplicates_by_email_phone_and_similar_name(crm: Crm) -> None:
    acme = await crm.ok("POST", "/companies", 201, json={"name": "Acme"})
    ada = await person(
        crm,
        "Ada",
        "Lovelace",
        emails=["ada@example.com"],
        phones=["+44 20 8366 1177"],
        company_ids=[acme["id"]],
    )
    same_mail = await person(crm, "A.", "King", emails=["ADA@Example.com"])
    same_phone = await person(crm, "Augusta", "King", phones=["020 8366 1177"], phone_region="GB")
    similar = await person(crm, "Ada", "Lovelace-", company_ids=[acme["id"]])
    await person(crm, "Ada", "Lovelace")  # same name, no shared company: not proposed
    await person(crm, "Charles", "Babbage", company_ids=[acme["id"]])

    found = await crm.ok("GET", f"/people/{ada['id']}/duplicates")
    reasons = {d["person"]["id"]: d["reasons"] for d in found}
    assert reasons == {
        same_mail["id"]: ["email ada@example.com"],
        same_phone["id"]: ["phone +442083661177"],
        similar["id"]: ["similar name in a shared company"],
    }


async def test_merge_keeps_every_timeline_item(crm: Crm, rival: Crm) -> None:
    acme = await crm.ok("POST", "/companies", 201, json={"name": "Acme"})
    globex = await crm.ok("POST", "/companies", 201, json={"name": "Globex"})
    keep = await person(
        crm, "Ada", "", emails=["ada@example.com"], company_ids=[acme["id"]], tags=["vip"]
    )
    fold = await person(
        crm,
        "",
        "Lovelace",
        emails=["countess@example.com", "ada@example.com"],
        phones=["+44 20 8366 1177"],
        company_ids=[globex["id"]],
        tags=["speaker"],
        lifecycle_stage="customer",
    )
    ref = {"record_type": "person", "record_id": fold["id"]}
    await crm.ok("POST", "/notes", 201, json={**ref, "body_html": "Met in London"})
    await crm.ok("POST", "/activities", 201, json={**ref, "kind": "call", "subject": "Follow up"})
    await crm.ok(
        "POST",
        "/notes",
        201,
        json={"record_type": "person", "record_id": keep["id"], "body_html": "Own"},
    )
    lead = await crm.ok("POST", "/leads", 201, json={"title": "Engine", "person_id": fold["id"]})
    sales = await sales_pipeline(crm)
    deal = await crm.ok(
        "POST",
        "/deals",
        201,
        json={
            "title": "Engine",
            "pipeline_id": sales["id"],
            "currency": "GBP",
            "person_id": fold["id"],
        },
    )

    await rival.problem(
        "POST", f"/people/{keep['id']}/merge", 404, "crm.not_found", json={"other_id": fold["id"]}
    )
    await crm.problem(
        "POST",
        f"/people/{keep['id']}/merge",
        422,
        "crm.invalid_merge",
        json={"other_id": keep["id"]},
    )
    merged = await crm.ok("POST", f"/people/{keep['id']}/merge", json={"other_id": fold["id"]})
    assert merged["first_name"] == "Ada" and merged["last_name"] == "Lovelace"
    assert merged["emails"] == ["ada@example.com", "countess@example.com"]
    assert merged["phones"] == ["+442083661177"]
    assert merged["tags"] == ["vip", "speaker"] and merged["lifecycle_stage"] == "customer"
    assert sorted(merged["company_ids"]) == sorted([acme["id"], globex["id"]])

    timeline = await crm.ok("GET", f"/timeline/person/{keep['id']}")
    assert sorted(item["kind"] for item in timeline) == ["activity", "note", "note"]
    assert (await crm.ok("GET", f"/leads/{lead['id']}"))["person_id"] == keep["id"]
    assert (await crm.ok("GET", f"/deals/{deal['id']}"))["person_id"] == keep["id"]
    await crm.problem("GET", f"/people/{fold['id']}", 404, "crm.not_found")
    found = await crm.ok("GET", "/people", params={"q": "countess"})
    assert [p["id"] for p in found["items"]] == [keep["id"]]
