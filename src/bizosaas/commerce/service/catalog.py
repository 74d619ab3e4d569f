"""Catalogue use cases: product types, categories, collections, products and variants."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.exceptions import (
    CategoryCycle,
    CommerceNotFound,
    InUse,
    NameTaken,
    SkuTaken,
    SlugTaken,
)
from bizosaas.commerce.models import (
    Attribute,
    Category,
    Collection,
    Product,
    ProductType,
    Variant,
)
from bizosaas.commerce.schemas import (
    AttributeRead,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ChoiceAttribute,
    CollectionCreate,
    CollectionRead,
    CollectionUpdate,
    ProductCreate,
    ProductTypeCreate,
    ProductTypeRead,
    ProductTypeUpdate,
    ProductUpdate,
    VariantCreate,
    VariantUpdate,
)
from bizosaas.commerce.service.content import canonical_attributes, sanitise_html, search_text
from bizosaas.kit.tenancy import TenantScope, bind_tenant


async def found(
    session: AsyncSession, model: type[repository.RowT], *, scope: TenantScope, row_id: uuid.UUID
) -> repository.RowT:
    """The row, bound to the scope; `commerce.not_found` for a missing or another tenant's id."""
    await bind_tenant(session, scope)
    row = await repository.get(session, model, scope=scope, row_id=row_id)
    if row is None:
        raise CommerceNotFound(f"No {model.__name__.lower()} {row_id} in this store.")
    return row


# -- product types ---------------------------------------------------------------------------


def _type_read(product_type: ProductType, attributes: list[Attribute]) -> ProductTypeRead:
    return ProductTypeRead(
        id=product_type.id,
        name=product_type.name,
        attributes=[
            AttributeRead(code=a.code, name=a.name, kind=a.kind, choices=list(a.choices))
            for a in attributes
        ],
    )


async def create_product_type(
    session: AsyncSession, *, scope: TenantScope, data: ProductTypeCreate
) -> ProductTypeRead:
    await bind_tenant(session, scope)
    if await repository.type_name_taken(session, scope=scope, name=data.name):
        raise NameTaken("A product type of this name exists.")
    product_type = ProductType(name=data.name)
    session.add(product_type)
    await session.flush()
    attributes = [
        Attribute(
            product_type_id=product_type.id,
            code=code,
            name=definition.name,
            kind=definition.kind.value,
            choices=list(definition.choices) if isinstance(definition, ChoiceAttribute) else [],
            position=position,
        )
        for position, (code, definition) in enumerate(data.attributes.items())
    ]
    session.add_all(attributes)
    await session.flush()
    return _type_read(product_type, attributes)


async def read_product_type(
    session: AsyncSession, *, scope: TenantScope, product_type_id: uuid.UUID
) -> ProductTypeRead:
    product_type = await found(session, ProductType, scope=scope, row_id=product_type_id)
    attributes = await repository.attributes_of(
        session, scope=scope, product_type_ids=[product_type.id]
    )
    return _type_read(product_type, attributes[product_type.id])


async def list_product_types(session: AsyncSession, *, scope: TenantScope) -> list[ProductTypeRead]:
    await bind_tenant(session, scope)
    types = await repository.list_all(session, ProductType, scope=scope, order_by=ProductType.name)
    attributes = await repository.attributes_of(
        session, scope=scope, product_type_ids=[t.id for t in types]
    )
    return [_type_read(t, attributes[t.id]) for t in types]


async def update_product_type(
    session: AsyncSession,
    *,
    scope: TenantScope,
    product_type_id: uuid.UUID,
    data: ProductTypeUpdate,
) -> ProductTypeRead:
    product_type = await found(session, ProductType, scope=scope, row_id=product_type_id)
    if data.name is not None and data.name != product_type.name:
        if await repository.type_name_taken(
            session, scope=scope, name=data.name, except_id=product_type.id
        ):
            raise NameTaken("A product type of this name exists.")
        product_type.name = data.name
    await session.flush()
    return await read_product_type(session, scope=scope, product_type_id=product_type.id)


async def delete_product_type(
    session: AsyncSession, *, scope: TenantScope, product_type_id: uuid.UUID
) -> None:
    product_type = await found(session, ProductType, scope=scope, row_id=product_type_id)
    if await repository.type_has_products(session, scope=scope, product_type_id=product_type.id):
        raise InUse("Products of this type exist; delete or move them first.")
    await session.delete(product_type)
    await session.flush()


# -- categories ------------------------------------------------------------------------------


def category_read(category: Category) -> CategoryRead:
    return CategoryRead.model_validate(category, from_attributes=True)


async def create_category(
    session: AsyncSession, *, scope: TenantScope, data: CategoryCreate
) -> CategoryRead:
    await bind_tenant(session, scope)
    if data.parent_id is not None:
        await found(session, Category, scope=scope, row_id=data.parent_id)
    if await repository.slug_taken(session, Category, scope=scope, slug=data.slug):
        raise SlugTaken(f"A category has the slug {data.slug}.")
    category = Category(**data.model_dump(exclude={"description_html"}))
    category.description_html = sanitise_html(data.description_html)
    session.add(category)
    await session.flush()
    return category_read(category)


