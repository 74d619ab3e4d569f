"""Every query of the commerce tables. Functions take the session and keyword-only arguments;
reads take the `TenantScope` (from a verified credential) and name its tenant in the WHERE
clause, on top of the ORM filter and PostgreSQL's row-level security.

The product search (filters, full text, keyset pages) is in `search.py` beside this file. Stock
moves only through the single conditional statements at the end (`take_stock`, `return_stock`):
the database decides whether there is enough, never Python reading a number first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.models import (
    Attribute,
    Category,
    Channel,
    Collection,
    Product,
    ProductCollection,
    ProductImage,
    ProductPublication,
    ProductType,
    Stock,
    Variant,
    VariantAttributeValue,
    VariantPrice,
    Warehouse,
)
from bizosaas.kit.tenancy import TenantScope

RowT = TypeVar("RowT", ProductType, Category, Collection, Product, Variant, Channel, Warehouse)


async def get(
    session: AsyncSession, model: type[RowT], *, scope: TenantScope, row_id: uuid.UUID
) -> RowT | None:
    """One row of `model` in the scope's tenant, or None (also for another tenant's id)."""
    return await session.scalar(
        select(model).where(model.id == row_id, model.tenant_id == scope.tenant_id)
    )


async def list_all(
    session: AsyncSession, model: type[RowT], *, scope: TenantScope, order_by: Any
) -> Sequence[RowT]:
    return (
        await session.scalars(
            select(model).where(model.tenant_id == scope.tenant_id).order_by(order_by, model.id)
        )
    ).all()


async def slug_taken(
    session: AsyncSession,
    model: type[Category] | type[Collection] | type[Product] | type[Channel],
    *,
    scope: TenantScope,
    slug: str,
    except_id: uuid.UUID | None = None,
) -> bool:
    query = select(model.id).where(model.tenant_id == scope.tenant_id, model.slug == slug)
    if except_id is not None:
        query = query.where(model.id != except_id)
    return await session.scalar(query.limit(1)) is not None


async def sku_taken(
    session: AsyncSession, *, scope: TenantScope, sku: str, except_id: uuid.UUID | None = None
) -> bool:
    query = select(Variant.id).where(Variant.tenant_id == scope.tenant_id, Variant.sku == sku)
    if except_id is not None:
        query = query.where(Variant.id != except_id)
    return await session.scalar(query.limit(1)) is not None


async def warehouse_code_taken(session: AsyncSession, *, scope: TenantScope, code: str) -> bool:
    query = select(Warehouse.id).where(
        Warehouse.tenant_id == scope.tenant_id, Warehouse.code == code
    )
    return await session.scalar(query.limit(1)) is not None


async def type_name_taken(
    session: AsyncSession, *, scope: TenantScope, name: str, except_id: uuid.UUID | None = None
) -> bool:
    query = select(ProductType.id).where(
        ProductType.tenant_id == scope.tenant_id, ProductType.name == name
    )
    if except_id is not None:
        query = query.where(ProductType.id != except_id)
    return await session.scalar(query.limit(1)) is not None


# -- product types ---------------------------------------------------------------------------


async def attributes_of(
    session: AsyncSession, *, scope: TenantScope, product_type_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Attribute]]:
    found: dict[uuid.UUID, list[Attribute]] = {type_id: [] for type_id in product_type_ids}
    rows = await session.scalars(
        select(Attribute)
        .where(
            Attribute.tenant_id == scope.tenant_id,
            Attribute.product_type_id.in_(product_type_ids),
        )
        .order_by(Attribute.position)
    )
    for attribute in rows:
        found[attribute.product_type_id].append(attribute)
    return found


async def type_has_products(
    session: AsyncSession, *, scope: TenantScope, product_type_id: uuid.UUID
) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Product.tenant_id == scope.tenant_id, Product.product_type_id == product_type_id
                )
            )
        )
    )


# -- categories ------------------------------------------------------------------------------


async def category_subtree_ids(
    session: AsyncSession, *, scope: TenantScope, category_id: uuid.UUID
) -> list[uuid.UUID]:
    """The category and every category below it (a recursive query, any depth)."""
    tree = (
        select(Category.id)
        .where(Category.id == category_id, Category.tenant_id == scope.tenant_id)
        .cte("subtree", recursive=True)
    )
    children = select(Category.id).where(
        Category.parent_id == tree.c.id, Category.tenant_id == scope.tenant_id
    )
    tree = tree.union_all(children)
    return list((await session.scalars(select(tree.c.id))).all())


async def category_in_use(
    session: AsyncSession, *, scope: TenantScope, category_id: uuid.UUID
) -> bool:
    child = exists().where(Category.tenant_id == scope.tenant_id, Category.parent_id == category_id)
    product = exists().where(
        Product.tenant_id == scope.tenant_id, Product.category_id == category_id
    )
    return bool(await session.scalar(select(child | product)))


# -- products --------------------------------------------------------------------------------


async def variants_of(
    session: AsyncSession, *, scope: TenantScope, product_ids: Sequence[uuid.UUID]
) -> list[Variant]:
    return list(
        (
            await session.scalars(
                select(Variant)
                .where(Variant.tenant_id == scope.tenant_id, Variant.product_id.in_(product_ids))
                .order_by(Variant.created_at, Variant.id)
            )
        ).all()
    )


async def prices_of(
    session: AsyncSession, *, scope: TenantScope, variant_ids: Sequence[uuid.UUID]
) -> list[tuple[VariantPrice, str]]:
    """Each price of the variants with its channel's currency."""
    rows = await session.execute(
        select(VariantPrice, Channel.currency)
        .join(Channel, Channel.id == VariantPrice.channel_id)
        .where(VariantPrice.tenant_id == scope.tenant_id, VariantPrice.variant_id.in_(variant_ids))
        .order_by(Channel.slug)
    )
    return [(price, currency) for price, currency in rows.all()]


