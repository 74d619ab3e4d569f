from tests.commerce.conftest import Store, clothing_type, product


async def test_create_product(shop: Store) -> None:
    kind = await clothing_type(shop)
    made = await product(
        shop,
        kind,
        "tee",
        skus=["TEE-M"],
        description_html="<p onclick='x'>Soft <script>x()</script>cotton</p>",
    )
    assert made["description_html"] == "<p>Soft cotton</p>"
    page = await shop.ok("GET", "/products", params={"q": "cott"})
    assert [p["id"] for p in page["items"]] == [made["id"]]
    page = await shop.ok("GET", "/products", params={"q": "tee m"})
    assert [p["id"] for p in page["items"]] == [made["id"]]
