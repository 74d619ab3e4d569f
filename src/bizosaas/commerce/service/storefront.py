"""The public storefront's reads: a store found by its tenant's slug, and what it shows to a
visitor (no login): its categories, the products published in its channel now, a product with
its variants, prices and availability.

A store is an active tenant with an active channel; the storefront sells in the tenant's oldest
active channel (the first one created). An unknown slug, a suspended tenant and a tenant without
an active channel all answer `commerce.store_not_found`, so a visitor learns nothing about which
tenants exist. A product that is not published in the store's channel right now answers
`commerce.not_found`, exactly like a missing one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.exceptions import CommerceNotFound, StoreNotFound
from bizosaas.commerce.models import Category, Channel, Product
from bizosaas.commerce.schemas import CategoryRead, ProductRead
from bizosaas.commerce.search import ProductSort
from bizosaas.commerce.service import channels, listing
from bizosaas.commerce.service.catalog import category_read
from bizosaas.identity import service as identity
from bizosaas.kit.db import utcnow
from bizosaas.kit.tenancy import TenantScope, bind_tenant, trusted_scope


@dataclass(frozen=True, slots=True)
class Store:
    scope: TenantScope
    name: str
    slug: str
    channel_id: uuid.UUID
    channel_slug: str
    currency: str


@dataclass(frozen=True, slots=True)
class StoreVariant:
    id: uuid.UUID
    sku: str
    name: str
    attributes: dict[str, object]
    price: Decimal | None
    """In the store's currency; None when the variant has no available price there."""
    available: int | None
    """Units that can be bought; None when the variant does not track inventory."""

    @property
    def buyable(self) -> bool:
        return self.price is not None and (self.available is None or self.available > 0)


@dataclass(frozen=True, slots=True)
class StoreProduct:
    id: uuid.UUID
    name: str
    slug: str
    category_id: uuid.UUID | None
    description_html: str
    seo_title: str | None
    seo_description: str | None
    variants: list[StoreVariant]

    @property
    def buyable_variants(self) -> list[StoreVariant]:
        return [variant for variant in self.variants if variant.buyable]

    @property
    def price_from(self) -> Decimal | None:
        prices = [v.price for v in self.variants if v.price is not None]
        return min(prices) if prices else None

    @property
    def in_stock(self) -> bool:
        return bool(self.buyable_variants)


@dataclass(frozen=True, slots=True)
class StorePage:
    products: list[StoreProduct]
    next_cursor: str | None


async def open_store(session: AsyncSession, *, slug: str) -> Store:
    """The store of the active tenant with this slug, with the tenant bound to the session."""
    tenant = await identity.active_tenant_by_slug(session, slug=slug) if len(slug) <= 63 else None
    if tenant is None or tenant.slug != slug:
        raise StoreNotFound("There is no store at this address.")
    # The tenant comes from the platform's own table, looked up by its public slug: the scope
    # below is what the store's visitor may read, and nothing the request chose beyond the slug.
    scope = trusted_scope(tenant.id)
    await bind_tenant(session, scope)
    channel = await session.scalar(
        select(Channel)
        .where(Channel.tenant_id == scope.tenant_id, Channel.is_active.is_(True))
        .order_by(Channel.created_at, Channel.id)
        .limit(1)
    )
    if channel is None:
        raise StoreNotFound("There is no store at this address.")
    return Store(
        scope=scope,
        name=tenant.name,
        slug=tenant.slug,
        channel_id=channel.id,
        channel_slug=channel.slug,
        currency=channel.currency,
    )


async def store_categories(session: AsyncSession, store: Store) -> list[CategoryRead]:
    rows = await session.scalars(
        select(Category)
        .where(Category.tenant_id == store.scope.tenant_id)
        .order_by(Category.name, Category.id)
    )
    return [category_read(row) for row in rows]


async def category_by_slug(session: AsyncSession, store: Store, *, slug: str) -> CategoryRead:
    row = await session.scalar(
        select(Category).where(Category.tenant_id == store.scope.tenant_id, Category.slug == slug)
    )
    if row is None:
        raise CommerceNotFound("No such category in this store.")
    return category_read(row)


async def _store_products(
    session: AsyncSession, store: Store, reads: list[ProductRead]
) -> list[StoreProduct]:
    variant_ids = [variant.id for read in reads for variant in read.variants]
    free = await repository.free_stock(session, scope=store.scope, variant_ids=variant_ids)
    products = []
    for read in reads:
        variants = []
        for variant in read.variants:
            price = next(
                (
                    p.amount
                    for p in variant.prices
                    if p.channel_id == store.channel_id and p.is_available
                ),
                None,
            )
            variants.append(
                StoreVariant(
                    id=variant.id,
                    sku=variant.sku,
                    name=variant.name,
                    attributes=dict(variant.attributes),
                    price=price,
                    available=free[variant.id] if variant.track_inventory else None,
                )
            )
        products.append(
            StoreProduct(
                id=read.id,
                name=read.name,
                slug=read.slug,
                category_id=read.category_id,
                description_html=read.description_html,
                seo_title=read.seo_title,
                seo_description=read.seo_description,
                variants=variants,
            )
        )
    return products


async def find(
    session: AsyncSession,
    store: Store,
    *,
    text: str | None = None,
    category_id: uuid.UUID | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    in_stock: bool | None = None,
    sort: ProductSort = ProductSort.name,
    cursor: str | None = None,
    limit: int = 24,
    now: datetime | None = None,
) -> StorePage:
    """A page of the products published in the store's channel now, with every filter given
    (a category includes its sub-categories; prices are in the store's currency)."""
    page = await listing.find_products(
        session,
        scope=store.scope,
        text=text,
        category_id=category_id,
        channel_id=store.channel_id,
        price_min=price_min,
        price_max=price_max,
        in_stock=in_stock,
        sort=sort,
        cursor=cursor,
        limit=limit,
        visible_in=store.channel_id,
        visible_at=now or utcnow(),
    )
    return StorePage(await _store_products(session, store, page.items), page.next_cursor)


async def product_by_slug(
    session: AsyncSession, store: Store, *, slug: str, now: datetime | None = None
) -> StoreProduct:
    """The product with this slug, if it is published in the store's channel now."""
    product = await session.scalar(
        select(Product).where(Product.tenant_id == store.scope.tenant_id, Product.slug == slug)
    )
    if product is None:
        raise CommerceNotFound("No such product in this store.")
    read = (await listing.product_reads(session, scope=store.scope, products=[product]))[0]
    moment = now or utcnow()
    visible = any(
        p.channel_id == store.channel_id and channels.is_visible(p, now=moment)
        for p in read.publications
    )
    if not visible:
        raise CommerceNotFound("No such product in this store.")
    return (await _store_products(session, store, [read]))[0]


def money(amount: Decimal, currency: str) -> str:
    """`12.50 EUR`: the amount with its currency's minor unit, then its ISO code."""
    return f"{amount:,} {currency}"


__all__ = [
    "Store",
    "StorePage",
    "StoreProduct",
    "StoreVariant",
    "category_by_slug",
    "find",
    "money",
    "open_store",
    "product_by_slug",
    "store_categories",
]
