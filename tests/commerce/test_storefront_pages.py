"""The public storefront, `/store/<slug>`: what a visitor (no login) sees of a store.

Only products published in the store's channel right now are shown, with that channel's prices
and the stock that can still be bought; another store's products, unpublished ones, ones outside
their publication dates, unknown stores and suspended tenants answer the same 404 page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bizosaas.identity.models import Tenant, TenantStatus
from bizosaas.kit.db import Database
from tests.commerce.conftest import Store, clothing_type

HTML = {"Accept": "text/html"}


async def visit(client: httpx.AsyncClient, path: str, status: int = 200) -> str:
    response = await client.get(path, headers=HTML)
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def names(page: str) -> list[str]:
    return re.findall(r'<span class="product-card-name">([^<]*)</span>', page)


async def stocked_store(store: Store, *, currency: str = "EUR") -> dict[str, Any]:
    """A store with a channel, a warehouse, two categories (one below the other) and products:
    a published shirt in two sizes (one sold out), published socks, a draft and a product
    published only from tomorrow."""
    channel = await store.ok(
        "POST", "/channels", 201, json={"name": "Web", "slug": "web", "currency": currency}
    )
    warehouse = await store.ok("POST", "/warehouses", 201, json={"name": "Main", "code": "main"})
    clothing = await store.ok(
        "POST", "/categories", 201, json={"name": "Clothing", "slug": "clothing"}
    )
    tops = await store.ok(
        "POST",
        "/categories",
        201,
        json={"name": "Tops", "slug": "tops", "parent_id": clothing["id"]},
    )
    kind = await clothing_type(store)
    made: dict[str, Any] = {"channel": channel, "clothing": clothing, "tops": tops, "type": kind}

    async def add(slug: str, name: str, category: str, sizes: dict[str, tuple[str, int]]) -> Any:
        product = await store.ok(
            "POST",
            "/products",
            201,
            json={
                "product_type_id": kind["id"],
                "category_id": category,
                "name": name,
                "slug": slug,
                "description_html": f"<p>The {name.lower()}.</p>",
                "variants": [
                    {"sku": f"{slug.upper()}-{size}", "attributes": {"size": size}}
                    for size in sizes
                ],
            },
        )
        for variant in product["variants"]:
            amount, quantity = sizes[variant["attributes"]["size"]]
            await store.ok(
                "PUT",
                f"/variants/{variant['id']}/prices/{channel['id']}",
                json={"amount": amount},
            )
            await store.ok(
                "PUT",
                f"/variants/{variant['id']}/stock/{warehouse['id']}",
                json={"quantity": quantity},
            )
        return product

    made["shirt"] = await add(
        "linen-shirt", "Linen shirt", tops["id"], {"S": ("30", 0), "M": ("35.5", 4)}
    )
    made["socks"] = await add("wool-socks", "Wool socks", clothing["id"], {"M": ("9.9", 20)})
    made["draft"] = await add("secret-coat", "Secret coat", clothing["id"], {"M": ("200", 3)})
    made["future"] = await add("spring-hat", "Spring hat", clothing["id"], {"M": ("15", 3)})
    for key in ("shirt", "socks"):
        await store.ok(
            "PUT",
            f"/products/{made[key]['id']}/publications/{channel['id']}",
            json={"is_published": True},
        )
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await store.ok(
        "PUT",
        f"/products/{made['future']['id']}/publications/{channel['id']}",
        json={"is_published": True, "published_from": tomorrow},
    )
    return made


async def test_home_shows_the_published_products_with_prices_in_the_store_currency(
    client: httpx.AsyncClient, shop: Store
) -> None:
    await stocked_store(shop)
    page = await visit(client, f"/store/{shop.account.tenant_slug}")
    assert sorted(names(page)) == ["Linen shirt", "Wool socks"]
    assert "from 30.00 EUR" in page
    assert "9.90 EUR" in page
    assert "Secret coat" not in page and "Spring hat" not in page
    assert 'href="/store/' + shop.account.tenant_slug + '/categories/clothing"' in page


async def test_search_filters_and_category_subtree(client: httpx.AsyncClient, shop: Store) -> None:
    await stocked_store(shop)
    base = f"/store/{shop.account.tenant_slug}"
    assert names(await visit(client, f"{base}/search?q=lin")) == ["Linen shirt"]
    assert names(await visit(client, f"{base}/search?q=coat")) == []
    # A category shows what is in it and below it.
    assert sorted(names(await visit(client, f"{base}/categories/clothing"))) == [
        "Linen shirt",
        "Wool socks",
    ]
    assert names(await visit(client, f"{base}/categories/tops")) == ["Linen shirt"]
    assert names(await visit(client, f"{base}/search?category=tops")) == ["Linen shirt"]
    # Prices in the store's currency; an amount that is not one is ignored, not an error.
    assert names(await visit(client, f"{base}/search?max_price=10")) == ["Wool socks"]
    assert names(await visit(client, f"{base}/search?min_price=31")) == ["Linen shirt"]
    assert len(names(await visit(client, f"{base}/search?min_price=abc"))) == 2
    assert names(await visit(client, f"{base}/search?sort=-name")) == ["Wool socks", "Linen shirt"]
    await visit(client, f"{base}/categories/unknown", 404)


async def test_pages_follow_the_keyset_cursor(client: httpx.AsyncClient, shop: Store) -> None:
    made = await stocked_store(shop)
    for number in range(25):
        product = await shop.ok(
            "POST",
            "/products",
            201,
            json={
                "product_type_id": made["type"]["id"],
                "name": f"Badge {number:02d}",
                "slug": f"badge-{number:02d}",
                "variants": [{"sku": f"BADGE-{number:02d}", "attributes": {"size": "S"}}],
            },
        )
        await shop.ok(
            "PUT",
            f"/products/{product['id']}/publications/{made['channel']['id']}",
            json={"is_published": True},
        )
    first = await visit(client, f"/store/{shop.account.tenant_slug}/search?q=badge")
    assert names(first) == [f"Badge {n:02d}" for n in range(24)]
    link = re.search(r'href="([^"]+)" rel="next"', first)
    assert link is not None
    second = await visit(client, link.group(1).replace("&amp;", "&"))
    assert names(second) == ["Badge 24"]
    assert 'rel="next"' not in second


async def test_product_page_picks_variants_and_shows_what_can_be_bought(
    client: httpx.AsyncClient, shop: Store
) -> None:
    made = await stocked_store(shop)
    url = f"/store/{shop.account.tenant_slug}/products/linen-shirt"
    page = await visit(client, url)
    # The first variant that can be bought is chosen: M (S is sold out).
    assert re.search(r'data-testid="price">35.50 EUR<', page)
    assert "Only 4 left" in page
    assert "(out of stock)" in page
    small = next(v for v in made["shirt"]["variants"] if v["attributes"]["size"] == "S")
    picked = await visit(client, f"{url}?variant={small['id']}")
    assert re.search(r'data-testid="price">30.00 EUR<', picked)
    assert "Out of stock" in picked
    assert "<p>The linen shirt.</p>" in page
    # A variant id that is not one of this product's is ignored.
    other = made["socks"]["variants"][0]["id"]
    assert re.search(
        r'data-testid="price">35.50 EUR<', await visit(client, f"{url}?variant={other}")
    )


async def test_what_is_not_for_sale_answers_not_found(
    client: httpx.AsyncClient, shop: Store, rival: Store
) -> None:
    await stocked_store(shop)
    await stocked_store(rival, currency="USD")
    base = f"/store/{shop.account.tenant_slug}"
    for slug in ("secret-coat", "spring-hat", "no-such-thing"):
        await visit(client, f"{base}/products/{slug}", 404)
    # The rival's product slugs are the same, its prices in dollars: never shown here.
    assert "USD" not in await visit(client, f"{base}/products/wool-socks")
    await visit(client, "/store/no-such-store", 404)
    await visit(client, "/store/NOT_A_SLUG", 404)


async def test_a_store_without_a_channel_or_suspended_is_not_found(
    client: httpx.AsyncClient, shop: Store, rival: Store, database: Database
) -> None:
    await visit(client, f"/store/{shop.account.tenant_slug}", 404)
    await stocked_store(rival)
    await visit(client, f"/store/{rival.account.tenant_slug}")
    async with database.unit_of_work() as session:
        await session.execute(
            update(Tenant)
            .where(Tenant.id == rival.account.tenant_id)
            .values(status=TenantStatus.suspended.value)
        )
    page = await visit(client, f"/store/{rival.account.tenant_slug}", 404)
    assert "Linen shirt" not in page


@pytest.mark.parametrize("path", ["", "/search?q=shirt", "/products/linen-shirt"])
async def test_store_pages_need_no_login_and_are_the_same_for_everyone(
    client: httpx.AsyncClient, shop: Store, path: str
) -> None:
    await stocked_store(shop)
    response = await client.get(f"/store/{shop.account.tenant_slug}{path}", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=30"
    assert (
        "set-cookie" not in response.headers
        or "bizosaas_session" not in response.headers["set-cookie"]
    )
