"""Applying checked import plans through the catalogue's own use cases (so sanitising, search
text, attribute values and price rounding are exactly what the API does), in the caller's
transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.models import Category, Collection, Product, Variant
from bizosaas.commerce.schemas import (
    CategoryCreate,
    CollectionCreate,
    PriceSet,
    ProductCreate,
    ProductUpdate,
    PublicationSet,
    VariantCreate,
    VariantUpdate,
)
from bizosaas.commerce.service import catalog, channels, inventory
from bizosaas.commerce.service.csv_rows import ProductPlan, Store, VariantPlan
from bizosaas.kit.tenancy import TenantScope

Progress = Callable[[str, int], None]
"""Called with the phase (`check` or `apply`) and the rows just done in it (a progress bar)."""


async def apply_plans(
    session: AsyncSession,
    *,
    scope: TenantScope,
    store: Store,
    plans: dict[str, ProductPlan],
    progress: Progress | None,
) -> None:
    categories = await _Resolver.categories(session, scope=scope)
    collections = await _Resolver.collections(session, scope=scope)
    for plan in plans.values():
        category_id = None
        if plan.category is not None:
            category_id = await categories.category_path(session, scope=scope, path=plan.category)
        collection_ids = None
        if plan.collections is not None:
            collection_ids = [
                await collections.collection(session, scope=scope, slug=slug)
                for slug in plan.collections
            ]
        product = await _upsert_product(
            session,
            scope=scope,
            store=store,
            plan=plan,
            category_id=category_id,
            collection_ids=collection_ids,
        )
        skus = [variant.fields["sku"] for variant in plan.variants]
        variants = await repository.variants_by_sku(session, scope=scope, skus=skus)
        for variant_plan in plan.variants:
            await _upsert_variant(
                session,
                scope=scope,
                store=store,
                product=product,
                plan=variant_plan,
                existing=variants.get(variant_plan.fields["sku"]),
            )
            if progress is not None:
                progress("apply", 1)
        for channel, is_published in plan.published.items():
            await channels.publish(
                session,
                scope=scope,
                product_id=product.id,
                channel_id=store.channels[channel].id,
                data=PublicationSet(is_published=is_published),
            )


async def _upsert_product(
    session: AsyncSession,
    *,
    scope: TenantScope,
    store: Store,
    plan: ProductPlan,
    category_id: uuid.UUID | None,
    collection_ids: list[uuid.UUID] | None,
) -> Product:
    product = (await repository.products_by_slug(session, scope=scope, slugs=[plan.slug])).get(
        plan.slug
    )
    if product is None:
        return await catalog.create_product(
            session,
            scope=scope,
            data=ProductCreate(
                product_type_id=store.types[plan.type_name].id,
                category_id=category_id,
                slug=plan.slug,
                collection_ids=collection_ids or [],
                **plan.fields,
            ),
        )
    changes: dict[str, Any] = dict(plan.fields)
    if category_id is not None:
        changes["category_id"] = category_id
    if collection_ids is not None:
        changes["collection_ids"] = collection_ids
    if changes:
        await catalog.update_product(
            session, scope=scope, product_id=product.id, data=ProductUpdate(**changes)
        )
    return product


async def _upsert_variant(
    session: AsyncSession,
    *,
    scope: TenantScope,
    store: Store,
    product: Product,
    plan: VariantPlan,
    existing: Variant | None,
) -> None:
    if existing is None:
        variant = await catalog.add_variant(
            session,
            scope=scope,
            product_id=product.id,
            data=VariantCreate(**plan.fields, attributes=plan.attributes),
        )
    else:
        update = dict(plan.fields)
        if plan.attributes:
            update["attributes"] = {**existing.attributes, **plan.attributes}
        variant = await catalog.update_variant(
            session, scope=scope, variant_id=existing.id, data=VariantUpdate(**update)
        )
    for channel, amount in plan.prices.items():
        await channels.set_price(
            session,
            scope=scope,
            variant_id=variant.id,
            channel_id=store.channels[channel].id,
            data=PriceSet(amount=amount),
        )
    for code, quantity in plan.stock.items():
        await inventory.set_stock(
            session,
            scope=scope,
            variant_id=variant.id,
            warehouse_id=store.warehouses[code].id,
            quantity=quantity,
        )


@dataclass(slots=True)
class _Resolver:
    """Slugs to ids, creating the categories and collections a file names that do not exist."""

    ids: dict[str, uuid.UUID]

    @classmethod
    async def categories(cls, session: AsyncSession, *, scope: TenantScope) -> _Resolver:
        rows = await repository.list_all(session, Category, scope=scope, order_by=Category.slug)
        return cls(ids={c.slug: c.id for c in rows})

    @classmethod
    async def collections(cls, session: AsyncSession, *, scope: TenantScope) -> _Resolver:
        rows = await repository.list_all(session, Collection, scope=scope, order_by=Collection.slug)
        return cls(ids={c.slug: c.id for c in rows})

    async def category_path(
        self, session: AsyncSession, *, scope: TenantScope, path: list[str]
    ) -> uuid.UUID:
        """The last category of the path; missing ones are created under the one before.
        An existing category stays where it is (the path only places new ones)."""
        parent: uuid.UUID | None = None
        for slug in path:
            if slug not in self.ids:
                created = await catalog.create_category(
                    session,
                    scope=scope,
                    data=CategoryCreate(name=_title(slug), slug=slug, parent_id=parent),
                )
                self.ids[slug] = created.id
            parent = self.ids[slug]
        assert parent is not None
        return parent

    async def collection(
        self, session: AsyncSession, *, scope: TenantScope, slug: str
    ) -> uuid.UUID:
        if slug not in self.ids:
            created = await catalog.create_collection(
                session, scope=scope, data=CollectionCreate(name=_title(slug), slug=slug)
            )
            self.ids[slug] = created.id
        return self.ids[slug]


def _title(slug: str) -> str:
    return slug.replace("-", " ").capitalize()