async def price_of(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID, channel_id: uuid.UUID
) -> VariantPrice | None:
    return await session.scalar(
        select(VariantPrice).where(
            VariantPrice.tenant_id == scope.tenant_id,
            VariantPrice.variant_id == variant_id,
            VariantPrice.channel_id == channel_id,
        )
    )


async def publications_of(
    session: AsyncSession, *, scope: TenantScope, product_ids: Sequence[uuid.UUID]
) -> list[ProductPublication]:
    return list(
        (
            await session.scalars(
                select(ProductPublication).where(
                    ProductPublication.tenant_id == scope.tenant_id,
                    ProductPublication.product_id.in_(product_ids),
                )
            )
        ).all()
    )


async def publication_of(
    session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID, channel_id: uuid.UUID
) -> ProductPublication | None:
    return await session.scalar(
        select(ProductPublication).where(
            ProductPublication.tenant_id == scope.tenant_id,
            ProductPublication.product_id == product_id,
            ProductPublication.channel_id == channel_id,
        )
    )


async def collection_ids_of(
    session: AsyncSession, *, scope: TenantScope, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    found: dict[uuid.UUID, list[uuid.UUID]] = {product_id: [] for product_id in product_ids}
    rows = await session.execute(
        select(ProductCollection.product_id, ProductCollection.collection_id)
        .where(
            ProductCollection.tenant_id == scope.tenant_id,
            ProductCollection.product_id.in_(product_ids),
        )
        .order_by(ProductCollection.collection_id)
    )
    for product_id, collection_id in rows.all():
        found[product_id].append(collection_id)
    return found


async def existing_ids(
    session: AsyncSession,
    model: type[Collection] | type[Channel],
    *,
    scope: TenantScope,
    ids: Sequence[uuid.UUID],
) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(model.id).where(model.tenant_id == scope.tenant_id, model.id.in_(ids))
    )
    return set(rows)


