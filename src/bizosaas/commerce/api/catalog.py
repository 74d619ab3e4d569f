"""Product types, categories and collections."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import (
    CategoryReader,
    CategoryWriter,
    CollectionReader,
    CollectionWriter,
    ProductReader,
    ProductWriter,
)
from bizosaas.commerce.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    CollectionCreate,
    CollectionRead,
    CollectionUpdate,
    ProductTypeCreate,
    ProductTypeRead,
    ProductTypeUpdate,
)
from bizosaas.commerce.service import catalog
from bizosaas.kit.auth import TenantReadSession, TenantSession, scope_of

router = APIRouter()

# -- product types ---------------------------------------------------------------------------


@router.get("/product-types", summary="Product types of my store", tags=["commerce: catalogue"])
async def list_product_types(
    principal: ProductReader, session: TenantReadSession
) -> list[ProductTypeRead]:
    return await catalog.list_product_types(session, scope=scope_of(principal))


@router.post(
    "/product-types",
    status_code=201,
    summary="Create a product type with its attributes",
    tags=["commerce: catalogue"],
    responses=errors(not_found=False, conflicts="`commerce.name_taken`"),
)
async def create_product_type(
    data: ProductTypeCreate, principal: ProductWriter, session: TenantSession
) -> ProductTypeRead:
    return await catalog.create_product_type(session, scope=scope_of(principal), data=data)


@router.get(
    "/product-types/{product_type_id}",
    summary="One product type",
    tags=["commerce: catalogue"],
    responses=errors(),
)
async def read_product_type(
    product_type_id: uuid.UUID, principal: ProductReader, session: TenantReadSession
) -> ProductTypeRead:
    return await catalog.read_product_type(
        session, scope=scope_of(principal), product_type_id=product_type_id
    )


@router.patch(
    "/product-types/{product_type_id}",
    summary="Rename a product type",
    tags=["commerce: catalogue"],
    responses=errors(conflicts="`commerce.name_taken`"),
)
async def update_product_type(
    product_type_id: uuid.UUID,
    data: ProductTypeUpdate,
    principal: ProductWriter,
    session: TenantSession,
) -> ProductTypeRead:
    return await catalog.update_product_type(
        session, scope=scope_of(principal), product_type_id=product_type_id, data=data
    )


@router.delete(
    "/product-types/{product_type_id}",
    status_code=204,
    summary="Delete a product type no product uses",
    tags=["commerce: catalogue"],
    responses=errors(conflicts="`commerce.in_use`"),
)
async def delete_product_type(
    product_type_id: uuid.UUID, principal: ProductWriter, session: TenantSession
) -> None:
    await catalog.delete_product_type(
        session, scope=scope_of(principal), product_type_id=product_type_id
    )


# -- categories ------------------------------------------------------------------------------


@router.get("/categories", summary="The category tree, flat", tags=["commerce: catalogue"])
async def list_categories(
    principal: CategoryReader, session: TenantReadSession
) -> list[CategoryRead]:
    return await catalog.list_categories(session, scope=scope_of(principal))


@router.post(
    "/categories",
    status_code=201,
    summary="Create a category",
    tags=["commerce: catalogue"],
    responses=errors(conflicts="`commerce.slug_taken`"),
)
async def create_category(
    data: CategoryCreate, principal: CategoryWriter, session: TenantSession
) -> CategoryRead:
    return await catalog.create_category(session, scope=scope_of(principal), data=data)


@router.get(
    "/categories/{category_id}",
    summary="One category",
    tags=["commerce: catalogue"],
    responses=errors(),
)
async def read_category(
    category_id: uuid.UUID, principal: CategoryReader, session: TenantReadSession
) -> CategoryRead:
    return await catalog.read_category(session, scope=scope_of(principal), category_id=category_id)


@router.patch(
    "/categories/{category_id}",
    summary="Change or move a category",
    tags=["commerce: catalogue"],
    responses=errors(conflicts="`commerce.slug_taken`, `commerce.category_cycle`"),
)
async def update_category(
    category_id: uuid.UUID, data: CategoryUpdate, principal: CategoryWriter, session: TenantSession
) -> CategoryRead:
    return await catalog.update_category(
        session, scope=scope_of(principal), category_id=category_id, data=data
    )


@router.delete(
    "/categories/{category_id}",
    status_code=204,
    summary="Delete an empty category",
    tags=["commerce: catalogue"],
    responses=errors(conflicts="`commerce.in_use`"),
)
async def delete_category(
    category_id: uuid.UUID, principal: CategoryWriter, session: TenantSession
) -> None:
    await catalog.delete_category(session, scope=scope_of(principal), category_id=category_id)


# -- collections -----------------------------------------------------------------------------


@router.get("/collections", summary="Collections of my store", tags=["commerce: catalogue"])
async def list_collections(
    principal: CollectionReader, session: TenantReadSession
) -> list[CollectionRead]:
    return await catalog.list_collections(session, scope=scope_of(principal))


@router.post(
    "/collections",
    status_code=201,
    summary="Create a collection",
    tags=["commerce: catalogue"],
    responses=errors(not_found=False, conflicts="`commerce.slug_taken`"),
)
async def create_collection(
    data: CollectionCreate, principal: CollectionWriter, session: TenantSession
) -> CollectionRead:
    return await catalog.create_collection(session, scope=scope_of(principal), data=data)


@router.get(
    "/collections/{collection_id}",
    summary="One collection",
    tags=["commerce: catalogue"],
    responses=errors(),
)
async def read_collection(
    collection_id: uuid.UUID, principal: CollectionReader, session: TenantReadSession
) -> CollectionRead:
    return await catalog.read_collection(
        session, scope=scope_of(principal), collection_id=collection_id
    )


@router.patch(
    "/collections/{collection_id}",
    summary="Change a collection",
    tags=["commerce: catalogue"],
    responses=errors(conflicts="`commerce.slug_taken`"),
)
async def update_collection(
    collection_id: uuid.UUID,
    data: CollectionUpdate,
    principal: CollectionWriter,
    session: TenantSession,
) -> CollectionRead:
    return await catalog.update_collection(
        session, scope=scope_of(principal), collection_id=collection_id, data=data
    )


@router.delete(
    "/collections/{collection_id}",
    status_code=204,
    summary="Delete a collection (its products stay)",
    tags=["commerce: catalogue"],
    responses=errors(),
)
async def delete_collection(
    collection_id: uuid.UUID, principal: CollectionWriter, session: TenantSession
) -> None:
    await catalog.delete_collection(session, scope=scope_of(principal), collection_id=collection_id)
