"""Reading products as the API shows them (with variants, prices, publications and
collections, in four queries for a whole page), and the product search."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository, search
from bizosaas.commerce.currencies import from_minor, to_minor
from bizosaas.commerce.exceptions import InvalidAttributes
from bizosaas.commerce.models import Category, Channel, Collection, Product, Variant
from bizosaas.commerce.schemas import (
    PriceRead,
    ProductPage,
    ProductRead,
    PublicationRead,
    VariantRead,
)
from bizosaas.commerce.search import ProductQuery, ProductSort
from bizosaas.commerce.service.catalog import found
from bizosaas.commerce.service.content import canonical_filter_values
from bizosaas.kit.tenancy import TenantScope, bind_tenant


async def product_reads(
    session: AsyncSession, *, scope: TenantScope, products: Sequence[Product]
) -> list[ProductRead]:
    ids = [product.id for product in products]
    variants = await repository.variants_of(session, scope=scope, product_ids=ids)
    prices: dict[uuid.UUID, list[PriceRead]] = defaultdict(list)
    for price, currency in await repository.prices_of(
        session, scope=scope, variant_ids=[v.id for v in variants]
    ):
        prices[price.variant_id].append(
            PriceRead(
                channel_id=price.channel_id,
                currency=currency,
                amount=from_minor(price.amount_minor, currency),
                is_available=price.is_available,
            )
        )
    variants_by_product: dict[uuid.UUID, list[VariantRead]] = defaultdict(list)
    for variant in variants:
        variants_by_product[variant.product_id].append(
            VariantRead(
                id=variant.id,
                product_id=variant.product_id,
                sku=variant.sku,
                name=variant.name,
                attributes=dict(variant.attributes),
                weight_grams=variant.weight_grams,
                track_inventory=variant.track_inventory,
                low_stock_threshold=variant.low_stock_threshold,
                prices=prices[variant.id],
            )
        )
    publications: dict[uuid.UUID, list[PublicationRead]] = defaultdict(list)
    for publication in await repository.publications_of(session, scope=scope, product_ids=ids):
        publications[publication.product_id].append(
            PublicationRead.model_validate(publication, from_attributes=True)
        )
    collections = await repository.collection_ids_of(session, scope=scope, product_ids=ids)
    return [
        ProductRead(
            id=product.id,
            product_type_id=product.product_type_id,
            category_id=product.category_id,
            name=product.name,
            slug=product.slug,
            description_html=product.description_html,
            seo_title=product.seo_title,
            seo_description=product.seo_description,
            collection_ids=collections[product.id],
            variants=variants_by_product[product.id],
            publications=publications[product.id],
            created_at=product.created_at,
            updated_at=product.updated_at,
        )
        for product in products
    ]


async def read_product(
    session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID
) -> ProductRead:
    product = await found(session, Product, scope=scope, row_id=product_id)
    return (await product_reads(session, scope=scope, products=[product]))[0]


async def read_variant(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID
) -> VariantRead:
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    product = await found(session, Product, scope=scope, row_id=variant.product_id)
    read = (await product_reads(session, scope=scope, products=[product]))[0]
    return next(v for v in read.variants if v.id == variant.id)


async def find_products(
    session: AsyncSession,
    *,
    scope: TenantScope,
    text: str | None = None,
    category_id: uuid.UUID | None = None,
    collection_id: uuid.UUID | None = None,
    attributes: Sequence[str] = (),
    channel_id: uuid.UUID | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    in_stock: bool | None = None,
    sort: ProductSort = ProductSort.name,
    cursor: str | None = None,
    limit: int = 50,
    visible_in: uuid.UUID | None = None,
    visible_at: datetime | None = None,
) -> ProductPage:
    """A page of the products matching every filter given. A category includes its
    sub-categories; `attributes` are `code:value` pairs; the price range applies to prices in
    `channel_id` (in its currency) and is left out without a channel, since amounts in
    different currencies do not compare; `visible_in` keeps the products published in that
    channel at `visible_at` (a storefront). An unknown category, collection or channel is
    `commerce.not_found`."""
    await bind_tenant(session, scope)
    category_ids = None
    if category_id is not None:
        await found(session, Category, scope=scope, row_id=category_id)
        category_ids = await repository.category_subtree_ids(
            session, scope=scope, category_id=category_id
        )
    if collection_id is not None:
        await found(session, Collection, scope=scope, row_id=collection_id)
    price_min_minor = price_max_minor = None
    if channel_id is not None:
        channel = await found(session, Channel, scope=scope, row_id=channel_id)
        if price_min is not None:
            price_min_minor = to_minor(price_min, channel.currency)
        if price_max is not None:
            price_max_minor = to_minor(price_max, channel.currency)
    attribute_filters: list[tuple[str, set[str]]] = []
    for pair in attributes:
        code, separator, value = pair.partition(":")
        if not separator or not code:
            raise InvalidAttributes(f"Filter attributes as code:value, not {pair!r}.")
        definitions = await repository.attributes_with_code(session, scope=scope, code=code)
        attribute_filters.append((code, canonical_filter_values(definitions, value)))
    query = ProductQuery(
        text=text,
        category_ids=category_ids,
        collection_id=collection_id,
        attributes=attribute_filters,
        channel_id=channel_id,
        price_min_minor=price_min_minor,
        price_max_minor=price_max_minor,
        in_stock=in_stock,
        visible_in=visible_in,
        visible_at=visible_at,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    products, next_cursor = await search.find_products(session, query, scope=scope)
    items = await product_reads(session, scope=scope, products=products)
    return ProductPage(items=items, next_cursor=next_cursor)