async def replace_collections(
    session: AsyncSession, *, product_id: uuid.UUID, collection_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(ProductCollection).where(ProductCollection.product_id == product_id)
    )
    session.add_all(
        ProductCollection(product_id=product_id, collection_id=collection_id)
        for collection_id in dict.fromkeys(collection_ids)
    )


async def replace_attribute_values(
    session: AsyncSession, *, variant: Variant, values: dict[str, str]
) -> None:
    await session.execute(
        delete(VariantAttributeValue).where(VariantAttributeValue.variant_id == variant.id)
    )
    session.add_all(
        VariantAttributeValue(
            variant_id=variant.id, product_id=variant.product_id, code=code, value=value
        )
        for code, value in values.items()
    )


async def skus_of(session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID) -> list[str]:
    return list(
        (
            await session.scalars(
                select(Variant.sku)
                .where(Variant.tenant_id == scope.tenant_id, Variant.product_id == product_id)
                .order_by(Variant.sku)
            )
        ).all()
    )


# -- inventory -------------------------------------------------------------------------------


async def stock_of_variant(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID
) -> list[Stock]:
    return list(
        (
            await session.scalars(
                select(Stock)
                .join(Warehouse, Warehouse.id == Stock.warehouse_id)
                .where(Stock.tenant_id == scope.tenant_id, Stock.variant_id == variant_id)
                .order_by(Warehouse.code)
            )
        ).all()
    )


async def free_stock(
    session: AsyncSession, *, scope: TenantScope, variant_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """What can still be allocated of each variant, over every warehouse (0 when none holds it)."""
    if not variant_ids:
        return {}
    rows = await session.execute(
        select(Stock.variant_id, func.sum(Stock.quantity))
        .where(Stock.tenant_id == scope.tenant_id, Stock.variant_id.in_(variant_ids))
        .group_by(Stock.variant_id)
    )
    held = {variant_id: int(total or 0) for variant_id, total in rows}
    return {variant_id: held.get(variant_id, 0) for variant_id in variant_ids}


async def tracked_variants(
    session: AsyncSession, *, scope: TenantScope, low_only: bool, limit: int
) -> list[tuple[Variant, str, int]]:
    """Variants that track inventory with their product's name and their free stock over every
    warehouse, by product name and SKU; `low_only` keeps those at or below their low-stock
    threshold (0 without one: sold out)."""
    free = (
        select(func.coalesce(func.sum(Stock.quantity), 0))
        .where(Stock.variant_id == Variant.id)
        .scalar_subquery()
    )
    statement = (
        select(Variant, Product.name, free)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.tenant_id == scope.tenant_id, Variant.track_inventory.is_(True))
        .order_by(Product.name, Variant.sku)
        .limit(limit)
    )
    if low_only:
        statement = statement.where(free <= func.coalesce(Variant.low_stock_threshold, 0))
    return [
        (variant, name, int(total)) for variant, name, total in await session.execute(statement)
    ]


async def stock_rows(
    session: AsyncSession, *, scope: TenantScope, variant_ids: Sequence[uuid.UUID]
) -> list[Stock]:
    if not variant_ids:
        return []
    return list(
        (
            await session.scalars(
                select(Stock).where(
                    Stock.tenant_id == scope.tenant_id, Stock.variant_id.in_(variant_ids)
                )
            )
        ).all()
    )


async def stock_row(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID, warehouse_id: uuid.UUID
) -> Stock | None:
    return await session.scalar(
        select(Stock).where(
            Stock.tenant_id == scope.tenant_id,
            Stock.variant_id == variant_id,
            Stock.warehouse_id == warehouse_id,
        )
    )


async def warehouse_holds_stock(
    session: AsyncSession, *, scope: TenantScope, warehouse_id: uuid.UUID
) -> bool:
    held = exists().where(
        Stock.tenant_id == scope.tenant_id,
        Stock.warehouse_id == warehouse_id,
        (Stock.quantity > 0) | (Stock.allocated > 0),
    )
    return bool(await session.scalar(select(held)))


