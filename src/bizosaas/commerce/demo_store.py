"""Demo store for Acme Coffee Roasters (tenant `acme`, made by identity's seed): a web channel
in EUR, a warehouse, seven categories under three roots, four collections, four product types
and 240 published products with about 700 variants (sizes, colours, weights, grinds), prices,
stock, and a generated image each (a coloured tile with the product's initials, drawn with
Pillow: no network); then its selling side (demo_sales.py): delivery, VAT, a voucher and a few
orders.

Types, categories and collections go through the catalogue's use cases; the products, being
many, are written in bulk (the same rows the use cases write: search text, attribute values).
Idempotent: a store that has the demo's product types is left alone.
"""

from __future__ import annotations

import asyncio
import io
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.demo_sales import seed_sales
from bizosaas.commerce.models import (
    AttributeKind,
    Product,
    ProductCollection,
    ProductImage,
    ProductPublication,
    ProductType,
    Stock,
    Variant,
    VariantAttributeValue,
    VariantPrice,
)
from bizosaas.commerce.schemas import (
    CategoryCreate,
    ChannelCreate,
    ChoiceAttribute,
    CollectionCreate,
    PlainAttribute,
    ProductTypeCreate,
    WarehouseCreate,
)
from bizosaas.commerce.service import catalog, channels, images, inventory
from bizosaas.commerce.service.content import search_text
from bizosaas.identity import service as identity
from bizosaas.kit.db import utcnow
from bizosaas.kit.ids import uuid7
from bizosaas.kit.images import make_thumbnails
from bizosaas.kit.media import LocalMediaStore, MediaStore
from bizosaas.kit.module import SeedContext
from bizosaas.kit.tenancy import TenantScope, bind_tenant, trusted_scope

DEMO_TENANT = "acme"
TILE = 600
IMAGE_BATCH = 8

APPAREL_COLOURS = ["Black", "White", "Navy", "Olive", "Rust"]
TYPES: dict[str, dict[str, Any]] = {
    "Apparel": {
        "size": ChoiceAttribute(
            name="Size", kind=AttributeKind.choice, choices=["S", "M", "L", "XL", "One size"]
        ),
        "colour": ChoiceAttribute(
            name="Colour", kind=AttributeKind.choice, choices=APPAREL_COLOURS
        ),
        "organic": PlainAttribute(name="Organic cotton", kind=AttributeKind.boolean),
    },
    "Coffee": {
        "weight": ChoiceAttribute(
            name="Weight", kind=AttributeKind.choice, choices=["250 g", "1 kg"]
        ),
        "grind": ChoiceAttribute(
            name="Grind", kind=AttributeKind.choice, choices=["Whole bean", "Filter", "Espresso"]
        ),
    },
    "Equipment": {"material": PlainAttribute(name="Material", kind=AttributeKind.text)},
    "Homeware": {
        "colour": ChoiceAttribute(
            name="Colour", kind=AttributeKind.choice, choices=["Cream", "Charcoal"]
        ),
        "format": ChoiceAttribute(
            name="Format", kind=AttributeKind.choice, choices=["Standard", "A3", "A2"]
        ),
    },
}
CATEGORIES = {
    "apparel": ("Apparel", ["t-shirts", "hoodies", "caps"]),
    "coffee": ("Coffee", ["beans", "equipment"]),
    "home": ("Home", ["mugs", "prints"]),
}
COLLECTIONS = ["new-arrivals", "best-sellers", "gifts", "sale"]
ORIGINS = [
    "Ethiopia",
    "Colombia",
    "Kenya",
    "Brazil",
    "Guatemala",
    "Rwanda",
    "Peru",
    "Sumatra",
    "Costa Rica",
    "Honduras",
    "Burundi",
    "Panama",
]
ROASTS = ["Light roast", "Medium roast", "Dark roast", "Espresso roast", "Decaf"]
MOTIFS = [
    "Bean",
    "Roastery",
    "Harbour",
    "Mountain",
    "Sunrise",
    "Barista",
    "Espresso",
    "Crema",
    "Pour-over",
    "Aeropress",
]
GEAR = [
    "Burr grinder",
    "Pour-over kettle",
    "Glass dripper",
    "Scale",
    "French press",
    "Milk jug",
    "Cold brew jar",
    "Tamper",
    "Paper filters",
    "Canister",
]
MATERIALS = ["Steel", "Glass", "Ceramic", "Bamboo"]
PALETTE = {
    "t-shirts": (196, 84, 62),
    "hoodies": (62, 92, 140),
    "caps": (98, 120, 72),
    "beans": (111, 78, 55),
    "equipment": (70, 70, 78),
    "mugs": (168, 132, 92),
    "prints": (140, 72, 112),
}


