"""The demo store `bizosaas up` seeds: a real catalogue for Acme, images served, and a second
seeding that adds nothing."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from bizosaas.demo import read_credentials, seed_demo
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.identity.conftest import bearer, login

API = "/api/brain/commerce"


async def catalogue(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    products: list[dict[str, Any]] = []
    path = f"{API}/products?limit=200"
    while path:
        page = (await client.get(path, headers=headers)).json()
        products += page["items"]
        path = page["next_cursor"] and f"{API}/products?limit=200&cursor={page['next_cursor']}"
    return products


async def test_demo_store_is_a_real_catalogue_seeded_once(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    await seed_demo(database, settings, say=lambda _text: None)
    password = {login_: pw for _who, login_, pw in read_credentials(settings)}
    response = await login(
        client, "owner@acme.example", password["owner@acme.example"], tenant="acme"
    )
    headers = bearer(response.json()["access_token"])

    products = await catalogue(client, headers)
    assert len(products) >= 200
    assert sum(len(p["variants"]) for p in products) >= 600
    assert all(p["publications"] and p["publications"][0]["is_published"] for p in products)
    assert all(v["prices"] for p in products for v in p["variants"])
    categories = (await client.get(f"{API}/categories", headers=headers)).json()
    assert len([c for c in categories if c["parent_id"] is None]) >= 3
    assert len((await client.get(f"{API}/collections", headers=headers)).json()) >= 3
    sizes = {v["attributes"].get("size") for p in products for v in p["variants"]}
    assert {"S", "M", "L", "XL"} <= sizes
    found = (await client.get(f"{API}/products?q=ethiopia", headers=headers)).json()["items"]
    assert found and all("Ethiopia" in p["name"] for p in found)

    # Every product has a generated image, served publicly.
    first = products[0]
    (image,) = (await client.get(f"{API}/products/{first['id']}/images", headers=headers)).json()
    served = await client.get(image["thumbnails"]["200"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(served.content)) as thumbnail:
        assert max(thumbnail.size) == 200

    # The store sells: delivery, VAT, a voucher, and orders placed through the checkout.
    orders = (await client.get(f"{API}/orders", headers=headers)).json()
    assert sorted(o["status"] for o in orders) == ["fulfilled", "unconfirmed", "unfulfilled"]
    vouchers = (await client.get(f"{API}/vouchers", headers=headers)).json()
    assert [v["code"] for v in vouchers] == ["WELCOME10"]

    # A second seeding adds nothing.
    await seed_demo(database, settings, say=lambda _text: None)
    again = await catalogue(client, headers)
    assert sorted(p["id"] for p in again) == sorted(p["id"] for p in products)
    images = (await client.get(f"{API}/products/{first['id']}/images", headers=headers)).json()
    assert len(images) == 1
    assert len((await client.get(f"{API}/orders", headers=headers)).json()) == 3
