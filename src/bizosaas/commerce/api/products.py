"""Products, their variants, prices per channel and publication per channel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import ProductReader, ProductWriter
from bizosaas.commerce.schemas import (
    Money,
    PriceRead,
    PriceSet,
    ProductCreate,
    ProductPage,
    ProductRead,
    ProductUpdate,
    PublicationRead,
    PublicationSet,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from bizosaas.commerce.search import ProductSort
from bizosaas.commerce.service import catalog, channels, listing
from bizosaas.kit.auth import TenantReadSession, TenantSession, scope_of
from bizosaas.kit.text import SingleLine

router = APIRouter(tags=["commerce: products"])

PRODUCT_CONFLICTS = "`commerce.slug_taken`, `commerce.sku_taken`"
SearchText = Annotated[
    SingleLine,
    Query(
        max_length=200,
        description="Words to find in the name, SKUs or description (each as a prefix).",
    ),
]


@router.get(
    "/products",
    summary="Find products: full text, filters, sort, keyset pages",
    responses=errors(
        status_400="`commerce.invalid_cursor`: a cursor of another sort order or not from this API",
        status_422="`commerce.invalid_attributes`: an attribute filter that is not `code:value`",
    ),
)
async def list_products(
    *,
    principal: ProductReader,
    session: TenantReadSession,
    q: SearchText | None = None,
    category_id: Annotated[
        uuid.UUID | None, Query(description="In this category or any below it.")
    ] = None,
    collection_id: uuid.UUID | None = None,
    attribute: Annotated[
        list[Annotated[SingleLine, Query(max_length=300, pattern=r"^[a-z][a-z0-9_]*:")]],
        Query(description="`code:value`; repeat for more (a product matches all of them)."),
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    channel_id: Annotated[
        uuid.UUID | None,
        Query(description="The channel whose prices `price_min`/`price_max` are in."),
    ] = None,
    price_min: Annotated[
        Money | None, Query(description="Lowest price, in `channel_id`'s currency (needs it).")
    ] = None,
    price_max: Annotated[
        Money | None, Query(description="Highest price, in `channel_id`'s currency (needs it).")
    ] = None,
    in_stock: Annotated[
        bool | None, Query(description="Only products with (true) or without (false) stock.")
    ] = None,
    sort: ProductSort = ProductSort.name,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProductPage:
    return await listing.find_products(
        session,
        scope=scope_of(principal),
        text=q,
        category_id=category_id,
        collection_id=collection_id,
        attributes=attribute,
        channel_id=channel_id,
        price_min=price_min,
        price_max=price_max,
        in_stock=in_stock,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/products",
    status_code=201,
    summary="Create a product with its variants",
    responses=errors(conflicts=PRODUCT_CONFLICTS),
)
async def create_product(
    data: ProductCreate, principal: ProductWriter, session: TenantSession
) -> ProductRead:
    scope = scope_of(principal)
    product = await catalog.create_product(session, scope=scope, data=data)
    return await listing.read_product(session, scope=scope, product_id=product.id)


@router.get("/products/{product_id}", summary="One product", responses=errors())
async def read_product(
    product_id: uuid.UUID, principal: ProductReader, session: TenantReadSession
) -> ProductRead:
    return await listing.read_product(session, scope=scope_of(principal), product_id=product_id)


@router.patch(
    "/products/{product_id}",
    summary="Change a product",
    responses=errors(conflicts="`commerce.slug_taken`"),
)
async def update_product(
    product_id: uuid.UUID, data: ProductUpdate, principal: ProductWriter, session: TenantSession
) -> ProductRead:
    scope = scope_of(principal)
    await catalog.update_product(session, scope=scope, product_id=product_id, data=data)
    return await listing.read_product(session, scope=scope, product_id=product_id)


@router.delete(
    "/products/{product_id}",
    status_code=204,
    summary="Delete a product with its variants",
    responses=errors(),
)
async def delete_product(
    product_id: uuid.UUID, principal: ProductWriter, session: TenantSession
) -> None:
    await catalog.delete_product(session, scope=scope_of(principal), product_id=product_id)


@router.post(
    "/products/{product_id}/variants",
    status_code=201,
    summary="Add a variant",
    responses=errors(conflicts="`commerce.sku_taken`"),
)
async def add_variant(
    product_id: uuid.UUID, data: VariantCreate, principal: ProductWriter, session: TenantSession
) -> VariantRead:
    scope = scope_of(principal)
    variant = await catalog.add_variant(session, scope=scope, product_id=product_id, data=data)
    return await listing.read_variant(session, scope=scope, variant_id=variant.id)


@router.get("/variants/{variant_id}", summary="One variant", responses=errors())
async def read_variant(
    variant_id: uuid.UUID, principal: ProductReader, session: TenantReadSession
) -> VariantRead:
    return await listing.read_variant(session, scope=scope_of(principal), variant_id=variant_id)


@router.patch(
    "/variants/{variant_id}",
    summary="Change a variant",
    responses=errors(conflicts="`commerce.sku_taken`"),
)
async def update_variant(
    variant_id: uuid.UUID, data: VariantUpdate, principal: ProductWriter, session: TenantSession
) -> VariantRead:
    scope = scope_of(principal)
    await catalog.update_variant(session, scope=scope, variant_id=variant_id, data=data)
    return await listing.read_variant(session, scope=scope, variant_id=variant_id)


@router.delete(
    "/variants/{variant_id}", status_code=204, summary="Delete a variant", responses=errors()
)
async def delete_variant(
    variant_id: uuid.UUID, principal: ProductWriter, session: TenantSession
) -> None:
    await catalog.delete_variant(session, scope=scope_of(principal), variant_id=variant_id)


@router.put(
    "/variants/{variant_id}/prices/{channel_id}",
    summary="Set a variant's price in a channel",
    responses=errors(),
)
async def set_price(
    variant_id: uuid.UUID,
    channel_id: uuid.UUID,
    data: PriceSet,
    principal: ProductWriter,
    session: TenantSession,
) -> PriceRead:
    return await channels.set_price(
        session, scope=scope_of(principal), variant_id=variant_id, channel_id=channel_id, data=data
    )


@router.delete(
    "/variants/{variant_id}/prices/{channel_id}",
    status_code=204,
    summary="Remove a variant's price in a channel",
    responses=errors(),
)
async def remove_price(
    variant_id: uuid.UUID, channel_id: uuid.UUID, principal: ProductWriter, session: TenantSession
) -> None:
    await channels.remove_price(
        session, scope=scope_of(principal), variant_id=variant_id, channel_id=channel_id
    )


@router.put(
    "/products/{product_id}/publications/{channel_id}",
    summary="Publish (or withdraw) a product in a channel, optionally between two dates",
    responses=errors(),
)
async def publish(
    product_id: uuid.UUID,
    channel_id: uuid.UUID,
    data: PublicationSet,
    principal: ProductWriter,
    session: TenantSession,
) -> PublicationRead:
    return await channels.publish(
        session, scope=scope_of(principal), product_id=product_id, channel_id=channel_id, data=data
    )