@dataclass(slots=True)
class DemoProduct:
    name: str
    category: str
    kind: str
    variants: list[dict[str, Any]]
    description: str


def demo_products() -> Iterator[DemoProduct]:
    """The 240 products, always the same (no randomness in names or variants)."""
    yield from _apparel()
    yield from _coffee()
    yield from _home()


def _apparel() -> Iterator[DemoProduct]:
    sizes = ["S", "M", "L", "XL"]
    for n, (motif, colour) in enumerate((m, c) for m in MOTIFS for c in APPAREL_COLOURS[:4]):
        organic = n % 3 != 0
        yield DemoProduct(
            f"{motif} T-shirt, {colour.lower()}",
            "t-shirts",
            "Apparel",
            [{"size": s, "colour": colour, "organic": organic} for s in sizes],
            f"<p>Soft {'organic ' if organic else ''}cotton tee with our {motif.lower()} print.</p>",
        )
    for motif in MOTIFS:
        for colour in APPAREL_COLOURS[:3]:
            yield DemoProduct(
                f"{motif} hoodie, {colour.lower()}",
                "hoodies",
                "Apparel",
                [{"size": s, "colour": colour, "organic": True} for s in sizes],
                f"<p>Heavy brushed-back hoodie, {motif.lower()} embroidery.</p>",
            )
    for motif in MOTIFS:
        for colour in APPAREL_COLOURS[:2]:
            yield DemoProduct(
                f"{motif} cap, {colour.lower()}",
                "caps",
                "Apparel",
                [{"size": "One size", "colour": colour, "organic": False}],
                "<p>Six-panel cap with an adjustable strap.</p>",
            )


def _coffee() -> Iterator[DemoProduct]:
    for origin in ORIGINS:
        for roast in ROASTS:
            yield DemoProduct(
                f"{origin} {roast.lower()}",
                "beans",
                "Coffee",
                [
                    {"weight": w, "grind": g}
                    for w in ("250 g", "1 kg")
                    for g in ("Whole bean", "Filter")
                ],
                f"<p>Single origin from {origin}, roasted in small batches ({roast.lower()}).</p>",
            )
    for gear in GEAR:
        for material in MATERIALS[:2]:
            yield DemoProduct(
                f"{gear} ({material.lower()})",
                "equipment",
                "Equipment",
                [{"material": material}],
                f"<p>{gear} in {material.lower()}, chosen by our baristas.</p>",
            )


def _home() -> Iterator[DemoProduct]:
    for motif in MOTIFS:
        for shape in ("Mug", "Tumbler", "Espresso cup", "Latte bowl"):
            yield DemoProduct(
                f"{motif} {shape.lower()}",
                "mugs",
                "Homeware",
                [{"colour": c, "format": "Standard"} for c in ("Cream", "Charcoal")],
                f"<p>Stoneware {shape.lower()}, glazed by hand.</p>",
            )
    for motif in MOTIFS:
        for style in ("poster", "linocut", "map print"):
            yield DemoProduct(
                f"{motif} {style}",
                "prints",
                "Homeware",
                [{"colour": "Cream", "format": f} for f in ("A3", "A2")],
                f"<p>A {style} of the {motif.lower()} on heavy matte paper.</p>",
            )


