"""Product images: upload, order, alt text, delete (staff), and the files themselves (public)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import ProductReader, ProductWriter
from bizosaas.commerce.exceptions import CommerceNotFound, ImageTooLarge
from bizosaas.commerce.schemas import ImageRead, ImageUpdate
from bizosaas.commerce.service import images
from bizosaas.kit.auth import TenantSession, scope_of
from bizosaas.kit.deps import AppSettings
from bizosaas.kit.images import CONTENT_TYPES
from bizosaas.kit.media import LocalMediaStore, MediaStore
from bizosaas.kit.text import SingleLine

router = APIRouter(tags=["commerce: images"])

MEDIA_FILE = re.compile(r"^(original\.(jpg|png|webp|gif)|(200|600)\.webp)$")
IMMUTABLE = "public, max-age=31536000, immutable"
"""A file at a URL never changes (a new upload gets a new id), so caches may keep it."""
IMAGE_ERRORS = errors(
    status_413="`commerce.image_too_large`: over the byte limit or the pixel limit",
    status_422="`commerce.invalid_image`: not a JPEG, PNG, WebP or GIF image Pillow can read",
)


async def media_store(settings: AppSettings) -> MediaStore:
    return LocalMediaStore(settings.effective_media_dir)


Media = Annotated[MediaStore, Depends(media_store)]


@router.post(
    "/products/{product_id}/images",
    status_code=201,
    summary="Upload a product image (thumbnails are made at 200 and 600 pixels)",
    responses=IMAGE_ERRORS,
)
async def upload_image(
    *,
    product_id: uuid.UUID,
    principal: ProductWriter,
    session: TenantSession,
    settings: AppSettings,
    store: Media,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or GIF.")],
    alt_text: Annotated[
        SingleLine, Form(max_length=300, description="What the image shows, for screen readers.")
    ] = "",
) -> ImageRead:
    limit = settings.media_max_upload_bytes
    if file.size is not None and file.size > limit:
        raise ImageTooLarge(f"The file is over {limit:,} bytes.")
    data = await file.read(limit + 1)
    return await images.add_image(
        session,
        scope=scope_of(principal),
        store=store,
        product_id=product_id,
        data=data,
        alt_text=alt_text,
        max_bytes=limit,
        max_pixels=settings.media_max_pixels,
    )


@router.get(
    "/products/{product_id}/images", summary="A product's images, in order", responses=errors()
)
async def list_images(
    product_id: uuid.UUID, principal: ProductReader, session: TenantSession
) -> list[ImageRead]:
    return await images.list_images(session, scope=scope_of(principal), product_id=product_id)


@router.patch(
    "/images/{image_id}", summary="Change an image's alt text or place", responses=errors()
)
async def update_image(
    image_id: uuid.UUID, data: ImageUpdate, principal: ProductWriter, session: TenantSession
) -> ImageRead:
    return await images.update_image(
        session, scope=scope_of(principal), image_id=image_id, data=data
    )


@router.delete(
    "/images/{image_id}",
    status_code=204,
    summary="Delete an image and its thumbnails",
    responses=errors(),
)
async def delete_image(
    image_id: uuid.UUID, principal: ProductWriter, session: TenantSession, store: Media
) -> None:
    await images.delete_image(session, scope=scope_of(principal), store=store, image_id=image_id)


@router.get(
    "/media/{tenant_id}/{image_id}/{name}",
    summary="An image file or thumbnail (public, cached for a year)",
    response_class=Response,
    responses={
        200: {"content": {"image/webp": {}, "image/jpeg": {}, "image/png": {}, "image/gif": {}}},
        304: {"description": "The cached copy (`If-None-Match`) is current."},
        **errors(),
    },
)
async def media_file(
    tenant_id: uuid.UUID, image_id: uuid.UUID, name: str, request: Request, store: Media
) -> Response:
    """Public on purpose: storefront pages and feeds show these images to anyone. The path is
    the stored key itself (two UUIDs and a fixed file name), so nothing a client sends reaches
    the store but those; a deleted image's files are gone and answer 404."""
    if not MEDIA_FILE.match(name):
        raise CommerceNotFound("No such image file.")
    data = await store.get(f"{images.folder(tenant_id, image_id)}/{name}")
    if data is None:
        raise CommerceNotFound("No such image file.")
    etag = f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    extension = name.rsplit(".", 1)[1]
    return Response(content=data, media_type=CONTENT_TYPES[extension], headers=headers)
