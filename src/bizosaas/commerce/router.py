"""The commerce staff API under /api/brain/commerce/: the catalogue, products, channels and
inventory of the caller's store. Every route needs a `commerce.<resource>:<action>`
permission; the tenant is the verified credential's, and another store's ids answer 404."""

from __future__ import annotations

from fastapi import APIRouter

from bizosaas.commerce.api import catalog, images, inventory, products, transfer

router = APIRouter()
router.include_router(catalog.router)
router.include_router(products.router)
router.include_router(inventory.router)
router.include_router(transfer.router)
router.include_router(images.router)
