"""Commerce's web pages: the public storefront at `/store/<slug>` (storefront.py), its cart and
checkout (cart.py), and the store's workspace pages at `/app/commerce/...` (workspace.py)."""

from __future__ import annotations

from fastapi import APIRouter

from bizosaas.commerce.web import cart, storefront, workspace

router = APIRouter()
router.include_router(storefront.router)
router.include_router(cart.router)
router.include_router(workspace.router)
NAV_LINKS = workspace.NAV_LINKS

__all__ = ["NAV_LINKS", "router"]