def slugify(name: str) -> str:
    text = "".join(ch.lower() if ch.isalnum() else "-" for ch in name)
    return "-".join(part for part in text.split("-") if part)


def initials(name: str) -> str:
    return "".join(word[0] for word in name.replace(",", " ").split()[:2]).upper()


def tile(letters: str, colour: tuple[int, int, int]) -> tuple[bytes, dict[int, bytes]]:
    """A square JPEG of `colour` with `letters` on it, and its WebP thumbnails."""
    image = Image.new("RGB", (TILE, TILE), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 24, TILE - 24, TILE - 24), outline=(255, 255, 255), width=6)
    font = ImageFont.load_default(size=220)
    draw.text((TILE / 2, TILE / 2), letters, fill=(255, 255, 255), font=font, anchor="mm")
    original = io.BytesIO()
    image.save(original, format="JPEG", quality=85)
    # Flat tiles: libwebp's fastest method loses nothing visible and halves the seeding time.
    return original.getvalue(), make_thumbnails(image, effort=0)


async def seed(seeding: SeedContext) -> None:
    session = seeding.session
    tenant = next(
        (t for t in await identity.admin_list_tenants(session) if t.slug == DEMO_TENANT), None
    )
    if tenant is None:
        seeding.say("commerce: no demo tenant, no demo store")
        return
    scope = trusted_scope(tenant.id)
    await bind_tenant(session, scope)
    if set(TYPES) & {
        t.name
        for t in await repository.list_all(
            session, ProductType, scope=scope, order_by=ProductType.name
        )
    }:
        seeding.say("commerce: the demo store exists already")
        return
    store = LocalMediaStore(seeding.settings.effective_media_dir)
    await seed_store(session, scope=scope, media=store, say=seeding.say)


