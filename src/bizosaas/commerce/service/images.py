"""Product images: upload (checked, thumbnails made), order, alt text, delete.

The files go to a `MediaStore` (kit/media.py) under `commerce/<tenant>/<image id>/`; the
table keeps their order and text. Files are written before the row and removed after it, so a
row never names a missing file (a failed request may leave an unreferenced file behind, which
nothing serves by a known id).
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.exceptions import CommerceNotFound, ImageTooLarge, InvalidImage
from bizosaas.commerce.models import Product, ProductImage
from bizosaas.commerce.schemas import ImageRead, ImageUpdate
from bizosaas.commerce.service.catalog import found
from bizosaas.kit.ids import uuid7
from bizosaas.kit.images import CONTENT_TYPES, THUMBNAIL_SIZES, ImageRefused, check_image
from bizosaas.kit.media import MediaStore
from bizosaas.kit.tenancy import TenantScope, bind_tenant

MEDIA_ROUTE = "/api/brain/commerce/media"
"""Where the gateway serves the files (api/images.py), publicly."""


def folder(tenant_id: uuid.UUID, image_id: uuid.UUID) -> str:
    return f"commerce/{tenant_id}/{image_id}"


def image_read(image: ProductImage) -> ImageRead:
    base = f"{MEDIA_ROUTE}/{image.tenant_id}/{image.id}"
    return ImageRead(
        id=image.id,
        product_id=image.product_id,
        position=image.position,
        alt_text=image.alt_text,
        width=image.width,
        height=image.height,
        byte_size=image.byte_size,
        url=f"{base}/original.{image.extension}",
        thumbnails={str(size): f"{base}/{size}.webp" for size in THUMBNAIL_SIZES},
    )


async def add_image(
    session: AsyncSession,
    *,
    scope: TenantScope,
    store: MediaStore,
    product_id: uuid.UUID,
    data: bytes,
    alt_text: str = "",
    max_bytes: int,
    max_pixels: int,
) -> ImageRead:
    """Check the upload, store it with its thumbnails and add it after the product's other
    images. `commerce.invalid_image` for a file that is not an accepted image;
    `commerce.image_too_large` over the byte or pixel limit (before decoding)."""
    product = await found(session, Product, scope=scope, row_id=product_id)
    try:
        checked = await asyncio.to_thread(
            check_image, data, max_bytes=max_bytes, max_pixels=max_pixels
        )
    except ImageRefused as refused:
        raise (ImageTooLarge if refused.too_large else InvalidImage)(str(refused)) from refused
    existing = await repository.images_of(session, scope=scope, product_id=product.id)
    image = ProductImage(
        id=uuid7(),
        product_id=product.id,
        position=len(existing),
        alt_text=alt_text,
        extension=checked.extension,
        width=checked.width,
        height=checked.height,
        byte_size=len(checked.data),
    )
    base = folder(scope.tenant_id, image.id)
    await store.put(
        f"{base}/original.{checked.extension}",
        checked.data,
        content_type=CONTENT_TYPES[checked.extension],
    )
    for size, thumbnail in checked.thumbnails.items():
        await store.put(f"{base}/{size}.webp", thumbnail, content_type="image/webp")
    session.add(image)
    await session.flush()
    return image_read(image)


async def list_images(
    session: AsyncSession, *, scope: TenantScope, product_id: uuid.UUID
) -> list[ImageRead]:
    product = await found(session, Product, scope=scope, row_id=product_id)
    return [
        image_read(image)
        for image in await repository.images_of(session, scope=scope, product_id=product.id)
    ]


async def _image(session: AsyncSession, *, scope: TenantScope, image_id: uuid.UUID) -> ProductImage:
    await bind_tenant(session, scope)
    image = await repository.image(session, scope=scope, image_id=image_id)
    if image is None:
        raise CommerceNotFound(f"No image {image_id} in this store.")
    return image


async def update_image(
    session: AsyncSession, *, scope: TenantScope, image_id: uuid.UUID, data: ImageUpdate
) -> ImageRead:
    """Change the alt text, or move the image to another place (the others close up)."""
    image = await _image(session, scope=scope, image_id=image_id)
    if data.alt_text is not None:
        image.alt_text = data.alt_text
    if data.position is not None:
        siblings = [
            other
            for other in await repository.images_of(
                session, scope=scope, product_id=image.product_id
            )
            if other.id != image.id
        ]
        siblings.insert(min(data.position, len(siblings)), image)
        _renumber(siblings)
    await session.flush()
    return image_read(image)


async def delete_image(
    session: AsyncSession, *, scope: TenantScope, store: MediaStore, image_id: uuid.UUID
) -> None:
    image = await _image(session, scope=scope, image_id=image_id)
    await session.delete(image)
    await session.flush()
    _renumber(await repository.images_of(session, scope=scope, product_id=image.product_id))
    await session.flush()
    await store.delete_prefix(folder(scope.tenant_id, image.id))


def _renumber(images: list[ProductImage]) -> None:
    for position, image in enumerate(images):
        image.position = position
