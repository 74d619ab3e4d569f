"""The commerce staff API under /api/brain/commerce/: the catalogue, products, channels,
inventory and payments of the caller's store. Every route needs a
`commerce.<resource>:<action>` permission; the tenant is the verified credential's, and another
store's ids answer 404. The one exception is the Stripe webhook, which takes no login: its
signature, with the store's signing secret, is its credential (payments/webhooks.py)."""

from __future__ import annotations

from fastapi import APIRouter

from bizosaas.commerce.api import (
    catalog,
    images,
    inventory,
    orders,
    products,
    selling,
    storefront,
    transfer,
)
from bizosaas.commerce.payments import api as payments

router = APIRouter()
router.include_router(catalog.router)
router.include_router(products.router)
router.include_router(inventory.router)
router.include_router(selling.router)
router.include_router(orders.router)
router.include_router(storefront.router)
router.include_router(payments.router)
router.include_router(transfer.router)
router.include_router(images.router)
