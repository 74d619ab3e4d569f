"""Product images: upload with thumbnails, order and alt text, delete; files that are not
images, too big or decompression bombs refused with stable codes; public files with caching;
another store's product or image answers 404 and is unchanged."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image

from tests.commerce.conftest import Store, clothing_type, product


def picture(width: int = 900, height: int = 600, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format=fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb's shape:
    a few hundred bytes that would expand to gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def upload(store: Store, product_id: str, data: bytes, status: int = 201, **form: str) -> Any:
    return await store.ok(
        "POST",
        f"/products/{product_id}/images",
        status,
        files={"file": ("photo.png", data, "image/png")},
        data=form,
    )


async def a_product(store: Store) -> dict[str, Any]:
    return await product(store, await clothing_type(store), "linen-shirt", skus=["LS-1"])


async def test_upload_makes_thumbnails_served_publicly_with_caching(shop: Store) -> None:
    shirt = await a_product(shop)
    image = await upload(shop, shirt["id"], picture(), alt_text="A blue shirt")
    assert (image["width"], image["height"], image["position"]) == (900, 600, 0)
    assert image["alt_text"] == "A blue shirt"
    assert image["url"].endswith("/original.png")

    anonymous = shop.client  # no credentials: image files are public
    for size, expected in (("200", (200, 133)), ("600", (600, 400))):
        response = await anonymous.get(image["thumbnails"][size])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert "immutable" in response.headers["cache-control"]
        with Image.open(io.BytesIO(response.content)) as thumbnail:
            assert thumbnail.format == "WEBP" and thumbnail.size == expected
        cached = await anonymous.get(
            image["thumbnails"][size], headers={"If-None-Match": response.headers["etag"]}
        )
        assert cached.status_code == 304
    original = await anonymous.get(image["url"])
    assert original.status_code == 200 and original.content == picture()


async def test_order_alt_text_and_delete(shop: Store) -> None:
    shirt = await a_product(shop)
    first = await upload(shop, shirt["id"], picture(300, 300))
    second = await upload(shop, shirt["id"], picture(400, 300, "JPEG"))
    third = await upload(shop, shirt["id"], picture(500, 300, "WEBP"))
    assert [second["url"][-4:], third["url"][-5:]] == [".jpg", ".webp"]

    moved = await shop.ok(
        "PATCH", f"/images/{third['id']}", json={"position": 0, "alt_text": "Front"}
    )
    assert moved["position"] == 0 and moved["alt_text"] == "Front"
    listed = await shop.ok("GET", f"/products/{shirt['id']}/images")
    assert [i["id"] for i in listed] == [third["id"], first["id"], second["id"]]
    assert [i["position"] for i in listed] == [0, 1, 2]

    await shop.ok("DELETE", f"/images/{first['id']}", 204)
    listed = await shop.ok("GET", f"/products/{shirt['id']}/images")
    assert [(i["id"], i["position"]) for i in listed] == [(third["id"], 0), (second["id"], 1)]
    assert (await shop.client.get(first["thumbnails"]["200"])).status_code == 404
    await shop.problem("DELETE", f"/images/{first['id']}", 404, "commerce.not_found")


async def test_bad_oversized_and_bomb_images_are_refused_and_store_nothing(shop: Store) -> None:
    shirt = await a_product(shop)
    path = f"/products/{shirt['id']}/images"
    for data in (b"not an image at all", picture()[:200], b"GIF89a" + b"\x00" * 10):
        await shop.problem(
            "POST",
            path,
            422,
            "commerce.invalid_image",
            files={"file": ("x.png", data, "image/png")},
        )
    bomb = png_claiming(50_000, 50_000)
    assert len(bomb) < 1000
    body = await shop.problem(
        "POST",
        path,
        413,
        "commerce.image_too_large",
        files={"file": ("bomb.png", bomb, "image/png")},
    )
    assert "pixels" in body["detail"]
    big = b"\x89PNG" + b"\x00" * (8 * 1024 * 1024)  # the default limit is 8 MiB
    await shop.problem(
        "POST", path, 413, "commerce.image_too_large", files={"file": ("big.png", big, "image/png")}
    )
    assert await shop.ok("GET", f"/products/{shirt['id']}/images") == []


async def test_another_stores_products_and_images_answer_404_unchanged(
    shop: Store, rival: Store
) -> None:
    shirt = await a_product(shop)
    image = await upload(shop, shirt["id"], picture(), alt_text="Ours")
    await rival.problem(
        "POST",
        f"/products/{shirt['id']}/images",
        404,
        "commerce.not_found",
        files={"file": ("p.png", picture(), "image/png")},
    )
    await rival.problem("GET", f"/products/{shirt['id']}/images", 404, "commerce.not_found")
    await rival.problem(
        "PATCH", f"/images/{image['id']}", 404, "commerce.not_found", json={"alt_text": "Theirs"}
    )
    await rival.problem("DELETE", f"/images/{image['id']}", 404, "commerce.not_found")
    (kept,) = await shop.ok("GET", f"/products/{shirt['id']}/images")
    assert kept["alt_text"] == "Ours"
    assert (await shop.client.get(kept["thumbnails"]["600"])).status_code == 200

    # A media path with another file name, or not naming a stored image, is not served.
    base = kept["url"].rsplit("/", 1)[0]
    for name in ("../../secret", "original.exe", "999.webp"):
        response = await shop.client.get(f"{base}/{name}")
        assert response.status_code == 404