async def take_stock(
    session: AsyncSession, *, scope: TenantScope, stock_id: uuid.UUID, quantity: int
) -> int | None:
    """Move `quantity` from free to allocated if the row has that much free, in one statement
    (`... SET quantity = quantity - n WHERE quantity >= n`); the free quantity left, or None when
    there was not enough. Concurrent callers queue on the row lock (PostgreSQL re-checks the
    condition on the newest row; SQLite has one writer at a time)."""
    result = await session.execute(
        update(Stock)
        .where(Stock.id == stock_id, Stock.tenant_id == scope.tenant_id, Stock.quantity >= quantity)
        .values(quantity=Stock.quantity - quantity, allocated=Stock.allocated + quantity)
        .returning(Stock.quantity)
        .execution_options(synchronize_session=False)
    )
    left: int | None = result.scalar_one_or_none()
    return left


async def return_stock(
    session: AsyncSession, *, scope: TenantScope, stock_id: uuid.UUID, quantity: int
) -> bool:
    """Move `quantity` back from allocated to free if that much is allocated (one statement)."""
    result = await session.execute(
        update(Stock)
        .where(
            Stock.id == stock_id, Stock.tenant_id == scope.tenant_id, Stock.allocated >= quantity
        )
        .values(quantity=Stock.quantity + quantity, allocated=Stock.allocated - quantity)
        .returning(Stock.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


async def attributes_with_code(
    session: AsyncSession, *, scope: TenantScope, code: str
) -> list[Attribute]:
    return list(
        (
            await session.scalars(
                select(Attribute).where(
                    Attribute.tenant_id == scope.tenant_id, Attribute.code == code
                )
            )
        ).all()
    )


# -- bulk reads for import and export --------------------------------------------------------


async def products_by_slug(
    session: AsyncSession, *, scope: TenantScope, slugs: Sequence[str]
) -> dict[str, Product]:
    rows = await session.scalars(
        select(Product).where(Product.tenant_id == scope.tenant_id, Product.slug.in_(slugs))
    )
    return {product.slug: product for product in rows}


async def variants_by_sku(
    session: AsyncSession, *, scope: TenantScope, skus: Sequence[str]
) -> dict[str, Variant]:
    rows = await session.scalars(
        select(Variant).where(Variant.tenant_id == scope.tenant_id, Variant.sku.in_(skus))
    )
    return {variant.sku: variant for variant in rows}


async def products_after(
    session: AsyncSession, *, scope: TenantScope, after: uuid.UUID | None, limit: int
) -> list[Product]:
    """A keyset page of the store's products in id order (ids are time-ordered UUIDv7)."""
    query = select(Product).where(Product.tenant_id == scope.tenant_id)
    if after is not None:
        query = query.where(Product.id > after)
    return list((await session.scalars(query.order_by(Product.id).limit(limit))).all())


async def stock_of_variants(
    session: AsyncSession, *, scope: TenantScope, variant_ids: Sequence[uuid.UUID]
) -> list[Stock]:
    return list(
        (
            await session.scalars(
                select(Stock).where(
                    Stock.tenant_id == scope.tenant_id, Stock.variant_id.in_(variant_ids)
                )
            )
        ).all()
    )


# -- images ----------------------------------------------------------------------------------


async def images_of(
    session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID
) -> list[ProductImage]:
    return list(
        (
            await session.scalars(
                select(ProductImage)
                .where(
                    ProductImage.tenant_id == scope.tenant_id, ProductImage.product_id == product_id
                )
                .order_by(ProductImage.position, ProductImage.id)
            )
        ).all()
    )


async def image(
    session: AsyncSession, *, scope: TenantScope, image_id: uuid.UUID
) -> ProductImage | None:
    return await session.scalar(
        select(ProductImage).where(
            ProductImage.id == image_id, ProductImage.tenant_id == scope.tenant_id
        )
    )