async def seed_store(
    session: AsyncSession, *, scope: TenantScope, media: MediaStore, say: Any
) -> None:
    rng = random.Random(2026)
    types = {
        name: await catalog.create_product_type(
            session, scope=scope, data=ProductTypeCreate(name=name, attributes=attributes)
        )
        for name, attributes in TYPES.items()
    }
    categories: dict[str, uuid.UUID] = {}
    for root_slug, (root_name, leaves) in CATEGORIES.items():
        root = await catalog.create_category(
            session, scope=scope, data=CategoryCreate(name=root_name, slug=root_slug)
        )
        for leaf in leaves:
            created = await catalog.create_category(
                session,
                scope=scope,
                data=CategoryCreate(
                    name=leaf.replace("-", " ").capitalize(), slug=leaf, parent_id=root.id
                ),
            )
            categories[leaf] = created.id
    collections = [
        (
            await catalog.create_collection(
                session,
                scope=scope,
                data=CollectionCreate(name=slug.replace("-", " ").capitalize(), slug=slug),
            )
        ).id
        for slug in COLLECTIONS
    ]
    channel = await channels.create_channel(
        session, scope=scope, data=ChannelCreate(name="Web store", slug="web", currency="EUR")
    )
    warehouse = await inventory.create_warehouse(
        session, scope=scope, data=WarehouseCreate(name="Roastery warehouse", code="roastery")
    )
    products = list(demo_products())
    say(f"commerce: {len(products)} demo products, with generated images")
    rows: dict[type[Any], list[dict[str, Any]]] = {model: [] for model in BULK_ORDER}
    now = utcnow()
    pictures: list[tuple[uuid.UUID, uuid.UUID, DemoProduct]] = []
    for number, item in enumerate(products):
        product_id = uuid7()
        skus = [f"{initials(item.name)}-{number:03d}-{v}" for v in range(1, len(item.variants) + 1)]
        rows[Product].append(
            {
                "id": product_id,
                "tenant_id": scope.tenant_id,
                "product_type_id": types[item.kind].id,
                "category_id": categories[item.category],
                "name": item.name,
                "slug": slugify(item.name),
                "description_html": item.description,
                "search_text": search_text(
                    name=item.name, skus=skus, description_html=item.description
                ),
                "created_at": now,
                "updated_at": now,
            }
        )
        rows[ProductPublication].append(
            {
                "id": uuid7(),
                "tenant_id": scope.tenant_id,
                "product_id": product_id,
                "channel_id": channel.id,
                "is_published": True,
            }
        )
        for collection in rng.sample(collections, k=rng.choice([0, 1, 1, 2])):
            rows[ProductCollection].append(
                {
                    "tenant_id": scope.tenant_id,
                    "product_id": product_id,
                    "collection_id": collection,
                }
            )
        base = rng.choice([1200, 1500, 1900, 2400, 2900, 3500, 4500, 5900])
        for sku, attributes in zip(skus, item.variants, strict=True):
            variant_id = uuid7()
            rows[Variant].append(
                {
                    "id": variant_id,
                    "tenant_id": scope.tenant_id,
                    "product_id": product_id,
                    "sku": sku,
                    "name": " / ".join(
                        str(v) for v in attributes.values() if not isinstance(v, bool)
                    ),
                    "attributes": attributes,
                    "track_inventory": True,
                    "low_stock_threshold": 3,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for code, value in attributes.items():
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                rows[VariantAttributeValue].append(
                    {
                        "tenant_id": scope.tenant_id,
                        "variant_id": variant_id,
                        "product_id": product_id,
                        "code": code,
                        "value": text,
                    }
                )
            surcharge = 2400 if attributes.get("weight") == "1 kg" else 0
            rows[VariantPrice].append(
                {
                    "id": uuid7(),
                    "tenant_id": scope.tenant_id,
                    "variant_id": variant_id,
                    "channel_id": channel.id,
                    "amount_minor": base + surcharge - 10,
                    "is_available": True,
                }
            )
            rows[Stock].append(
                {
                    "id": uuid7(),
                    "tenant_id": scope.tenant_id,
                    "variant_id": variant_id,
                    "warehouse_id": warehouse.id,
                    "quantity": rng.choice([0, 4, 12, 25, 40, 60]),
                    "allocated": 0,
                }
            )
        pictures.append((product_id, uuid7(), item))
    # Products with the same initials in one category share a tile: draw each tile once.
    wanted = sorted({(initials(item.name), PALETTE[item.category]) for _, _, item in pictures})
    drawn: dict[tuple[str, tuple[int, int, int]], tuple[bytes, dict[int, bytes]]] = {}
    for start in range(0, len(wanted), IMAGE_BATCH):
        batch = wanted[start : start + IMAGE_BATCH]
        tiles = await asyncio.gather(*(asyncio.to_thread(tile, *key) for key in batch))
        drawn.update(zip(batch, tiles, strict=True))
    for product_id, image_id, item in pictures:
        original, thumbnails = drawn[initials(item.name), PALETTE[item.category]]
        folder = images.folder(scope.tenant_id, image_id)
        await media.put(f"{folder}/original.jpg", original, content_type="image/jpeg")
        for size, data in thumbnails.items():
            await media.put(f"{folder}/{size}.webp", data, content_type="image/webp")
        rows[ProductImage].append(
            {
                "id": image_id,
                "tenant_id": scope.tenant_id,
                "product_id": product_id,
                "position": 0,
                "alt_text": item.name,
                "extension": "jpg",
                "width": TILE,
                "height": TILE,
                "byte_size": len(original),
                "created_at": now,
                "updated_at": now,
            }
        )
    for model in BULK_ORDER:
        if rows[model]:
            await session.execute(insert(model), rows[model])
    variants = len(rows[Variant])
    say(f"commerce: demo store ready ({len(products)} products, {variants} variants)")
    in_stock = [row["variant_id"] for row in rows[Stock] if row["quantity"] >= 4][:6]
    await seed_sales(session, scope=scope, channel=channel, variants=in_stock, say=say)


BULK_ORDER: tuple[type[Any], ...] = (
    Product,
    ProductPublication,
    ProductCollection,
    Variant,
    VariantAttributeValue,
    VariantPrice,
    Stock,
    ProductImage,
)
