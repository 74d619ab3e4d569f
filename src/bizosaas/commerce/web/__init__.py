"""Commerce's web pages: the public storefront at `/store/<slug>` (storefront.py), its cart and
checkout (cart.py), and the store's workspace pages at `/app/commerce/...` (workspace.py:
products and inventory; orders.py; discounts.py; payment_settings.py; channels.py)."""

from __future__ import annotations

from fastapi import APIRouter

from bizosaas.commerce.web import (
    cart,
    channels,
    discounts,
    orders,
    payment_settings,
    storefront,
    workspace,
)

router = APIRouter()
router.include_router(storefront.router)
router.include_router(cart.router)
router.include_router(workspace.router)
router.include_router(orders.router)
router.include_router(discounts.router)
router.include_router(payment_settings.router)
router.include_router(channels.router)
NAV_LINKS = (
    *workspace.NAV_LINKS,
    orders.NAV_LINK,
    discounts.NAV_LINK,
    payment_settings.NAV_LINK,
    channels.NAV_LINK,
)

__all__ = ["NAV_LINKS", "router"]
