"""Vouchers and promotions through the API: the stacking rules on a real checkout, dates,
minimum spend, and usage limits overall and per customer counted when orders are placed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.commerce.conftest import Store
from tests.commerce.selling import Shop, ready_cart, ready_shop


async def voucher(shop: Shop, code: str, **fields: Any) -> Any:
    body = {"channel_id": shop.channel["id"], "code": code, **fields}
    return await shop.store.ok("POST", "/vouchers", 201, json=body)


async def test_promotion_and_voucher_stack_as_documented(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop)
    await shop.ok(
        "POST",
        "/promotions",
        201,
        json={
            "channel_id": ready.channel["id"],
            "name": "Tees 10 % off",
            "kind": "percentage",
            "percentage": "10",
            "category_id": ready.category["id"],
        },
    )
    await shop.ok(
        "POST",
        "/promotions",
        201,
        json={
            "channel_id": ready.channel["id"],
            "name": "3 off everything",
            "kind": "fixed",
            "amount": "3",
        },
    )
    await voucher(ready, "save5", kind="fixed", amount="5.00", min_spend="30")
    cart = await ready_cart(client, ready, quantity=2)
    body = await cart.ok("GET")
    # per tee: 10 % = 2.00 vs 3.00 -> 3.00 each, 6.00 on the line (best promotion, not both)
    assert body["lines"][0]["promotion_discount"] == "6.00"
    body = await cart.ok("PUT", "/voucher", json={"code": "SAVE5"})
    assert body["voucher_code"] == "SAVE5" and body["voucher_applied"]
    assert body["lines"][0]["voucher_discount"] == "5.00"
    assert body["totals"] == {
        "subtotal": "40.00",
        "discount": "11.00",
        "shipping": "4.90",
        "tax": "5.41",  # 19 % contained in 29.00 (4.63) and in 4.90 (0.78)
        "total": "33.90",
    }
    # below the minimum spend (goods after promotions) the voucher stays but gives nothing
    line = body["lines"][0]["id"]
    body = await cart.ok("PATCH", f"/lines/{line}", json={"quantity": 1})
    assert body["voucher_code"] == "SAVE5" and not body["voucher_applied"]
    assert body["voucher_refusal"] == "minimum_spend"
    order = (await cart.complete()).json()
    assert order["voucher_code"] is None
    assert (await shop.ok("GET", "/vouchers"))[0]["used"] == 0


async def test_voucher_dates_and_activity(client: httpx.AsyncClient, shop: Store) -> None:
    ready = await ready_shop(shop)
    now = datetime.now(UTC)
    await voucher(
        ready, "LATER", kind="free_shipping", starts_at=(now + timedelta(days=1)).isoformat()
    )
    await voucher(
        ready, "OVER", kind="free_shipping", ends_at=(now - timedelta(days=1)).isoformat()
    )
    off = await voucher(ready, "OFF", kind="free_shipping", is_active=False)
    cart = await ready_cart(client, ready)
    for code in ("LATER", "OVER", "OFF", "NONE"):
        await cart.problem("PUT", "/voucher", 409, "commerce.voucher_invalid", json={"code": code})
    await shop.ok("PATCH", f"/vouchers/{off['id']}", json={"is_active": True})
    body = await cart.ok("PUT", "/voucher", json={"code": "off"})
    assert body["totals"]["shipping"] == "0.00"
    # switched off again before completion: the order is refused, nothing is written
    await shop.ok("PATCH", f"/vouchers/{off['id']}", json={"is_active": False})
    refused = await cart.complete()
    assert refused.status_code == 409 and refused.json()["code"] == "commerce.voucher_invalid"
    assert await shop.ok("GET", "/orders") == []
    body = await cart.ok("DELETE", "/voucher")
    assert body["voucher_code"] is None and body["totals"]["shipping"] == "4.90"


async def test_usage_limits_overall_and_per_customer(
    client: httpx.AsyncClient, shop: Store
) -> None:
    ready = await ready_shop(shop)
    await voucher(ready, "TWICE", kind="percentage", percentage="50", usage_limit=2)
    await voucher(ready, "ONCE-EACH", kind="free_shipping", usage_limit_per_customer=1)

    async def order_with(code: str, email: str) -> httpx.Response:
        cart = await ready_cart(client, ready, email=email)
        await cart.ok("PUT", "/voucher", json={"code": code})
        return await cart.complete()

    assert (await order_with("TWICE", "a@example.com")).status_code == 201
    second_cart = await ready_cart(client, ready, email="b@example.com")
    await second_cart.ok("PUT", "/voucher", json={"code": "TWICE"})
    assert (await order_with("TWICE", "c@example.com")).status_code == 201
    # the limit was reached while this cart waited: completion is refused, nothing written
    refused = await second_cart.complete()
    assert refused.status_code == 409 and refused.json()["code"] == "commerce.voucher_exhausted"
    await second_cart.problem(
        "PUT", "/voucher", 409, "commerce.voucher_exhausted", json={"code": "TWICE"}
    )

    assert (await order_with("ONCE-EACH", "d@example.com")).status_code == 201
    again = await order_with("ONCE-EACH", "D@example.com")
    assert again.status_code == 409 and again.json()["code"] == "commerce.voucher_exhausted"
    assert (await order_with("ONCE-EACH", "e@example.com")).status_code == 201
    used = {row["code"]: row["used"] for row in await shop.ok("GET", "/vouchers")}
    assert used == {"TWICE": 2, "ONCE-EACH": 2}
    assert len(await shop.ok("GET", "/orders")) == 4