async def update_category(
    session: AsyncSession, *, scope: TenantScope, category_id: uuid.UUID, data: CategoryUpdate
) -> CategoryRead:
    category = await found(session, Category, scope=scope, row_id=category_id)
    changes = data.model_dump(exclude_unset=True)
    if "parent_id" in changes and changes["parent_id"] is not None:
        parent = await found(session, Category, scope=scope, row_id=changes["parent_id"])
        subtree = await repository.category_subtree_ids(
            session, scope=scope, category_id=category.id
        )
        if parent.id in subtree:
            raise CategoryCycle()
    if changes.get("slug") not in (None, category.slug) and await repository.slug_taken(
        session, Category, scope=scope, slug=changes["slug"], except_id=category.id
    ):
        raise SlugTaken(f"A category has the slug {changes['slug']}.")
    _apply(category, changes)
    await session.flush()
    return category_read(category)


async def delete_category(
    session: AsyncSession, *, scope: TenantScope, category_id: uuid.UUID
) -> None:
    category = await found(session, Category, scope=scope, row_id=category_id)
    if await repository.category_in_use(session, scope=scope, category_id=category.id):
        raise InUse("The category has sub-categories or products; move them first.")
    await session.delete(category)
    await session.flush()


async def read_category(
    session: AsyncSession, *, scope: TenantScope, category_id: uuid.UUID
) -> CategoryRead:
    return category_read(await found(session, Category, scope=scope, row_id=category_id))


async def list_categories(session: AsyncSession, *, scope: TenantScope) -> list[CategoryRead]:
    await bind_tenant(session, scope)
    rows = await repository.list_all(session, Category, scope=scope, order_by=Category.name)
    return [category_read(row) for row in rows]


def _apply(row: Category | Collection | Product, changes: dict[str, Any]) -> None:
    """Set the changed fields; a description is sanitised; a null name or slug (not
    nullable) is taken as "unchanged"."""
    for name, value in changes.items():
        if value is None and name in ("name", "slug", "description_html"):
            continue
        setattr(row, name, sanitise_html(value) if name == "description_html" else value)


# -- collections -----------------------------------------------------------------------------


def collection_read(collection: Collection) -> CollectionRead:
    return CollectionRead.model_validate(collection, from_attributes=True)


async def create_collection(
    session: AsyncSession, *, scope: TenantScope, data: CollectionCreate
) -> CollectionRead:
    await bind_tenant(session, scope)
    if await repository.slug_taken(session, Collection, scope=scope, slug=data.slug):
        raise SlugTaken(f"A collection has the slug {data.slug}.")
    collection = Collection(**data.model_dump(exclude={"description_html"}))
    collection.description_html = sanitise_html(data.description_html)
    session.add(collection)
    await session.flush()
    return collection_read(collection)


