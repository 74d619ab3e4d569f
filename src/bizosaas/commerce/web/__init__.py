"""Commerce's web pages: the public storefront at `/store/<slug>` (storefront.py)."""

from __future__ import annotations

from bizosaas.commerce.web.storefront import router

__all__ = ["router"]
