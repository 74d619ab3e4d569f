"""Channels: currencies, prices rounded to the currency's minor unit, publication with dates."""

from __future__ import annotations

import pytest

from tests.commerce.conftest import Store, clothing_type, product


@pytest.mark.parametrize(
    ("currency", "given", "stored"),
    [
        ("EUR", "12.345", "12.35"),
        ("EUR", "12.344", "12.34"),
        ("EUR", 10, "10.00"),
        ("JPY", "100.5", "101"),
        ("KWD", "1.2345", "1.235"),
    ],
)
async def test_prices_are_decimal_and_rounded_to_the_minor_unit(
    shop: Store, currency: str, given: object, stored: str
) -> None:
    channel = await shop.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": currency}
    )
    made = await product(shop, await clothing_type(shop), "tee", skus=["TEE-1"])
    variant = made["variants"][0]
    price = await shop.ok(
        "PUT", f"/variants/{variant['id']}/prices/{channel['id']}", json={"amount": given}
    )
    assert price == {
        "channel_id": channel["id"],
        "currency": currency,
        "amount": stored,
        "is_available": True,
    }
    read = await shop.ok("GET", f"/variants/{variant['id']}")
    assert read["prices"] == [price]


async def test_unknown_currency_and_negative_price_are_refused(shop: Store) -> None:
    await shop.problem(
        "POST",
        "/channels",
        422,
        "request.validation_failed",
        json={"name": "Web", "slug": "web", "currency": "XXX"},
    )
    channel = await shop.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": "EUR"}
    )
    made = await product(shop, await clothing_type(shop), "tee", skus=["TEE-1"])
    variant = made["variants"][0]
    for amount in ("-1", "NaN", "Infinity"):
        await shop.problem(
            "PUT",
            f"/variants/{variant['id']}/prices/{channel['id']}",
            422,
            "request.validation_failed",
            json={"amount": amount},
        )
    assert (await shop.ok("GET", f"/variants/{variant['id']}"))["prices"] == []


async def test_channel_slug_is_unique_and_currency_fixed(shop: Store) -> None:
    channel = await shop.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": "EUR"}
    )
    await shop.problem(
        "POST",
        "/channels",
        409,
        "commerce.slug_taken",
        json={"name": "Web 2", "slug": "web", "currency": "USD"},
    )
    changed = await shop.ok(
        "PATCH",
        f"/channels/{channel['id']}",
        json={"name": "Online", "is_active": False, "currency": "USD"},
    )
    assert changed == {**channel, "name": "Online", "is_active": False}
    assert await shop.ok("GET", "/channels") == [changed]


async def test_publication_per_channel_with_dates(shop: Store) -> None:
    channel = await shop.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": "EUR"}
    )
    made = await product(shop, await clothing_type(shop), "tee", skus=["TEE-1"])
    path = f"/products/{made['id']}/publications/{channel['id']}"
    await shop.problem(
        "PUT",
        path,
        409,
        "commerce.invalid_publication_window",
        json={
            "is_published": True,
            "published_from": "2027-02-01T00:00:00Z",
            "published_until": "2027-01-01T00:00:00Z",
        },
    )
    assert (await shop.ok("GET", f"/products/{made['id']}"))["publications"] == []
    await shop.problem(
        "PUT",
        path,
        422,
        "request.validation_failed",
        json={"is_published": True, "published_from": "2027-01-01T00:00:00"},  # no time zone
    )
    published = await shop.ok(
        "PUT",
        path,
        json={
            "is_published": True,
            "published_from": "2027-01-01T00:00:00Z",
            "published_until": "2027-02-01T00:00:00+01:00",
        },
    )
    assert published["is_published"] is True
    read = await shop.ok("GET", f"/products/{made['id']}")
    assert len(read["publications"]) == 1
    stored = read["publications"][0]
    assert stored["channel_id"] == channel["id"]
    assert stored["published_from"].startswith("2027-01-01T00:00:00")
    assert stored["published_until"].startswith("2027-01-31T23:00:00")
