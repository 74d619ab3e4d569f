"""Pipelines, deals with Decimal amounts, moves that write the stage history, winning and
losing, and the forecast weighted by each stage's probability."""

from __future__ import annotations

from typing import Any

from tests.crm.conftest import Crm, sales_pipeline


async def deal(
    crm: Crm, pipeline: Any, title: str, amount: str, currency: str = "EUR", **extra: Any
) -> Any:
    body = {"title": title, "pipeline_id": pipeline["id"], "amount": amount, "currency": currency}
    return await crm.ok("POST", "/deals", 201, json={**body, **extra})


async def test_deals_move_through_stages_with_history(crm: Crm) -> None:
    sales = await sales_pipeline(crm)
    qualified, proposal, _ = sales["stages"]
    made = await deal(crm, sales, "Big order", "1200.505", expected_close_date="2027-01-31")
    assert made["stage_id"] == qualified["id"], "the first stage unless one is named"
    assert made["amount"] == "1200.51" and made["status"] == "open"

    moved = await crm.ok("POST", f"/deals/{made['id']}/move", json={"stage_id": proposal["id"]})
    assert moved["stage_id"] == proposal["id"]
    lost = await crm.ok(
        "POST", f"/deals/{made['id']}/close", json={"won": False, "reason": "Budget cut"}
    )
    assert lost["status"] == "lost" and lost["lost_reason"] == "Budget cut"
    await crm.problem(
        "POST", f"/deals/{made['id']}/close", 409, "crm.deal_closed", json={"won": True}
    )

    history = await crm.ok("GET", f"/deals/{made['id']}/history")
    assert [(h["from_stage_id"], h["to_stage_id"], h["status"]) for h in history] == [
        (None, qualified["id"], "open"),
        (qualified["id"], proposal["id"], "open"),
        (proposal["id"], proposal["id"], "lost"),
    ]
    assert all(h["changed_by"] == str(crm.account.user_id) for h in history)


async def test_bad_moves_and_closes_are_refused(crm: Crm) -> None:
    sales = await sales_pipeline(crm)
    other = await sales_pipeline(crm, "Partners")
    made = await deal(crm, sales, "Order", "10")
    await crm.problem(
        "POST",
        f"/deals/{made['id']}/move",
        409,
        "crm.invalid_stage",
        json={"stage_id": other["stages"][0]["id"]},
    )
    await crm.problem(
        "POST", f"/deals/{made['id']}/close", 422, "request.validation_failed", json={"won": False}
    )
    await crm.problem(
        "POST",
        "/deals",
        422,
        "crm.unknown_currency",
        json={"title": "X", "pipeline_id": sales["id"], "amount": "1", "currency": "XYZ"},
    )
    await crm.problem(
        "POST",
        "/deals",
        422,
        "request.validation_failed",
        json={"title": "X", "pipeline_id": sales["id"], "amount": "-1", "currency": "EUR"},
    )
    assert (await crm.ok("GET", f"/deals/{made['id']}"))["stage_id"] == sales["stages"][0]["id"]
    await crm.problem(
        "POST",
        "/pipelines",
        409,
        "crm.name_taken",
        json={"name": "Sales", "stages": [{"name": "A", "probability": 1}]},
    )


async def test_forecast_weighs_open_deals_by_stage(crm: Crm) -> None:
    sales = await sales_pipeline(crm)
    qualified, proposal, negotiation = (s["id"] for s in sales["stages"])
    await deal(crm, sales, "A", "1000")
    b = await deal(crm, sales, "B", "333.33", stage_id=proposal)
    await deal(crm, sales, "C", "100000", currency="JPY", stage_id=proposal)
    won = await deal(crm, sales, "D", "5000", stage_id=negotiation)
    await crm.ok("POST", f"/deals/{won['id']}/close", json={"won": True})

    forecast = await crm.ok("GET", f"/pipelines/{sales['id']}/forecast")
    lines = {(line["stage"], line["currency"]): line for line in forecast["lines"]}
    assert set(lines) == {("Qualified", "EUR"), ("Proposal", "EUR"), ("Proposal", "JPY")}
    assert lines[("Qualified", "EUR")]["weighted_amount"] == "100.00"
    assert lines[("Proposal", "EUR")]["weighted_amount"] == "166.67"
    assert lines[("Proposal", "JPY")]["weighted_amount"] == "50000"
    assert forecast["totals"] == {"EUR": "266.67", "JPY": "50000"}

    await crm.ok("POST", f"/deals/{b['id']}/move", json={"stage_id": negotiation})
    moved = await crm.ok("GET", f"/pipelines/{sales['id']}/forecast")
    assert moved["totals"]["EUR"] == "366.66", "80% of 333.33 now"
    assert qualified


async def test_pipeline_stages_are_reordered_and_guarded(crm: Crm) -> None:
    sales = await sales_pipeline(crm)
    qualified, proposal, negotiation = sales["stages"]
    await deal(crm, sales, "A", "1", stage_id=negotiation["id"])
    reordered = await crm.ok(
        "PATCH",
        f"/pipelines/{sales['id']}",
        json={
            "stages": [
                {"id": proposal["id"], "name": "Proposal sent", "probability": 40},
                {"id": negotiation["id"], "name": "Negotiation", "probability": 90},
                {"name": "Contract", "probability": 95},
            ]
        },
    )
    assert [s["name"] for s in reordered["stages"]] == ["Proposal sent", "Negotiation", "Contract"]
    assert qualified["id"] not in [s["id"] for s in reordered["stages"]]
    await crm.problem(
        "PATCH",
        f"/pipelines/{sales['id']}",
        409,
        "crm.in_use",
        json={"stages": [{"id": proposal["id"], "name": "Only", "probability": 10}]},
    )
    await crm.problem("DELETE", f"/pipelines/{sales['id']}", 409, "crm.in_use")
    assert len((await crm.ok("GET", f"/pipelines/{sales['id']}"))["stages"]) == 3