async def update_collection(
    session: AsyncSession, *, scope: TenantScope, collection_id: uuid.UUID, data: CollectionUpdate
) -> CollectionRead:
    collection = await found(session, Collection, scope=scope, row_id=collection_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("slug") not in (None, collection.slug) and await repository.slug_taken(
        session, Collection, scope=scope, slug=changes["slug"], except_id=collection.id
    ):
        raise SlugTaken(f"A collection has the slug {changes['slug']}.")
    _apply(collection, changes)
    await session.flush()
    return collection_read(collection)


async def delete_collection(
    session: AsyncSession, *, scope: TenantScope, collection_id: uuid.UUID
) -> None:
    collection = await found(session, Collection, scope=scope, row_id=collection_id)
    await session.delete(collection)
    await session.flush()


async def read_collection(
    session: AsyncSession, *, scope: TenantScope, collection_id: uuid.UUID
) -> CollectionRead:
    return collection_read(await found(session, Collection, scope=scope, row_id=collection_id))


async def list_collections(session: AsyncSession, *, scope: TenantScope) -> list[CollectionRead]:
    await bind_tenant(session, scope)
    rows = await repository.list_all(session, Collection, scope=scope, order_by=Collection.name)
    return [collection_read(row) for row in rows]


# -- products and variants -------------------------------------------------------------------


async def _check_collections(
    session: AsyncSession, *, scope: TenantScope, collection_ids: list[uuid.UUID]
) -> None:
    existing = await repository.existing_ids(session, Collection, scope=scope, ids=collection_ids)
    missing = [str(i) for i in collection_ids if i not in existing]
    if missing:
        raise CommerceNotFound(f"No collection {', '.join(missing)} in this store.")


async def create_product(
    session: AsyncSession, *, scope: TenantScope, data: ProductCreate
) -> Product:
    await bind_tenant(session, scope)
    await found(session, ProductType, scope=scope, row_id=data.product_type_id)
    if data.category_id is not None:
        await found(session, Category, scope=scope, row_id=data.category_id)
    await _check_collections(session, scope=scope, collection_ids=data.collection_ids)
    if await repository.slug_taken(session, Product, scope=scope, slug=data.slug):
        raise SlugTaken(f"A product has the slug {data.slug}.")
    skus = [variant.sku for variant in data.variants]
    if len(set(skus)) != len(skus):
        raise SkuTaken("Each variant needs its own SKU.")
    product = Product(
        product_type_id=data.product_type_id,
        category_id=data.category_id,
        name=data.name,
        slug=data.slug,
        description_html=sanitise_html(data.description_html),
        seo_title=data.seo_title,
        seo_description=data.seo_description,
    )
    session.add(product)
    await session.flush()
    await repository.replace_collections(
        session, product_id=product.id, collection_ids=data.collection_ids
    )
    for variant in data.variants:
        await _add_variant(session, scope=scope, product=product, data=variant)
    await refresh_search_text(session, scope=scope, product=product)
    return product


async def update_product(
    session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID, data: ProductUpdate
) -> Product:
    product = await found(session, Product, scope=scope, row_id=product_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("category_id") is not None:
        await found(session, Category, scope=scope, row_id=changes["category_id"])
    if changes.get("slug") not in (None, product.slug) and await repository.slug_taken(
        session, Product, scope=scope, slug=changes["slug"], except_id=product.id
    ):
        raise SlugTaken(f"A product has the slug {changes['slug']}.")
    collection_ids = changes.pop("collection_ids", None)
    if collection_ids is not None:
        await _check_collections(session, scope=scope, collection_ids=collection_ids)
        await repository.replace_collections(
            session, product_id=product.id, collection_ids=collection_ids
        )
    _apply(product, changes)
    await refresh_search_text(session, scope=scope, product=product)
    return product


async def delete_product(
    session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID
) -> None:
    product = await found(session, Product, scope=scope, row_id=product_id)
    await session.delete(product)
    await session.flush()


async def refresh_search_text(
    session: AsyncSession, *, scope: TenantScope, product: Product
) -> None:
    await session.flush()
    skus = await repository.skus_of(session, scope=scope, product_id=product.id)
    product.search_text = search_text(
        name=product.name, skus=skus, description_html=product.description_html
    )
    await session.flush()


async def _add_variant(
    session: AsyncSession, *, scope: TenantScope, product: Product, data: VariantCreate
) -> Variant:
    if await repository.sku_taken(session, scope=scope, sku=data.sku):
        raise SkuTaken(f"The SKU {data.sku} is used by another variant.")
    definitions = await repository.attributes_of(
        session, scope=scope, product_type_ids=[product.product_type_id]
    )
    stored, texts = canonical_attributes(definitions[product.product_type_id], data.attributes)
    variant = Variant(
        product_id=product.id,
        sku=data.sku,
        name=data.name,
        attributes=stored,
        weight_grams=data.weight_grams,
        track_inventory=data.track_inventory,
        low_stock_threshold=data.low_stock_threshold,
    )
    session.add(variant)
    await session.flush()
    await repository.replace_attribute_values(session, variant=variant, values=texts)
    return variant


async def add_variant(
    session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID, data: VariantCreate
) -> Variant:
    product = await found(session, Product, scope=scope, row_id=product_id)
    variant = await _add_variant(session, scope=scope, product=product, data=data)
    await refresh_search_text(session, scope=scope, product=product)
    return variant


async def update_variant(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID, data: VariantUpdate
) -> Variant:
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    product = await found(session, Product, scope=scope, row_id=variant.product_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("sku") not in (None, variant.sku):
        if await repository.sku_taken(
            session, scope=scope, sku=changes["sku"], except_id=variant.id
        ):
            raise SkuTaken(f"The SKU {changes['sku']} is used by another variant.")
        variant.sku = changes["sku"]
    if changes.get("attributes") is not None:
        definitions = await repository.attributes_of(
            session, scope=scope, product_type_ids=[product.product_type_id]
        )
        stored, texts = canonical_attributes(
            definitions[product.product_type_id], changes["attributes"]
        )
        variant.attributes = stored
        await repository.replace_attribute_values(session, variant=variant, values=texts)
    for name in ("name", "track_inventory"):
        if changes.get(name) is not None:
            setattr(variant, name, changes[name])
    for name in ("weight_grams", "low_stock_threshold"):
        if name in changes:
            setattr(variant, name, changes[name])
    await refresh_search_text(session, scope=scope, product=product)
    return variant


async def delete_variant(
    session: AsyncSession, *, scope: TenantScope, variant_id: uuid.UUID
) -> uuid.UUID:
    variant = await found(session, Variant, scope=scope, row_id=variant_id)
    product = await found(session, Product, scope=scope, row_id=variant.product_id)
    await session.delete(variant)
    await refresh_search_text(session, scope=scope, product=product)
    return product.id
